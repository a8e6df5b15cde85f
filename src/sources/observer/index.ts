import type { SourcePlugin } from '../source.js';
import { ObserverSource } from './observer-source.js';
import { observerSourceConfigSchema } from './source-config.js';

export { ObserverClient } from './observer-client.js';
export { ObserverAdminClient } from './observer-admin-client.js';
export { DataFrame } from './data-frame.js';
export { ObserverError } from './observer-errors.js';
export { ObserverSource } from './observer-source.js';
export { observerSourceConfigSchema, type ObserverSourceConfig } from './source-config.js';

/** `type: observer` — WebRTC call monitoring from the Observer service. */
export const observerSource: SourcePlugin<typeof observerSourceConfigSchema> = {
  type: 'observer',
  configSchema: observerSourceConfigSchema,
  create: (config, ctx) => new ObserverSource(config, ctx),
};

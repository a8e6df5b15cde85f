import type { ConnectorPlugin } from '../connector.js';
import { moduleConfigSchema } from './config.js';
import { loadModuleConnector } from './module-connector.js';

export { moduleConfigSchema } from './config.js';

/** `type: module`: a user's own connector, loaded from `path` relative to the config file. */
export const moduleConnector: ConnectorPlugin<typeof moduleConfigSchema> = {
  type: 'module',
  configSchema: moduleConfigSchema,
  create: (config, ctx) => loadModuleConnector(config, ctx),
};

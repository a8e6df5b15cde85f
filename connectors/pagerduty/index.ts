import type { ConnectorPlugin } from '../connector.js';
import { pagerdutyConfigSchema } from './config.js';
import { PagerdutyConnector } from './pagerduty-connector.js';

export { pagerdutyConfigSchema } from './config.js';
export type { PagerdutyPayload } from './pagerduty-connector.js';

/** `type: pagerduty`: Events API v2 alerts with dedup keys, over plain fetch. */
export const pagerdutyConnector: ConnectorPlugin<typeof pagerdutyConfigSchema> = {
  type: 'pagerduty',
  configSchema: pagerdutyConfigSchema,
  create: (config, ctx) => new PagerdutyConnector(config, ctx),
};

import type { ConnectorPlugin } from '../connector.js';
import { slackConfigSchema } from './config.js';

export { slackConfigSchema } from './config.js';
export type { SlackPayload } from './slack-connector.js';

/** `type: slack`: chat.postMessage through @slack/web-api, 1 message/s by default, optional threads. */
export const slackConnector: ConnectorPlugin<typeof slackConfigSchema> = {
  type: 'slack',
  configSchema: slackConfigSchema,
  // @slack/web-api loads with the first slack connector, not with every command.
  create: async (config, ctx) => new (await import('./slack-connector.js')).SlackConnector(config, ctx),
  probe: async (config, ctx) => (await import('./auth-probe.js')).probeSlackAuth(config, ctx),
};

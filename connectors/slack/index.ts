import type { ConnectorPlugin } from '../connector.js';
import { slackConfigSchema } from './config.js';
import { SlackConnector } from './slack-connector.js';

export { slackConfigSchema } from './config.js';
export type { SlackPayload } from './slack-connector.js';

/** `type: slack`: chat.postMessage through @slack/web-api, 1 message/s by default, optional threads. */
export const slackConnector: ConnectorPlugin<typeof slackConfigSchema> = {
  type: 'slack',
  configSchema: slackConfigSchema,
  create: (config, ctx) => new SlackConnector(config, ctx),
};

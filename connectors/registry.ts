import type { ConnectorPlugin } from './connector.js';
import { slackConnector } from './slack/index.js';
import { pagerdutyConnector } from './pagerduty/index.js';
import { webhookConnector } from './webhook/index.js';
import { moduleConnector } from './module/index.js';
import { sheetsConnector } from './sheets/index.js';
import { kinesisConnector } from './kinesis/index.js';

/** Every built-in connector type, by `type`. One line per connector; `type: module` loads a user's own. */
export const connectorPlugins: ReadonlyMap<string, ConnectorPlugin> = new Map<string, ConnectorPlugin>([
  [slackConnector.type, slackConnector],
  [pagerdutyConnector.type, pagerdutyConnector],
  [webhookConnector.type, webhookConnector],
  [moduleConnector.type, moduleConnector],
  [sheetsConnector.type, sheetsConnector],
  [kinesisConnector.type, kinesisConnector],
]);

import type { ConnectorPlugin } from '../connector.js';
import { webhookConfigSchema } from './config.js';
import { probeWebhookTarget, webhookConfigProblems } from './private-target.js';
import { WebhookConnector } from './webhook-connector.js';

export { webhookConfigSchema } from './config.js';
export type { WebhookPayload } from './webhook-connector.js';

/** `type: webhook`: JSON over HTTP, Standard Webhooks signatures, SSRF guard. */
export const webhookConnector: ConnectorPlugin<typeof webhookConfigSchema> = {
  type: 'webhook',
  configSchema: webhookConfigSchema,
  create: (config, ctx) => new WebhookConnector(config, ctx),
  configProblems: webhookConfigProblems,
  probe: probeWebhookTarget,
};

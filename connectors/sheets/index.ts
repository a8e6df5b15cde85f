import type { ConnectorPlugin } from '../connector.js';
import { sheetsConfigSchema } from './config.js';
import { SheetsConnector } from './sheets-connector.js';

export { sheetsConfigSchema, type SheetsConfig } from './config.js';
export { SheetsConnector, type SheetsPayload } from './sheets-connector.js';

/** Google Sheets: batched appends, idempotent upserts by key. */
export const sheetsConnector: ConnectorPlugin<typeof sheetsConfigSchema> = {
  type: 'sheets',
  configSchema: sheetsConfigSchema,
  create: (config, ctx) => new SheetsConnector(config, ctx),
};

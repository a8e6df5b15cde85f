import type { ConnectorPlugin } from '../connector.js';
import { sheetsConfigSchema } from './config.js';

export { sheetsConfigSchema, type SheetsConfig } from './config.js';
export type { SheetsConnector, SheetsPayload } from './sheets-connector.js';

/** Google Sheets: batched appends, idempotent upserts by key. */
export const sheetsConnector: ConnectorPlugin<typeof sheetsConfigSchema> = {
  type: 'sheets',
  configSchema: sheetsConfigSchema,
  // The Google client loads with the first sheets connector, not with every command.
  create: async (config, ctx) => new (await import('./sheets-connector.js')).SheetsConnector(config, ctx),
  probe: async (config, ctx) => (await import('./token-probe.js')).probeSheetsToken(config, ctx),
};

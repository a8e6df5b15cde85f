import type { ConnectorPlugin } from '../connector.js';
import { kinesisConfigSchema } from './config.js';

export { kinesisConfigSchema, type KinesisConfig } from './config.js';
export type { KinesisConnector, KinesisPayload } from './kinesis-connector.js';
export { deterministicUuid, type LkDispatchEnvelope } from './lk-dispatch-envelope.js';

/** Amazon Kinesis Data Streams: lk-dispatch envelopes, batched PutRecords. */
export const kinesisConnector: ConnectorPlugin<typeof kinesisConfigSchema> = {
  type: 'kinesis',
  configSchema: kinesisConfigSchema,
  // The AWS SDK loads with the first kinesis connector, not with every command.
  create: async (config, ctx) => new (await import('./kinesis-connector.js')).KinesisConnector(config, ctx),
  probe: async (config, ctx) => (await import('./stream-probe.js')).probeKinesisStream(config, ctx),
};

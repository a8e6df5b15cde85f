import type { ConnectorPlugin } from '../connector.js';
import { kinesisConfigSchema } from './config.js';
import { KinesisConnector } from './kinesis-connector.js';

export { kinesisConfigSchema, type KinesisConfig } from './config.js';
export { KinesisConnector, type KinesisPayload } from './kinesis-connector.js';
export { deterministicUuid, type LkDispatchEnvelope } from './lk-dispatch-envelope.js';

/** Amazon Kinesis Data Streams: lk-dispatch envelopes, batched PutRecords. */
export const kinesisConnector: ConnectorPlugin<typeof kinesisConfigSchema> = {
  type: 'kinesis',
  configSchema: kinesisConfigSchema,
  create: (config, ctx) => new KinesisConnector(config, ctx),
};

import { hostname } from 'node:os';
import { z } from 'zod';
import { durationMsField } from '../../src/core/duration-field.js';
import { secretString } from '../../src/core/secret-field.js';

/** Static AWS credentials; without them the default AWS chain (env, profile, SSO, IMDS/ECS) is used. */
const awsCredentialsSchema = z
  .object({
    accessKeyId: secretString('AWS access key id'),
    secretAccessKey: secretString('AWS secret access key'),
    sessionToken: secretString('AWS session token for temporary credentials').optional(),
  })
  .strict();

/**
 * Kinesis connector config: every delivery becomes one lk-dispatch envelope record,
 * `{ id, type, data, timestamp, source: { userId, producerId, kinesisPartitionKey } }`,
 * sent with PutRecords (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html).
 */
export const kinesisConfigSchema = z
  .object({
    type: z.literal('kinesis').describe('Connector type.'),
    stream: z.string().min(1).describe('Stream name, or its ARN (arn:aws:kinesis:…:stream/NAME).'),
    region: z.string().min(1).optional().describe('AWS region; unset: the default AWS chain (AWS_REGION, profile).'),
    endpoint: z.url().optional().describe('Endpoint URL (VPC endpoints, LocalStack, kinesalite); http:// endpoints are spoken over HTTP/1.1.'),
    credentials: awsCredentialsSchema.optional().describe('Static credentials; unset: the default AWS credential chain.'),
    producerId: z
      .string()
      .min(1)
      .default(`moments-bridge@${hostname()}`)
      .describe('source.producerId of every envelope: who produced the record. @defaultValue moments-bridge@<hostname>'),
    eventType: z.string().min(1).default('{{ kind }}').describe('Template for the envelope `type`, e.g. moment.created. @defaultValue {{ kind }}'),
    data: z.unknown().optional().describe('Template for the envelope `data` (object/array/string whose strings are templates); unset: the event data as is.'),
    userId: z.string().optional().describe('Template for source.userId; unset or rendering empty: null.'),
    partitionKey: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Template for the record PartitionKey (also source.kinesisPartitionKey), e.g. "{{ data.athleteId }}" keeps an athlete\'s records in order on one shard; unset: a random UUID per record, as lk-dispatch does.',
      ),
    maxRecordsPerCall: z.number().int().min(1).max(500).default(500).describe('Records per PutRecords call (Kinesis allows 500). @defaultValue 500'),
    throttleRetryAfter: durationMsField(
      'Delay before resending records refused with ProvisionedThroughputExceededException (a shard takes 1,000 records/s and 1 MiB/s)',
      '1s',
    ),
  })
  .strict();

export type KinesisConfig = z.output<typeof kinesisConfigSchema>;

/** Keys a route may override per target; each replaces the connector's own. */
export const kinesisOverridesSchema = z
  .strictObject({
    eventType: z.string().optional().describe('Template for the envelope `type` for this route.'),
    data: z.unknown().optional().describe('Template for the envelope `data` for this route.'),
    userId: z.string().optional().describe('Template for source.userId for this route.'),
    partitionKey: z.string().optional().describe('Template for the record PartitionKey for this route.'),
  })
  .describe('Per-route overrides of a Kinesis connector.');

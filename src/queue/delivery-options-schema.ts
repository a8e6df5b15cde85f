import { z } from 'zod';
import { durationMsField } from '../core/duration-field.js';
import { MAX_PARTITIONS } from './partitions.js';

/**
 * Delivery options every connector accepts next to its own fields (shared option group, declared once).
 * The queue owns them (queue-options.ts resolves them): bridge defaults, then the connector's
 * `defaults` (`QueueDefaults` in connectors/connector.ts, the same fields), then user config on top.
 */
export const deliveryOptionsSchema = z.object({
  concurrency: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Deliveries in flight at once for this connector, per process and per partition. @defaultValue 10'),
  rateLimit: z
    .object({
      max: z.number().int().positive().describe('Deliveries allowed per `duration`.'),
      duration: durationMsField('Window of the rate limit'),
      perPartition: z
        .boolean()
        .optional()
        .describe(
          'Apply `max` per `duration` to each partition instead of to the whole connector (e.g. Slack partitioned by channel: 1 message/s per partition). @defaultValue false',
        ),
    })
    .strict()
    .optional()
    .describe(
      'At most `max` deliveries per `duration`, connector-wide across replicas; with `partitions: N` each partition gets 1/N of it (docs/operations.md, Partitioned connector queues) unless `perPartition`.',
    ),
  partitions: z
    .number()
    .int()
    .min(1)
    .max(MAX_PARTITIONS)
    .optional()
    .describe(
      `Queues this connector's deliveries spread over, by a stable hash of the connector's partition key (Slack channel, PagerDuty dedup key, Kinesis partition key, Sheets tab, else the event id), so one busy sink spans Redis Cluster masters; same key, same queue. 1 … ${MAX_PARTITIONS}. @defaultValue 1`,
    ),
  retry: z
    .object({
      maxAttempts: z.number().int().positive().optional().describe('Attempts before dead-lettering. @defaultValue 8'),
      backoff: durationMsField('Base delay of the exponential backoff (full jitter). @defaultValue 1s').optional(),
      maxBackoff: durationMsField('Cap of one backoff delay. @defaultValue 5m').optional(),
      maxAge: durationMsField('Give up (dead-letter) when a delivery is older than this. @defaultValue 24h').optional(),
    })
    .strict()
    .optional()
    .describe('Retry policy for retryable failures.'),
  timeout: durationMsField('Timeout of one attempt. @defaultValue 30s').optional(),
  batch: z
    .object({
      maxSize: z.number().int().positive().optional().describe('Most deliveries in one batch call.'),
      window: durationMsField('How long to wait to fill a batch').optional(),
    })
    .strict()
    .optional()
    .describe('Batching, for connectors that implement deliverBatch.'),
});
export type DeliveryOptionsInput = z.input<typeof deliveryOptionsSchema>;

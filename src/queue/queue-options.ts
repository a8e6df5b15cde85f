import type { Connector } from '../../connectors/connector.js';
import { deliveryOptionsSchema, type DeliveryOptionsInput } from './delivery-options-schema.js';
import { parseDuration } from '../core/duration.js';
import type { RetryPolicy } from './backoff.js';

/** Delivery options of one connector after defaults, in milliseconds. */
export interface ResolvedDeliveryOptions {
  concurrency: number;
  /** The configured limit; each partition's worker gets its share (partitions.ts `partitionRateLimit`) unless `perPartition`. */
  rateLimit?: { max: number; durationMs: number; perPartition?: boolean };
  /** Queues the connector's deliveries spread over. */
  partitions: number;
  retry: RetryPolicy;
  timeoutMs: number;
  /** Set only when the connector implements `deliverBatch`. */
  batch?: { maxSize: number; windowMs: number };
}

/** The bridge's defaults (documented on `deliveryOptionsSchema`). */
export const DEFAULT_DELIVERY_OPTIONS = {
  concurrency: 10,
  partitions: 1,
  retry: { maxAttempts: 8, backoff: '1s', maxBackoff: '5m', maxAge: '24h' },
  timeout: '30s',
  batch: { maxSize: 50, window: '100ms' },
} as const satisfies DeliveryOptionsInput;

function merge(...layers: (DeliveryOptionsInput | undefined)[]): DeliveryOptionsInput {
  const out: DeliveryOptionsInput = {};
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.concurrency !== undefined) out.concurrency = layer.concurrency;
    if (layer.partitions !== undefined) out.partitions = layer.partitions;
    if (layer.timeout !== undefined) out.timeout = layer.timeout;
    // A rate limit is one unit: a user's { max, duration } replaces the connector's whole.
    if (layer.rateLimit !== undefined) out.rateLimit = layer.rateLimit;
    // Field by field (spreading an absent layer adds nothing).
    out.retry = { ...out.retry, ...layer.retry };
    out.batch = { ...out.batch, ...layer.batch };
  }
  return out;
}

/**
 * Resolves a connector's queue options: bridge defaults < `connector.defaults` < user config.
 * The user's part is validated here too, so a bad value names the connector.
 */
export function resolveDeliveryOptions(connector: Pick<Connector, 'defaults' | 'deliverBatch'>, user: DeliveryOptionsInput = {}): ResolvedDeliveryOptions {
  const parsedUser = deliveryOptionsSchema.parse(user);
  const m = merge(DEFAULT_DELIVERY_OPTIONS, connector.defaults, parsedUser);
  const retry = m.retry ?? {};
  const resolved: ResolvedDeliveryOptions = {
    concurrency: m.concurrency ?? DEFAULT_DELIVERY_OPTIONS.concurrency,
    partitions: m.partitions ?? DEFAULT_DELIVERY_OPTIONS.partitions,
    retry: {
      maxAttempts: retry.maxAttempts ?? DEFAULT_DELIVERY_OPTIONS.retry.maxAttempts,
      backoffMs: parseDuration(retry.backoff ?? DEFAULT_DELIVERY_OPTIONS.retry.backoff),
      maxBackoffMs: parseDuration(retry.maxBackoff ?? DEFAULT_DELIVERY_OPTIONS.retry.maxBackoff),
      maxAgeMs: parseDuration(retry.maxAge ?? DEFAULT_DELIVERY_OPTIONS.retry.maxAge),
    },
    timeoutMs: parseDuration(m.timeout ?? DEFAULT_DELIVERY_OPTIONS.timeout),
  };
  if (m.rateLimit)
    resolved.rateLimit = {
      max: m.rateLimit.max,
      durationMs: parseDuration(m.rateLimit.duration),
      ...(m.rateLimit.perPartition ? { perPartition: true } : {}),
    };
  if (connector.deliverBatch) {
    resolved.batch = {
      maxSize: m.batch?.maxSize ?? DEFAULT_DELIVERY_OPTIONS.batch.maxSize,
      windowMs: parseDuration(m.batch?.window ?? DEFAULT_DELIVERY_OPTIONS.batch.window),
    };
  }
  return resolved;
}

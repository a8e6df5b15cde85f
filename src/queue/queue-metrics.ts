import { counter, gauge, histogram } from '../core/metrics.js';

/**
 * The queue layer's metrics, labelled by connector (one queue per connector); the outcome of each
 * delivery is also counted per route (routes and connectors come from the config: bounded).
 */
export const queueMetrics = {
  enqueued: counter('mb_queue_jobs_enqueued_total', 'Deliveries added to a connector queue.', ['connector']),
  duplicates: counter(
    'mb_queue_jobs_duplicate_total',
    'Deliveries not added because the same (event, route, connector) was already queued within the dedup TTL.',
    ['connector'],
  ),
  rejected: counter('mb_queue_jobs_rejected_total', 'Deliveries refused at enqueue (payload too large, unknown connector).', ['connector', 'reason']),
  completed: counter('mb_queue_jobs_completed_total', 'Deliveries the sink acknowledged.', ['connector']),
  failed: counter('mb_queue_attempts_failed_total', 'Failed delivery attempts, by outcome (retry, rate-limited, timeout, permanent, gave-up).', [
    'connector',
    'outcome',
  ]),
  retried: counter('mb_queue_jobs_retried_total', 'Deliveries scheduled for another attempt with backoff.', ['connector']),
  rateLimited: counter('mb_queue_jobs_rate_limited_total', 'Deliveries delayed by a sink Retry-After (no attempt spent; the whole queue pauses).', [
    'connector',
  ]),
  deadLettered: counter('mb_queue_jobs_dead_lettered_total', 'Deliveries moved to the dead letters.', ['connector']),
  routeDelivered: counter('mb_route_delivered_total', 'Deliveries of a route that the sink acknowledged.', ['route', 'connector']),
  routeFailed: counter(
    'mb_route_failed_total',
    'Deliveries of a route that ended in the dead letters (permanent failure, retries or maxAge exhausted, refused at enqueue, or stalled too often).',
    ['route', 'connector'],
  ),
  latency: histogram(
    'mb_delivery_latency_seconds',
    'Event time to sink acknowledgement.',
    ['connector'],
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  ),
  depth: gauge(
    'mb_queue_depth',
    "Jobs per connector and state, summed over the connector's partition queues (updated when depth() is read, e.g. on /metrics).",
    ['connector', 'state'],
  ),
  partitions: gauge(
    'mb_queue_partitions',
    'Partition queues this process serves for a connector: `partitions`, plus left-over ones found in Redis beyond it (updated with mb_queue_depth).',
    ['connector'],
  ),
  partitionWaitingMax: gauge(
    'mb_queue_partition_waiting_max',
    'Waiting jobs in the connector\'s fullest partition queue: near mb_queue_depth{state="waiting"} / partitions when keys spread evenly, near the total when one key is hot (updated with mb_queue_depth).',
    ['connector'],
  ),
};

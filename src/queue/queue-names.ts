/**
 * One BullMQ queue per connector partition, so concurrency and rate limits are per sink.
 * BullMQ keys look like `<prefix>:<queue name>:<suffix>`. With Redis Cluster every key of one queue
 * must hash to one slot (BullMQ's Lua scripts touch several), so the queue name is wrapped in a
 * hash tag `{…}`; each queue still lands on its own slot, spreading sinks (and the partitions of
 * one sink) over the cluster.
 *
 * Partition 0 is named exactly as a connector's only queue always was (`delivery.<name>`), so
 * `partitions: 1` (the default) and an upgrade find the queue they had; partition k ≥ 1 is
 * `delivery.<name>@k`. `@` cannot be part of an encoded connector name (encodeURIComponent turns
 * it into `%40`), so the name reads back without ambiguity.
 */
const QUEUE_BASE = 'delivery.';
const PARTITION_SEPARATOR = '@';

export interface QueueNameOptions {
  /** `redis.cluster` is set: wrap the name in a hash tag. @defaultValue false */
  cluster?: boolean;
  /** The connector's partition (0 … partitions − 1). @defaultValue 0 */
  partition?: number;
}

export function queueName(connector: string, options: QueueNameOptions = {}): string {
  // BullMQ rejects ':' in queue names, and braces would break the hash tag: percent-encode.
  const partition = options.partition ?? 0;
  const name = `${QUEUE_BASE}${encodeURIComponent(connector)}${partition === 0 ? '' : `${PARTITION_SEPARATOR}${partition}`}`;
  return options.cluster ? `{${name}}` : name;
}

/** The connector and partition of a queue name made by {@link queueName}, or undefined for other queues. */
export function parseQueueName(name: string): { connector: string; partition: number } | undefined {
  const bare = name.startsWith('{') && name.endsWith('}') ? name.slice(1, -1) : name;
  if (!bare.startsWith(QUEUE_BASE)) return undefined;
  const rest = bare.slice(QUEUE_BASE.length);
  const at = rest.lastIndexOf(PARTITION_SEPARATOR);
  let partition = 0;
  if (at >= 0) {
    const digits = rest.slice(at + 1);
    if (!/^[1-9][0-9]*$/.test(digits)) return undefined;
    partition = Number(digits);
  }
  try {
    return { connector: decodeURIComponent(at >= 0 ? rest.slice(0, at) : rest), partition };
  } catch {
    return undefined;
  }
}

/** The connector name of a queue name made by {@link queueName} (any partition), or undefined for other queues. */
export function connectorOfQueue(name: string): string | undefined {
  return parseQueueName(name)?.connector;
}

/** SCAN pattern matching the meta key of every delivery queue (every partition) under `prefix`. */
export function queueMetaPattern(prefix: string): string {
  return `${prefix}:*${QUEUE_BASE}*:meta`;
}

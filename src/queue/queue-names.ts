/**
 * One BullMQ queue per connector instance, so concurrency and rate limits are per sink.
 * BullMQ keys look like `<prefix>:<queue name>:<suffix>`. With Redis Cluster every key of one queue
 * must hash to one slot (BullMQ's Lua scripts touch several), so the queue name is wrapped in a
 * hash tag `{…}`; each connector's queue still lands on its own slot, spreading sinks over the cluster.
 */
const QUEUE_BASE = 'delivery.';

export interface QueueNameOptions {
  /** `redis.cluster` is set: wrap the name in a hash tag. @defaultValue false */
  cluster?: boolean;
}

export function queueName(connector: string, options: QueueNameOptions = {}): string {
  // BullMQ rejects ':' in queue names, and braces would break the hash tag: percent-encode.
  const name = `${QUEUE_BASE}${encodeURIComponent(connector)}`;
  return options.cluster ? `{${name}}` : name;
}

/** The connector name of a queue name made by {@link queueName}, or undefined for other queues. */
export function connectorOfQueue(name: string): string | undefined {
  const bare = name.startsWith('{') && name.endsWith('}') ? name.slice(1, -1) : name;
  if (!bare.startsWith(QUEUE_BASE)) return undefined;
  try {
    return decodeURIComponent(bare.slice(QUEUE_BASE.length));
  } catch {
    return undefined;
  }
}

/** SCAN pattern matching the meta key of every delivery queue under `prefix`. */
export function queueMetaPattern(prefix: string): string {
  return `${prefix}:*${QUEUE_BASE}*:meta`;
}

import type { RedisClient } from '../redis/redis-client.js';
import type { Logger } from '../core/log.js';
import { RateLimitedLog } from '../core/log-rate-limit.js';
import { counter } from '../core/metrics.js';
import { identifiedSnapshot } from '../core/safe-snapshot.js';
import type { QuarantinedItem } from '../sources/source.js';

/** Upstream objects and set-aside items quarantined, by source and kind. */
export const quarantinedCounter = counter('mb_events_quarantined_total', 'Upstream objects that failed validation and were quarantined', ['source', 'kind']);

/** Most recent quarantined items kept in Redis (older ones are trimmed; the counter keeps counting). */
export const QUARANTINE_CAP = 10_000;

export function quarantineKey(keyPrefix: string): string {
  return `${keyPrefix}quarantine`;
}

/** One rate limiter per logger (each source has its own child logger), so a flood from one source does not silence another. */
const limiters = new WeakMap<Logger, RateLimitedLog>();

function limited(logger: Logger): RateLimitedLog {
  let l = limiters.get(logger);
  if (!l) limiters.set(logger, (l = new RateLimitedLog(logger)));
  return l;
}

/**
 * Keeps an invalid upstream object with the reason, in a capped Redis list, and counts it.
 * Never throws: a quarantine that cannot be written is logged with the object instead.
 * Its log lines are rate-limited per source and kind (a stream of bad frames must not flood the
 * log); the counter and the Redis list still see every item.
 */
export async function quarantine(redis: RedisClient, keyPrefix: string, logger: Logger, item: QuarantinedItem): Promise<void> {
  quarantinedCounter.inc({ source: item.source, kind: item.kind });
  const at = new Date().toISOString();
  let entry: string;
  try {
    entry = JSON.stringify({ ...item, at });
  } catch {
    // The raw object failed validation: it may also be too deep, cyclic or BigInt for JSON.stringify.
    entry = JSON.stringify({ ...item, raw: identifiedSnapshot(item.raw), at });
  }
  const log = limited(logger);
  log.warn(
    `quarantined ${item.source} ${item.kind}`,
    { source: item.source, kind: item.kind, reason: item.reason },
    `quarantined an invalid ${item.kind} from ${item.source}: ${item.reason} (see ${quarantineKey(keyPrefix)})`,
  );
  try {
    await redis
      .multi()
      .lpush(quarantineKey(keyPrefix), entry)
      .ltrim(quarantineKey(keyPrefix), 0, QUARANTINE_CAP - 1)
      .exec();
  } catch (err) {
    log.error(
      `quarantine write failed ${item.source}`,
      { err, item: entry.slice(0, 4096) },
      'could not write the quarantined item to Redis; it is logged here instead',
    );
  }
}

export async function listQuarantined(redis: RedisClient, keyPrefix: string, limit = 100): Promise<(QuarantinedItem & { at: string })[]> {
  const rows = await redis.lrange(quarantineKey(keyPrefix), 0, limit - 1);
  return rows.map((r) => JSON.parse(r) as QuarantinedItem & { at: string });
}

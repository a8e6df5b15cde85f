import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../../src/redis/redis-client.js';
import type { Logger } from '../../src/core/log.js';
import { counter } from '../../src/core/metrics.js';
import { retryable } from '../connector.js';
import { FlushStopped } from './flush-stopped.js';

/**
 * Paces one connector's writes under Google's per-minute write quota, across replicas: a sliding
 * minute of writes in a Redis sorted set, and a pause key that a 429 sets so every replica stops
 * writing until the quota refills. A queue rateLimit cannot do this: it counts jobs (rows), not
 * write requests.
 */

const quotaExceeded = counter('mb_sheets_quota_exceeded_total', 'Sheets API 429 RESOURCE_EXHAUSTED answers and local write-budget pauses', [
  'connector',
  'origin',
]);

export interface WriteBudgetOptions {
  redis: RedisClient;
  log: Logger;
  /** Connector name, for metrics, logs and messages. */
  name: string;
  /** Prefix of this connector's Redis keys. */
  keyBase: string;
  writesPerMinute: number;
}

export class WriteBudget {
  private readonly writesKey: string;
  private readonly pauseKey: string;

  constructor(private readonly options: WriteBudgetOptions) {
    this.writesKey = `${options.keyBase}writes`;
    this.pauseKey = `${options.keyBase}paused`;
  }

  /** How long the connector stays paused after a quota answer (≤ 0: not paused). */
  pausedForMs(): Promise<number> {
    return this.options.redis.pttl(this.pauseKey);
  }

  /**
   * Takes one write from the connector's sliding-minute budget (a sorted set shared by replicas),
   * or ends the flush as retryable until the oldest write in the window expires.
   */
  async reserve(kind: string): Promise<void> {
    const { redis, writesPerMinute, name } = this.options;
    const now = Date.now();
    const windowStart = now - 60_000;
    await redis.zremrangebyscore(this.writesKey, '-inf', windowStart);
    const used = await redis.zcard(this.writesKey);
    if (used >= writesPerMinute) {
      const oldest = await redis.zrange(this.writesKey, '0', '0', 'WITHSCORES');
      const waitMs = Math.max(1, Number(oldest[1] ?? now) + 60_000 - now);
      await this.pause(waitMs, 'budget');
      throw new FlushStopped(retryable(`${kind}: write budget of ${writesPerMinute}/min used up for connector ${name}`, waitMs));
    }
    await redis.multi().zadd(this.writesKey, String(now), `${now}:${randomUUID()}`).pexpire(this.writesKey, 120_000).exec();
  }

  /** Counts a quota stop; Google's own 429 also pauses every replica for `ms`. */
  async pause(ms: number, origin: 'google' | 'budget'): Promise<void> {
    const { redis, log, name } = this.options;
    quotaExceeded.inc({ connector: name, origin });
    if (origin === 'google') {
      log.warn({ connector: name, pauseMs: ms }, 'Sheets quota exceeded: pausing the connector; rows keep accumulating in the queue');
      await redis.set(this.pauseKey, '1', 'PX', Math.max(1, ms));
    }
  }
}

import type { RedisClient } from '../redis/redis-client.js';

export interface PartitionCountsOptions {
  /** The producer connection. */
  redis: RedisClient;
  /** A hash on the connector's partition-0 slot: partition count → when a process last enqueued with it (epoch ms). */
  key: string;
  /** This process's `partitions`. */
  count: number;
  /** How long a count stays relevant after its last use: the dedup TTL (a repeat older than that is new anyway). */
  windowMs: number;
  /** How often a process re-records its count and re-reads the others'. @defaultValue 10000 */
  refreshMs?: number;
  now?: () => number;
}

/**
 * The partition counts a connector was enqueued with lately, by any process. A delivery's queue
 * depends on the count, and BullMQ finds a repeat only in the queue it looks in: after `partitions`
 * changes, a replay, or a replica still on the old count, would queue again what an earlier count
 * had put in another partition. Knowing the other recent counts, enqueue also looks in the partition
 * each of them gives a key (only for keys that moved), so a repeat is found across the change.
 *
 * Each process records its count with a time, at its first enqueue and then at most every
 * `refreshMs` (in the background: the answer may be that old); counts not used within `windowMs`
 * drop out, and the hash expires with them.
 */
export class PartitionCounts {
  private others: number[] = [];
  private loaded: Promise<void> | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshedAt = 0;
  private readonly now: () => number;
  private readonly refreshMs: number;

  constructor(private readonly o: PartitionCountsOptions) {
    this.now = o.now ?? Date.now;
    this.refreshMs = o.refreshMs ?? 10_000;
  }

  /** The other counts used within the window (not this process's own). Rejects only when the first read fails. */
  async recentOthers(): Promise<readonly number[]> {
    if (!this.loaded) {
      this.loaded = this.refresh();
      // A failed first read is tried again by the next enqueue (which fails with it, keeping the source's cursor).
      this.loaded.catch(() => (this.loaded = undefined));
    }
    await this.loaded;
    if (this.now() - this.refreshedAt >= this.refreshMs && !this.refreshing) {
      this.refreshing = this.refresh()
        .catch(() => undefined)
        .finally(() => (this.refreshing = undefined));
    }
    return this.others;
  }

  private async refresh(): Promise<void> {
    const now = this.now();
    const { redis, key, count, windowMs } = this.o;
    const replies = await redis.multi().hset(key, String(count), String(now)).hgetall(key).pexpire(key, windowMs).exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed) throw new Error(`could not read the partition counts (${key}): ${failed?.[0]?.message ?? 'transaction aborted'}`);
    const all = replies[1]![1] as Record<string, string>;
    this.others = Object.entries(all)
      .filter(([n, at]) => Number(n) !== count && now - Number(at) < windowMs)
      .map(([n]) => Number(n))
      .sort((a, b) => a - b);
    this.refreshedAt = now;
  }
}

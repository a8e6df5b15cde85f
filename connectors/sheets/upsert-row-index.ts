import type { RedisClient } from '../../src/redis/redis-client.js';
import type { Logger } from '../../src/core/log.js';
import type { SheetLayout } from './sheet-layout.js';

/**
 * Upsert mode's key → row number index, in Redis so replicas share it. The sheet is the truth:
 * the index is rebuilt from the key column when this instance has not read it yet, when a write
 * may have landed without an answer, and before a batch that holds a retry.
 */
export class UpsertRowIndex {
  /** False until the index was rebuilt from the sheet by this instance, and after an ambiguous write. */
  private fresh = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private readonly layout: SheetLayout,
    private readonly keyColumn: string,
    private readonly log: Logger,
    /** Connector name, for logs. */
    private readonly name: string,
  ) {}

  /** Row numbers known so far are in doubt: re-read the key column before the next flush. */
  invalidate(): void {
    this.fresh = false;
  }

  /** Rebuilds the index unless it is fresh and no delivery of the batch is a retry. */
  async refresh(retried: boolean, signal: AbortSignal): Promise<void> {
    if (!this.fresh || retried) await this.rebuild(signal);
  }

  /** Row numbers of the keys that have a row. */
  async rowsOf(keys: string[]): Promise<Map<string, number>> {
    const rows = await this.redis.hmget(this.key, ...keys);
    const rowOf = new Map<string, number>();
    keys.forEach((k, i) => {
      if (rows[i]) rowOf.set(k, Number(rows[i]));
    });
    return rowOf;
  }

  /** Records where new rows went. */
  async record(mapping: Record<string, number>): Promise<void> {
    if (Object.keys(mapping).length > 0) await this.redis.hset(this.key, mapping);
  }

  /** Reads the key column and replaces the Redis index with it. */
  private async rebuild(signal: AbortSignal): Promise<void> {
    const keys = await this.layout.readColumn(this.keyColumn, 'read key column', signal);
    const mapping: Record<string, number> = {};
    keys.forEach((k, i) => {
      // First row wins when a sheet already holds a key twice (from before upsert was on).
      if (k && !(k in mapping)) mapping[k] = i + 2;
    });
    const tx = this.redis.multi().del(this.key);
    if (Object.keys(mapping).length > 0) tx.hset(this.key, mapping);
    await tx.exec();
    this.fresh = true;
    this.log.debug({ connector: this.name, keys: Object.keys(mapping).length }, 'rebuilt sheets key index');
  }
}

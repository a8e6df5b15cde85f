import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../../src/redis/redis-client.js';
import { runLua } from '../../src/redis/run-lua.js';
import { retryable } from '../connector.js';
import { FlushStopped } from './flush-stopped.js';

/**
 * One flush at a time per connector across replicas: appended row numbers and the upsert key
 * index must not race. A Redis lock with a token, so a replica only ever releases its own.
 */
export class FlushLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    /** Connector name, for the message when the lock stays taken. */
    private readonly name: string,
  ) {}

  /** Waits up to 10 s for the lock; returns the token that releases it. */
  async acquire(signal: AbortSignal): Promise<string> {
    const token = randomUUID();
    const deadline = Date.now() + 10_000;
    for (;;) {
      if ((await this.redis.set(this.key, token, 'PX', 60_000, 'NX')) === 'OK') return token;
      if (signal.aborted || Date.now() > deadline) throw new FlushStopped(retryable(`another flush holds the lock of connector ${this.name}`, 1000));
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async release(token: string): Promise<void> {
    // Delete only our own lock (it may have expired and been taken by another replica).
    await runLua(this.redis, "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, this.key, token);
  }
}

import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from '../../redis/redis-client.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';

/** A write that records progress was refused: the connection it was meant for is gone. */
export class StaleRedisEpochError extends Error {
  constructor(what: string) {
    super(`${what}: the Redis connection was lost since the items were handed over (Redis may have lost its last writes); re-reading from Redis instead`);
    this.name = 'StaleRedisEpochError';
  }
}

export interface RedisEpochOptions {
  /** The connection to copy the settings of (URL, password, db, retry strategy). */
  shared: RedisClient;
  logger: Logger;
  /** Called on every `ready` after the first: Redis may have restarted without its last writes. */
  onReconnect: () => void;
}

/**
 * A source's own Redis connection for the writes that record what reached the queue (cursor,
 * seen sets, watermarks), and the count of its connections: the epoch.
 *
 * Why its own: the daemon's shared client queues commands while Redis is away and re-sends the
 * ones in flight when it is back. After a crash that took the last writes (AOF tail, or no
 * persistence), such a replayed "these moments are done" lands on the new Redis while the jobs
 * it vouches for were lost. This connection never carries a command over a reconnect (no
 * offline queue, no re-send, in-flight commands rejected on close), so a progress write lands on
 * the Redis that was there when it was sent, or nowhere. AOF is an ordered log: a write applied
 * after the jobs it covers survives a lost tail only if they survive too.
 *
 * Why the epoch: items handed over on one connection must not be recorded on the next one (the
 * hand-over may have reached only the Redis that died). A writer notes `current` before it hands
 * over and records only if `holds(epoch)` is still true; after a reconnect it re-reads its
 * position from Redis (onReconnect) — whatever Redis lost, the re-read finds it missing.
 */
export class RedisEpoch {
  readonly redis: RedisClient;
  private readies = 0;
  /** Topology changes of a cluster (a node gone, a node reconnected): each starts a new epoch. */
  private shifts = 0;
  private closed = false;

  constructor(options: RedisEpochOptions) {
    const { shared } = options;
    const overrides = {
      autoResendUnfulfilledCommands: false,
      // 0: every close rejects the commands in flight (none waits for, or is sent to, the next server).
      maxRetriesPerRequest: 0,
    };
    this.redis = isCluster(shared)
      ? shared.duplicate(undefined, { lazyConnect: true, enableOfflineQueue: false, redisOptions: { ...shared.options.redisOptions, ...overrides } })
      : shared.duplicate({ lazyConnect: true, enableOfflineQueue: false, ...overrides });
    const newEpoch = () => {
      if (!this.closed) options.onReconnect();
    };
    this.redis.on('error', (err: unknown) => options.logger.debug({ component: 'redis', err: errorMessage(err) }, 'source redis connection error'));
    this.redis.on('ready', () => {
      this.readies += 1;
      if (this.readies > 1) newEpoch();
    });
    if (isCluster(this.redis)) {
      // Under a cluster the client stays ready while one master fails: its slots move to a replica,
      // which has what was replicated to it (not an empty Redis), but maybe not the last writes.
      // Either way a node this connection wrote to is gone (`-node`) or came back (a node's second
      // `ready`: it may have restarted empty): what was handed over before must not be recorded
      // after, and the source re-reads its position from the cluster as it is now.
      this.redis.on('-node', () => {
        this.shifts += 1;
        newEpoch();
      });
      this.redis.on('+node', (node: Redis) => {
        let nodeReadies = 0;
        node.on('ready', () => {
          if (++nodeReadies > 1) {
            this.shifts += 1;
            newEpoch();
          }
        });
      });
    }
  }

  /** Connects (a failure is not thrown: the client keeps retrying, and writes fail until it is ready). */
  async connect(): Promise<void> {
    if (this.redis.status !== 'wait') return;
    await this.redis.connect().catch(() => undefined);
  }

  /** The number of the current connection (0 before the first). */
  get current(): number {
    return this.readies + this.shifts;
  }

  /** Whether the connection numbered `epoch` is still the one in use and ready. */
  holds(epoch: number): boolean {
    return epoch === this.current && this.redis.status === 'ready';
  }

  /** Throws StaleRedisEpochError unless `holds(epoch)`. */
  assert(epoch: number, what: string): void {
    if (!this.holds(epoch)) throw new StaleRedisEpochError(what);
  }

  close(): void {
    this.closed = true;
    this.redis.disconnect();
  }
}

import type { RedisClient } from '../../redis/redis-client.js';
import { evalFenced, fencedScript, type SourceLease } from '../source-lease.js';

/* Moves the watermark forward only: two replicas racing, or a late write, never move it back. */
const ADVANCE_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], 'triggersUpdatedAt')
if cur and ARGV[1] <= cur then return 0 end
redis.call('HSET', KEYS[1], 'triggersUpdatedAt', ARGV[1])
return 1
`;

/* The lease check first (source-lease.ts): a replica that lost the source moves nothing. */
const FENCED_ADVANCE_SCRIPT = fencedScript(ADVANCE_SCRIPT);

/**
 * The newest trigger `updatedAt` whose change events are all in Redis, kept in the moments
 * cursor hash (`<prefix>source:<name>:cursor`, field `triggersUpdatedAt`) so that cursor and
 * watermark live and die together. After a reconnect or a restart the source lists triggers
 * changed at or after it and emits the changes it has not handed over yet.
 */
export class TriggerWatermark {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    keyBase: string,
    /** This replica's lease on the source, when only the leader reads it: advances check it. */
    private readonly lease?: SourceLease,
  ) {
    this.key = `${keyBase}cursor`;
  }

  async load(): Promise<string | undefined> {
    return (await this.redis.hget(this.key, 'triggersUpdatedAt')) ?? undefined;
  }

  /**
   * Call only once every trigger change up to `updatedAt` (a normalized ISO string) was accepted.
   * One EVAL, sent before this returns (see MomentCursor.commitMany): a connection check made
   * just before the call holds for the write.
   */
  async advance(updatedAt: string): Promise<void> {
    await evalFenced(this.redis, this.lease, FENCED_ADVANCE_SCRIPT, [this.key], [updatedAt], 'trigger watermark advance');
  }
}

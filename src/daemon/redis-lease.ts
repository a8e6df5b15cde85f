import type { Redis } from 'ioredis';
import type { RedisClient } from '../redis/redis-client.js';

/*
 * Acquire: SET-if-absent with expiry, the value carrying a fencing token taken from a counter at
 * each acquisition (one script, so the token and the lease are written together; both keys share
 * the source's hash tag). Returns {1, value} when acquired, {0, holder} when another holds it.
 * A lease held under this replica's own id is taken over at once, under a new token: it is this
 * replica restarted (e.g. a container restarted after a crash keeps its hostname and pid 1), and
 * waiting for its old lease to expire would only delay reading.
 * KEYS: lease, token counter. ARGV: replica id, ttl ms.
 */
const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder and string.match(holder, '^%d+ (.*)$') ~= ARGV[1] then return {0, holder} end
local value = redis.call('INCR', KEYS[2]) .. ' ' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {1, value}
`;

/* Compare-and-extend. KEYS: lease. ARGV: the value held, ttl ms. 1 if still held (extended), else 0. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/* Compare-and-delete. KEYS: lease. ARGV: the value held. */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

export type AcquireResult = { acquired: true; value: string } | { acquired: false; holder: string };

/**
 * One source's lease in Redis: key `<stateKeyBase>leader` (value `<fencing token> <replica id>`,
 * expiring after `ttlMs` unless renewed) and the token counter `<stateKeyBase>leader:token`,
 * which only grows, so every leadership term has its own value.
 */
export class RedisLease {
  readonly key: string;
  private readonly tokenKey: string;

  constructor(
    private readonly redis: RedisClient | Redis,
    keyBase: string,
    private readonly replicaId: string,
    private readonly ttlMs: number,
  ) {
    this.key = `${keyBase}leader`;
    this.tokenKey = `${keyBase}leader:token`;
  }

  async acquire(): Promise<AcquireResult> {
    const [ok, value] = (await this.redis.eval(ACQUIRE, 2, this.key, this.tokenKey, this.replicaId, this.ttlMs)) as [number, string];
    return ok === 1 ? { acquired: true, value } : { acquired: false, holder: value };
  }

  /** Extends the lease by `ttlMs` if `value` still holds it; false when it expired or another took it. */
  async renew(value: string): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key, value, this.ttlMs)) === 1;
  }

  /** Deletes the lease if `value` still holds it, so a stand-by takes over at its next poll. */
  async release(value: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.key, value)) === 1;
  }

  /** The current holder's value, if any. */
  async holder(): Promise<string | undefined> {
    return (await this.redis.get(this.key)) ?? undefined;
  }
}

/** The replica id inside a lease value (`<token> <replica id>`). */
export function leaseHolderId(value: string): string {
  const space = value.indexOf(' ');
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a lease value is always `<token> <id>` with a non-empty token, so the space is never missing nor first (equivalent)
  return space < 0 ? value : value.slice(space + 1);
}

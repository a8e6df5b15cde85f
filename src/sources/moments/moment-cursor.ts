import type { RedisClient } from '../../redis/redis-client.js';
import { evalFenced, fencedScript, type SourceLease } from '../source-lease.js';

/** The newest moment instant the source has emitted, and the moment ids at that instant. */
export interface CursorPosition {
  createdAt: string;
  publicIds: string[];
}

/** One emitted moment, as the cursor records it. */
export interface CommittedMoment {
  publicId: string;
  createdAt: string;
}

/*
 * One script so that "remember the ids" and "advance the cursor" happen together for a whole
 * batch (a crash leaves either all of it or none recorded), and so that two replicas racing can
 * never move the cursor backwards (ISO-8601 UTC strings compare as text).
 * KEYS: cursor hash, seen zset. ARGV: now ms, ttl ms, then publicId, createdAt pairs.
 * The cursor lands on the newest instant of the batch (or stays, if it is already newer) and
 * lists every id at that instant, from this batch and from earlier commits at the same instant.
 */
const COMMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local newest = nil
for i = 3, #ARGV, 2 do
  redis.call('ZADD', KEYS[2], now, ARGV[i])
  if (not newest) or ARGV[i + 1] > newest then newest = ARGV[i + 1] end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
if not newest then return 0 end
local cur = redis.call('HGET', KEYS[1], 'createdAt')
if cur and newest < cur then return 0 end
local ids = {}
local known = {}
if cur == newest then
  ids = cjson.decode(redis.call('HGET', KEYS[1], 'ids') or '[]')
  for _, id in ipairs(ids) do known[id] = true end
end
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == newest and not known[ARGV[i]] then
    known[ARGV[i]] = true
    table.insert(ids, ARGV[i])
  end
end
redis.call('HSET', KEYS[1], 'createdAt', newest, 'ids', cjson.encode(ids))
return 1
`;

/* The lease check runs first (source-lease.ts): a replica that lost the source moves nothing. */
const FENCED_COMMIT_SCRIPT = fencedScript(COMMIT_SCRIPT);

/**
 * The moments source's memory in Redis, shared by every replica: the cursor (hash
 * `<prefix>source:<name>:cursor`) and the ids already emitted (sorted set
 * `<prefix>source:<name>:seen`, scored by when they were seen, trimmed after `ttlMs`).
 */
export class MomentCursor {
  private readonly cursorKey: string;
  private readonly seenKey: string;
  /** Set once Redis answered that it has no ZMSCORE (before 6.2). */
  private noZmscore = false;

  constructor(
    private readonly redis: RedisClient,
    keyBase: string,
    private readonly ttlMs: number,
    /** This replica's lease on the source, when only the leader reads it: commits check it. */
    private readonly lease?: SourceLease,
  ) {
    this.cursorKey = `${keyBase}cursor`;
    this.seenKey = `${keyBase}seen`;
  }

  async load(): Promise<CursorPosition | undefined> {
    const [createdAt, ids] = await this.redis.hmget(this.cursorKey, 'createdAt', 'ids');
    if (!createdAt) return undefined;
    let publicIds: string[] = [];
    try {
      publicIds = JSON.parse(ids ?? '[]') as string[];
    } catch {
      // A damaged id list only costs duplicate checks against the seen set.
    }
    return { createdAt, publicIds };
  }

  async seen(publicId: string): Promise<boolean> {
    return (await this.seenMany([publicId]))[0]!;
  }

  /**
   * Which of `publicIds` were already emitted, in one command (ZMSCORE; on a Redis older than 6.2,
   * which lacks it, pipelined ZSCOREs: still one round trip). Throws if Redis does not answer.
   */
  async seenMany(publicIds: readonly string[]): Promise<boolean[]> {
    if (publicIds.length === 0) return [];
    if (!this.noZmscore) {
      try {
        const scores = await this.redis.zmscore(this.seenKey, ...publicIds);
        return scores.map((score) => score !== null);
      } catch (err) {
        if (!(err instanceof Error) || !/unknown command/i.test(err.message)) throw err;
        this.noZmscore = true;
      }
    }
    const pipeline = this.redis.pipeline();
    for (const id of publicIds) pipeline.zscore(this.seenKey, id);
    const replies = await pipeline.exec();
    // Stryker disable next-line all: ioredis answers null only for an empty pipeline, never sent here.
    if (!replies) throw new Error('Redis pipeline returned nothing');
    return replies.map(([err, score]) => {
      if (err) throw err;
      return score !== null;
    });
  }

  /** Call only after the moment's event was accepted by the pipeline. */
  async commit(publicId: string, createdAt: string): Promise<void> {
    await this.commitMany([{ publicId, createdAt }]);
  }

  /**
   * Records a batch of emitted moments and moves the cursor to the newest of them, atomically.
   * Call only after every moment in the batch was accepted by the pipeline.
   *
   * One EVAL, written to the connection before this returns its promise, never followed by a
   * second command (no EVALSHA → NOSCRIPT → retry, which could reach a Redis restarted since):
   * a check of the connection made just before the call holds for the write (see RedisEpoch).
   */
  async commitMany(moments: readonly CommittedMoment[]): Promise<void> {
    if (moments.length === 0) return;
    const args: (string | number)[] = [Date.now(), this.ttlMs];
    for (const m of moments) args.push(m.publicId, normalizeIso(m.createdAt));
    await evalFenced(this.redis, this.lease, FENCED_COMMIT_SCRIPT, [this.cursorKey, this.seenKey], args, 'moments cursor commit');
  }
}

/** Already what toISOString() prints: returned as is (the usual case, no Date round trip). */
const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Same instant, same text: `2026-01-01T00:00:00Z` and `…00.000Z` compare equal after this. */
export function normalizeIso(value: string): string {
  if (CANONICAL_ISO.test(value)) return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

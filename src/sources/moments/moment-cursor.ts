import type { Redis } from 'ioredis';
import { runLua } from '../../redis/run-lua.js';

/** The newest moment instant the source has emitted, and the moment ids at that instant. */
export interface CursorPosition {
  createdAt: string;
  publicIds: string[];
}

/*
 * One script so that "remember the id" and "advance the cursor" happen together, and so that two
 * replicas racing can never move the cursor backwards (ISO-8601 UTC strings compare as text).
 * KEYS: cursor hash, seen zset. ARGV: publicId, createdAt, now ms, ttl ms.
 */
const COMMIT_SCRIPT = `
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
local cur = redis.call('HGET', KEYS[1], 'createdAt')
if (not cur) or ARGV[2] > cur then
  redis.call('HSET', KEYS[1], 'createdAt', ARGV[2], 'ids', cjson.encode({ARGV[1]}))
elseif ARGV[2] == cur then
  local ids = cjson.decode(redis.call('HGET', KEYS[1], 'ids') or '[]')
  for _, id in ipairs(ids) do
    if id == ARGV[1] then return 0 end
  end
  table.insert(ids, ARGV[1])
  redis.call('HSET', KEYS[1], 'ids', cjson.encode(ids))
end
return 1
`;

/**
 * The moments source's memory in Redis, shared by every replica: the cursor (hash
 * `<prefix>source:<name>:cursor`) and the ids already emitted (sorted set
 * `<prefix>source:<name>:seen`, scored by when they were seen, trimmed after `ttlMs`).
 */
export class MomentCursor {
  private readonly cursorKey: string;
  private readonly seenKey: string;

  constructor(
    private readonly redis: Redis,
    keyBase: string,
    private readonly ttlMs: number,
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
    return (await this.redis.zscore(this.seenKey, publicId)) !== null;
  }

  /** Call only after the moment's event was accepted by the pipeline. */
  async commit(publicId: string, createdAt: string): Promise<void> {
    await runLua(this.redis, COMMIT_SCRIPT, 2, this.cursorKey, this.seenKey, publicId, normalizeIso(createdAt), Date.now(), this.ttlMs);
  }
}

/** Same instant, same text: `2026-01-01T00:00:00Z` and `…00.000Z` compare equal after this. */
export function normalizeIso(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

import type { RedisClient } from '../../redis/redis-client.js';
import { evalFenced, fencedScript, type SourceLease } from '../source-lease.js';
import { SEEN_WINDOW_ADD_LUA, SeenWindow } from '../shared/seen-window.js';

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
 * KEYS: cursor hash, seen window directory. ARGV: ttl ms, then publicId, createdAt, digest triples.
 * The cursor lands on the newest instant of the batch (or stays, if it is already newer) and
 * lists every id at that instant, from this batch and from earlier commits at the same instant.
 */
const COMMIT_SCRIPT = `${SEEN_WINDOW_ADD_LUA}
local ttl = tonumber(ARGV[1])
local newest = nil
local digests = {}
for i = 2, #ARGV, 3 do
  digests[#digests + 1] = ARGV[i + 2]
  if (not newest) or ARGV[i + 1] > newest then newest = ARGV[i + 1] end
end
seen_window_add(KEYS[2], ttl, digests)
if not newest then return 0 end
local cur = redis.call('HGET', KEYS[1], 'createdAt')
if cur and newest < cur then return 0 end
local ids = {}
local known = {}
if cur == newest then
  ids = cjson.decode(redis.call('HGET', KEYS[1], 'ids') or '[]')
  for _, id in ipairs(ids) do known[id] = true end
end
for i = 2, #ARGV, 3 do
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
 * `<prefix>source:<name>:cursor`) and the ids emitted in the last `ttlMs` (a seen window,
 * `<prefix>source:<name>:seenw`, see SeenWindow). The former sorted set `<prefix>source:<name>:seen`
 * is still read until it expires, and no longer written.
 */
export class MomentCursor {
  private readonly cursorKey: string;
  private readonly window: SeenWindow;

  constructor(
    private readonly redis: RedisClient,
    keyBase: string,
    private readonly ttlMs: number,
    /** This replica's lease on the source, when only the leader reads it: commits check it. */
    private readonly lease?: SourceLease,
  ) {
    this.cursorKey = `${keyBase}cursor`;
    this.window = new SeenWindow(redis, keyBase, ttlMs, { kind: 'zset', key: `${keyBase}seen` });
  }

  async load(): Promise<CursorPosition | undefined> {
    const [createdAt, ids] = await this.redis.hmget(this.cursorKey, 'createdAt', 'ids');
    if (!createdAt) return undefined;
    let publicIds: string[] = [];
    try {
      publicIds = JSON.parse(ids ?? '[]') as string[];
    } catch {
      // A damaged id list only costs duplicate checks against the seen window.
    }
    return { createdAt, publicIds };
  }

  async seen(publicId: string): Promise<boolean> {
    return (await this.seenMany([publicId]))[0]!;
  }

  /** Which of `publicIds` were already emitted, in one EVAL. Throws if Redis does not answer. */
  seenMany(publicIds: readonly string[]): Promise<boolean[]> {
    return this.window.seenMany(publicIds);
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
    const args: (string | number | Buffer)[] = [this.ttlMs];
    const digests = SeenWindow.digests(moments.map((m) => m.publicId));
    moments.forEach((m, i) => args.push(m.publicId, normalizeIso(m.createdAt), digests[i]!));
    await evalFenced(this.redis, this.lease, FENCED_COMMIT_SCRIPT, [this.cursorKey, this.window.key], args, 'moments cursor commit');
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

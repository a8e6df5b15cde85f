import type { RedisClient } from '../../redis/redis-client.js';
import { DIGEST_WINDOW_LUA, windowDigest } from '../../redis/digest-window.js';
import { evalFenced, fencedScript, type SourceLease } from '../source-lease.js';

/**
 * Where a source's former layout kept its seen ids, still honoured until it expires so an upgrade
 * re-emits nothing: a sorted set scored by when each id was seen (moments, `<keyBase>seen`), or one
 * key per id (observer, `<keyBase>seen:<id>`).
 */
export type LegacySeen = { kind: 'zset'; key: string } | { kind: 'keys'; prefix: string };

/**
 * KEYS: window directory, then the legacy zset when there is one. ARGV: ttl ms, legacy kind
 * ('zset', 'keys' or ''), legacy key prefix, then (id, digest) pairs. Returns 1 (seen) or 0 per pair.
 */
const SEEN_SCRIPT = `${DIGEST_WINDOW_LUA}
local ttl, legacy, legacyPrefix = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local now = dw_now()
local live = dw_live(KEYS[1], now, ttl)
local out = {}
for i = 4, #ARGV, 2 do
  local seen = dw_has(KEYS[1], live, ARGV[i + 1])
  if not seen and legacy == 'zset' then
    local score = redis.call('ZSCORE', KEYS[2], ARGV[i])
    seen = score ~= false and tonumber(score) > now - ttl
  elseif not seen and legacy == 'keys' then
    seen = redis.call('EXISTS', legacyPrefix .. ARGV[i]) == 1
  end
  out[#out + 1] = seen and 1 or 0
end
return out`;

/**
 * Lua (after {@link DIGEST_WINDOW_LUA}) that records digests in a seen window, for a script that
 * records them together with something else (the moments cursor). Defines
 * `seen_window_add(dir, ttl, digests)`; digests is a Lua list.
 */
export const SEEN_WINDOW_ADD_LUA = `${DIGEST_WINDOW_LUA}
local function seen_window_add(dir, ttl, digests)
  if #digests == 0 then return end
  local now = dw_now()
  local bucket = dw_current(dir, now, ttl)
  for _, digest in ipairs(digests) do bucket = dw_add(dir, now, ttl, bucket, digest) end
  dw_flush(dir, bucket)
end
`;

/** KEYS: window directory. ARGV: ttl ms, then digests. */
const MARK_SCRIPT = `${SEEN_WINDOW_ADD_LUA}
local digests = {}
for i = 2, #ARGV do digests[#digests + 1] = ARGV[i] end
seen_window_add(KEYS[1], tonumber(ARGV[1]), digests)
return #digests`;

/* The lease check first (source-lease.ts): a replica that lost the source records nothing. */
const FENCED_MARK_SCRIPT = fencedScript(MARK_SCRIPT);

/** The directory key of a source's seen window (its keys start with it: one Redis Cluster slot). */
export function seenWindowKey(keyBase: string): string {
  return `${keyBase}seenw`;
}

/**
 * The ids a source emitted in the last `ttlMs`, shared by every replica, ≈ 19 bytes of Redis per
 * id (a digest window, src/redis/digest-window.ts): one EVAL per check, one per mark.
 * Each call is one EVAL written at once and never re-sent (no EVALSHA → NOSCRIPT → retry, which
 * could reach a Redis restarted since; see RedisEpoch).
 */
export class SeenWindow {
  readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    keyBase: string,
    private readonly ttlMs: number,
    private readonly legacy?: LegacySeen,
  ) {
    this.key = seenWindowKey(keyBase);
  }

  /** Which of `ids` were emitted in the window (or are in the former layout). Throws if Redis does not answer. */
  async seenMany(ids: readonly string[]): Promise<boolean[]> {
    if (ids.length === 0) return [];
    const keys = this.legacy?.kind === 'zset' ? [this.key, this.legacy.key] : [this.key];
    const args: (string | number | Buffer)[] = [this.ttlMs, this.legacy?.kind ?? '', this.legacy?.kind === 'keys' ? this.legacy.prefix : ''];
    for (const id of ids) args.push(id, windowDigest(id));
    const flags = (await this.redis.eval(SEEN_SCRIPT, keys.length, ...keys, ...args)) as number[];
    return flags.map((flag) => flag === 1);
  }

  /** Records `ids` as emitted; with the source's `lease`, only while this replica still holds it (else LeaseLostError). */
  async markMany(ids: readonly string[], lease?: SourceLease, what = 'seen ids'): Promise<void> {
    if (ids.length === 0) return;
    await evalFenced(this.redis, lease, FENCED_MARK_SCRIPT, [this.key], [this.ttlMs, ...ids.map(windowDigest)], what);
  }

  /** The ids as the scripts take them (for a script that records them itself, see SEEN_WINDOW_ADD_LUA). */
  static digests(ids: readonly string[]): Buffer[] {
    return ids.map(windowDigest);
  }
}

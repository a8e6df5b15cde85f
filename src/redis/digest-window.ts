import { createHash } from 'node:crypto';

/**
 * An exact "seen in the last `ttl`" set in Redis at ≈ 19 bytes per id: the memory-optimised layout
 * of small hashes that Redis keeps as listpacks (one compact allocation, no per-entry objects).
 * Shared by the delivery claims (src/queue/delivery-claims.ts) and the sources' seen window
 * (src/sources/shared/seen-window.ts); each embeds {@link DIGEST_WINDOW_LUA} in its own scripts.
 *
 * Layout under a directory key `D` (a small hash): time buckets, each opened with a number of
 * shards `2^bits` fitted to the rate seen so far, so that a shard holds ≈ 40–80 ids:
 * - `D` fields: `seq` (last bucket number), `cur` (the bucket being written), `b<n>` = `start:bits`,
 *   `n<n>` = ids in bucket n. It expires a little after its last bucket.
 * - `D:<n>:<shard>`: hash, field = the first 10 bytes of the id's digest, value empty (2 bytes).
 *   It expires at bucket start + span + ttl, span = ttl / 12: an id stays for at least `ttl`
 *   and at most `ttl + span` (ttl × 13/12) after it was added.
 * - A bucket closes after `span`, or early when the shard an id falls into is full
 *   ({@link LISTPACK_ENTRIES} = Redis' default `hash-max-listpack-entries`): no shard ever grows
 *   past it, so every shard stays a listpack whatever the rate does. The next bucket gets its
 *   shard count from the closing one's rate (growing at most ×4 per early close, so a bucket
 *   opened during a ramp is filled before the next one opens).
 * - A lookup reads `D` once per script call and checks each live bucket (≈ 13 at a steady rate).
 *
 * Exact, not probabilistic: the shard comes from digest bytes 11–13 and the field holds bytes
 * 1–10, 80 bits. A different id is taken for a stored one only if its 80 field bits equal those of
 * one of the ≤ 128 ids in the same shard of one of the ≈ 13 live buckets: ≤ 128 × 16 / 2^80 ≈
 * 1.7e-21 per lookup, ≈ 5e-9 over 10 years at 10,000 lookups/s (3.2e12 lookups). SHA-256 makes
 * the bytes uniform whatever the ids look like.
 *
 * Every key is `D` + suffix, so a script touching them stays in D's Redis Cluster slot.
 * Time is Redis' TIME, so replicas with skewed clocks share one window.
 */

/** Redis' default `hash-max-listpack-entries`: a shard never holds more ids. */
export const LISTPACK_ENTRIES = 128;

/** Buckets per window: a longer bucket means fewer lookups, a shorter one a tighter expiry. */
export const BUCKETS_PER_WINDOW = 12;

/** Bytes of digest a script needs per id: 10 stored, 3 for the shard. */
const DIGEST_BYTES = 13;

/** The digest of an id as the window scripts take it (binary, 13 bytes). */
export function windowDigest(id: string): Buffer {
  return createHash('sha256').update(id).digest().subarray(0, DIGEST_BYTES);
}

/**
 * Lua functions for scripts that use a digest window (prepend to the script's body):
 * - `dw_now()`: Redis time, ms.
 * - `dw_live(dir, now, ttl)`: the live buckets (read once per call).
 * - `dw_has(dir, live, digest)`: whether the digest is in one of them.
 * - `dw_current(dir, now, ttl)` → bucket, `dw_add(dir, now, ttl, bucket, digest)` → bucket
 *   (maybe a new one), `dw_flush(dir, bucket)` at the end of a batch of adds.
 * - `dw_forget(dir, live, digest)`: removes the digest from every live bucket.
 */
export const DIGEST_WINDOW_LUA = `
local DW_BUCKETS = ${BUCKETS_PER_WINDOW}
local DW_FULL = ${LISTPACK_ENTRIES}
local DW_TARGET = 80
local DW_MAXBITS = 20

local function dw_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function dw_span(ttl)
  return math.ceil(ttl / DW_BUCKETS)
end

local function dw_bucket(dir, id, start, bits)
  return { id = id, start = start, bits = bits, count = 0, added = 0, prefix = dir .. ':' .. id .. ':', div = 2 ^ (24 - bits) }
end

local function dw_parse(dir, id, value)
  local s, b = string.match(value, '^(%d+):(%d+)$')
  if not s then return nil end
  return dw_bucket(dir, id, tonumber(s), tonumber(b))
end

local function dw_live(dir, now, ttl)
  local span = dw_span(ttl)
  local flat = redis.call('HGETALL', dir)
  local live = {}
  for i = 1, #flat, 2 do
    if string.byte(flat[i], 1) == 98 then
      local bucket = dw_parse(dir, string.sub(flat[i], 2), flat[i + 1])
      if bucket and bucket.start + span + ttl > now then live[#live + 1] = bucket end
    end
  end
  return live
end

-- The 24 shard bits of a digest (bytes 11-13); a bucket with b bits uses the top b of them.
local function dw_shardbits(digest)
  local a, b, c = string.byte(digest, 11, 13)
  return a * 65536 + b * 256 + c
end

local function dw_key(dir, bucket, digest)
  return bucket.prefix .. math.floor(dw_shardbits(digest) / bucket.div)
end

local function dw_field(digest)
  return string.sub(digest, 1, 10)
end

local function dw_has(dir, live, digest)
  local field = dw_field(digest)
  local shard = dw_shardbits(digest)
  for i = 1, #live do
    local bucket = live[i]
    if redis.call('HEXISTS', bucket.prefix .. math.floor(shard / bucket.div), field) == 1 then return true end
  end
  return false
end

local function dw_forget(dir, live, digest)
  local field = dw_field(digest)
  for _, bucket in ipairs(live) do redis.call('HDEL', dw_key(dir, bucket, digest), field) end
end

-- Opens the next bucket; prev is the one it follows (nil for the first), full when a shard of prev is full.
local function dw_open(dir, now, ttl, prev, full)
  local span = dw_span(ttl)
  local bits = 0
  if prev then
    local expected = prev.count * span / math.max(now - prev.start, 1)
    while bits < DW_MAXBITS and DW_TARGET * 2 ^ bits < expected do bits = bits + 1 end
    if full then bits = math.min(math.max(bits, prev.bits + 1), prev.bits + 2, DW_MAXBITS) end
  end
  local flat = redis.call('HGETALL', dir)
  for i = 1, #flat, 2 do
    if string.byte(flat[i], 1) == 98 then
      local old = dw_parse(dir, string.sub(flat[i], 2), flat[i + 1])
      if old and old.start + span + ttl <= now then redis.call('HDEL', dir, flat[i], 'n' .. old.id) end
    end
  end
  local id = tostring(redis.call('HINCRBY', dir, 'seq', 1))
  redis.call('HSET', dir, 'cur', id, 'b' .. id, now .. ':' .. bits, 'n' .. id, 0)
  redis.call('PEXPIRE', dir, ttl + 2 * span)
  return dw_bucket(dir, id, now, bits)
end

local function dw_current(dir, now, ttl)
  local cur = redis.call('HGET', dir, 'cur')
  if cur then
    local v = redis.call('HMGET', dir, 'b' .. cur, 'n' .. cur)
    local bucket = v[1] and dw_parse(dir, cur, v[1])
    if bucket then
      bucket.count = tonumber(v[2] or '0')
      if now >= bucket.start and now < bucket.start + dw_span(ttl) then return bucket end
      return dw_open(dir, now, ttl, bucket, false)
    end
  end
  return dw_open(dir, now, ttl, nil, false)
end

local function dw_flush(dir, bucket)
  if bucket.added > 0 then redis.call('HINCRBY', dir, 'n' .. bucket.id, bucket.added) end
  bucket.count = bucket.count + bucket.added
  bucket.added = 0
end

local function dw_add(dir, now, ttl, bucket, digest)
  local key = dw_key(dir, bucket, digest)
  local len = redis.call('HLEN', key)
  if len >= DW_FULL then
    dw_flush(dir, bucket)
    bucket = dw_open(dir, now, ttl, bucket, true)
    key = dw_key(dir, bucket, digest)
    len = redis.call('HLEN', key)
  end
  if redis.call('HSET', key, dw_field(digest), '') == 1 then
    bucket.added = bucket.added + 1
    if len == 0 then redis.call('PEXPIREAT', key, bucket.start + dw_span(ttl) + ttl) end
  end
  return bucket
end
`;

import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { RedisClient } from '../redis/redis-client.js';
import { DIGEST_WINDOW_LUA, windowDigest } from '../redis/digest-window.js';
import type { DeliveryJobData } from './routed-delivery.js';

/**
 * Which delivery ids a queue already took in the last `redis.dedupTtl`, so a replay or back-fill
 * is one job even after the delivered job was trimmed: a digest window (src/redis/digest-window.ts)
 * under `<queue>:claims`, ≈ 19 bytes per delivery instead of BullMQ's `<queue>:de:<id>` key (≈ 225).
 *
 * One MULTI per queue, sent at once (one round trip), never interleaved with another client:
 * 1. CLAIM: per delivery, "repeat" if its job exists, or a claim does (this window, or a `de:` key
 *    of the former layout, honoured until it expires); else it is claimed now. A repeat whose job
 *    is gone gets a gate: a placeholder job hash, so BullMQ's add script (step 2) leaves it alone.
 * 2. BullMQ's own add script per delivery (job id = delivery id).
 * 3. SETTLE: removes the gates; a claim whose job is not there (its add failed) is dropped again,
 *    so no claim outlives a delivery that was not queued. What the transaction leaves is the jobs
 *    and their claims, or (a crash before EXEC) nothing.
 * Two processes racing on a new delivery: the second transaction sees the first one's job, so it
 * counts a duplicate and Redis holds one job.
 */

/** A field no BullMQ job hash has: marks a gate placeholder (it never outlives the transaction). */
// Stryker disable next-line StringLiteral: CLAIM and SETTLE both use this name; an empty field name works the same (equivalent)
const GATE_FIELD = 'bridgeClaimGate';

/** KEYS: claims directory. ARGV: ttl ms, job key prefix, then (delivery id, digest) pairs. Returns 1 (repeat) or 0 (claimed) per pair. */
const CLAIM_SCRIPT = `${DIGEST_WINDOW_LUA}
local dir, ttl, prefix = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local now = dw_now()
local live = dw_live(dir, now, ttl)
local bucket = nil
local out = {}
for i = 3, #ARGV, 2 do
  local jobKey = prefix .. ARGV[i]
  if redis.call('EXISTS', jobKey) == 1 then
    out[#out + 1] = 1
  elseif redis.call('EXISTS', prefix .. 'de:' .. ARGV[i]) == 1 or dw_has(dir, live, ARGV[i + 1]) then
    redis.call('HSET', jobKey, '${GATE_FIELD}', '1')
    out[#out + 1] = 1
  else
    bucket = dw_add(dir, now, ttl, bucket or dw_current(dir, now, ttl), ARGV[i + 1])
    out[#out + 1] = 0
  end
end
if bucket then dw_flush(dir, bucket) end
return out`;

/** Same KEYS and ARGV as CLAIM_SCRIPT, run after the adds. Returns how many claims it dropped. */
const SETTLE_SCRIPT = `${DIGEST_WINDOW_LUA}
local dir, ttl, prefix = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local live = nil
local dropped = 0
for i = 3, #ARGV, 2 do
  local jobKey = prefix .. ARGV[i]
  if redis.call('HEXISTS', jobKey, '${GATE_FIELD}') == 1 then
    redis.call('DEL', jobKey)
  elseif redis.call('EXISTS', jobKey) == 0 then
    live = live or dw_live(dir, dw_now(), ttl)
    dw_forget(dir, live, ARGV[i + 1])
    dropped = dropped + 1
  end
end
return dropped`;

/** KEYS: claims directory. ARGV: ttl ms, job key prefix, then (delivery id, digest) pairs. Returns 1 (queued or claimed) or 0 per pair; writes nothing. */
const PEEK_SCRIPT = `${DIGEST_WINDOW_LUA}
local dir, ttl, prefix = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local live = dw_live(dir, dw_now(), ttl)
local out = {}
for i = 3, #ARGV, 2 do
  local found = redis.call('EXISTS', prefix .. ARGV[i], prefix .. 'de:' .. ARGV[i]) > 0 or dw_has(dir, live, ARGV[i + 1])
  out[#out + 1] = found and 1 or 0
end
return out`;

/** KEYS: claims directory. ARGV: digests. Drops their claims from every bucket listed (a purge frees them; no window needed). */
const RELEASE_SCRIPT = `${DIGEST_WINDOW_LUA}
local every = dw_live(KEYS[1], 0, 0)
for i = 1, #ARGV do dw_forget(KEYS[1], every, ARGV[i]) end
return #ARGV`;

/** The claims directory key of a queue (the queue's hash tag keeps it in the queue's slot). */
export function claimsKey(queue: Pick<Queue, 'qualifiedName'>): string {
  return `${queue.qualifiedName}:claims`;
}

export interface ClaimedAdd {
  /** Per delivery, in order: true when it was already queued or claimed (nothing added). */
  repeats: boolean[];
}

/**
 * Adds `list` to `queue` with their claims, in one MULTI on the queue's own connection (where
 * BullMQ's scripts are defined). Rejects when Redis does.
 */
export async function addClaimed(
  queue: Queue<DeliveryJobData>,
  list: readonly DeliveryJobData[],
  ttlMs: number,
  jobOptions: (data: DeliveryJobData) => JobsOptions,
): Promise<ClaimedAdd> {
  const client = await queue.backend.client;
  const args: (string | Buffer | number)[] = [CLAIM_SCRIPT, 1, claimsKey(queue), ttlMs, `${queue.qualifiedName}:`];
  for (const data of list) args.push(data.deliveryId, windowDigest(data.deliveryId));
  const multi = client.multi();
  multi.runCommand('eval', args);
  // BullMQ's own add, queued on this transaction (Job.addJob writes its command synchronously).
  const adds = list.map((data) => new Job(queue, queue.name, data, jobOptions(data), data.deliveryId).addJob(multi));
  multi.runCommand('eval', [SETTLE_SCRIPT, ...args.slice(1)]);
  const [replies] = await Promise.all([multi.exec(), ...adds]);
  if (!replies) throw new Error('Redis aborted the enqueue transaction');
  for (const [err] of replies as [Error | null, unknown][]) if (err) throw err;
  const repeats = replies[0]![1] as number[];
  // Stryker disable next-line ConditionalExpression: the script answers one flag per delivery (a guard)
  if (repeats.length !== list.length) throw new Error(`Redis answered ${repeats.length} duplicate checks for ${list.length} deliveries`);
  return { repeats: repeats.map((n) => n !== 0) };
}

/**
 * Which of `deliveryIds` the queue named `qualifiedName` holds a job or a claim for, without
 * claiming anything (the look into another partition after `partitions` changed).
 */
export async function queuedOrClaimed(redis: RedisClient, qualifiedName: string, deliveryIds: readonly string[], ttlMs: number): Promise<boolean[]> {
  // Stryker disable next-line ConditionalExpression: the script answers [] for no ids (equivalent; this saves the round trip)
  if (deliveryIds.length === 0) return [];
  const args: (string | Buffer | number)[] = [ttlMs, `${qualifiedName}:`];
  for (const id of deliveryIds) args.push(id, windowDigest(id));
  const flags = (await redis.eval(PEEK_SCRIPT, 1, claimsKey({ qualifiedName }), ...args)) as number[];
  return flags.map((n) => n !== 0);
}

/** Frees the claims of `deliveryIds` in `queue` (after `dlq purge` deleted their dead letters). */
export async function releaseClaims(redis: RedisClient, queue: Pick<Queue, 'qualifiedName'>, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await redis.eval(RELEASE_SCRIPT, 1, claimsKey(queue), ...deliveryIds.map(windowDigest));
}

import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/redis-client.js';
import { queueName } from './queue-names.js';

/** Most partitions a connector may have (`partitions`). */
export const MAX_PARTITIONS = 256;

const MASK64 = (1n << 64n) - 1n;
const JUMP_MULTIPLIER = 2862933555777941757n;

/**
 * The partition of a partition key among `count`: jump consistent hash (Lamping & Veach, 2014) of
 * the key's SHA-256. Stable across processes and releases (no seed), uniform, and when `count`
 * grows from n to m only (m − n)/m of the keys move — the fewest any scheme can move.
 */
export function partitionOf(key: string, count: number): number {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: jump hash into one bucket is 0 (equivalent; this saves the hash)
  if (count <= 1) return 0;
  return jumpHash(createHash('sha256').update(key, 'utf8').digest().readBigUInt64BE(0), count);
}

/** Jump consistent hash of a 64-bit key into `count` buckets, as in the paper (arXiv:1406.2294). */
export function jumpHash(key: bigint, count: number): number {
  let k = key;
  // Stryker disable next-line UnaryOperator: the loop runs at least once for count ≥ 1 and sets b (equivalent)
  let b = -1;
  let j = 0;
  while (j < count) {
    b = j;
    k = (k * JUMP_MULTIPLIER + 1n) & MASK64;
    // Stryker disable next-line ArithmeticOperator: (x − 1) for (x + 1) changes the quotient only when k >> 33 is tiny (p ≈ 1e-6 per step); no affordable vector set sees it (equivalent in practice)
    j = Math.floor(((b + 1) * 2 ** 31) / (Number(k >> 33n) + 1));
  }
  return b;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * One partition's share of a connector-wide rate limit (`max` per `durationMs`) spread over
 * `partitions` queues: BullMQ's limiter is per queue, so each gets `max/g` per `durationMs·n/g`
 * with g = gcd(max, n). Summed over the partitions that is exactly `max` per `durationMs` in the long
 * run; when n divides max (e.g. 120/min over 4) each window also holds at most `max`, otherwise
 * (e.g. 1/s over 4 → 1 per 4 s each) the partitions' windows are not aligned and up to n·max/g can
 * start within one `durationMs`.
 */
export function partitionRateLimit(limit: { max: number; durationMs: number }, partitions: number): { max: number; durationMs: number } {
  const g = gcd(limit.max, partitions);
  return { max: limit.max / g, durationMs: (limit.durationMs * partitions) / g };
}

/**
 * The partitions of `connector` that have a queue under `prefix` (its meta key exists), among
 * 0 … MAX_PARTITIONS − 1: what an earlier `partitions` left behind. One EXISTS per candidate, sent
 * together (not as one pipeline: under a cluster the candidates sit on different slots and
 * masters, which one ioredis Cluster pipeline refuses, and a SCAN would see one node only).
 */
export async function partitionsInRedis(redis: RedisClient, prefix: string, connector: string, cluster: boolean): Promise<number[]> {
  const found = await Promise.all(
    Array.from({ length: MAX_PARTITIONS }, (_, p) => redis.exists(`${prefix}:${queueName(connector, { cluster, partition: p })}:meta`)),
  );
  return found.flatMap((n, p) => (n === 1 ? [p] : []));
}

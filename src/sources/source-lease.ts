import type { Redis } from 'ioredis';
import { BridgeError } from '../core/errors.js';
import type { RedisClient } from '../redis/redis-client.js';

/**
 * The lease a replica holds while it is the one reader of a source (`leadership.readers: leader`).
 * A source passes it to every write that records its progress (cursor, watermark, seen ids): the
 * write is accepted only while the lease key still holds this replica's value, so a leader that
 * was paused past its lease (SIGSTOP, GC pause, partition) and woke up after another replica
 * took over cannot move the shared cursor. Absent when every replica reads the source.
 */
export interface SourceLease {
  /** The lease's Redis key, under the source's `stateKeyBase` (one Cluster slot with its state). */
  readonly key: string;
  /**
   * The value the lease key holds while this replica leads: `<fencing token> <replica id>`, the
   * token a counter incremented at each acquisition (so no two leadership terms share a value).
   */
  token(): string;
  /** A fenced write was refused: the lease is gone. The daemon stops the source; nothing else to do. */
  lost(what: string): void;
}

/** A progress write refused because this replica no longer holds the source's lease. */
export class LeaseLostError extends BridgeError {
  constructor(what: string) {
    super(
      'source_lease_lost',
      `${what}: refused, this replica no longer holds the source's lease (another replica leads it now); this replica stops reading the source and stands by`,
    );
    this.name = 'LeaseLostError';
  }
}

/** What a fenced script returns when the lease check fails (no progress script returns a string like it). */
// Stryker disable next-line StringLiteral: the fence script returns this constant and evalFenced compares with the same one (equivalent)
const FENCED_OUT = 'lease_lost';

/*
 * Put in front of a progress script. ARGV[1] is the lease value the writer holds ('' for a source
 * every replica reads); with a value, the last key is the lease key. Both are taken off ARGV and
 * KEYS here, so the script after it sees exactly the keys and arguments it always did.
 */
const FENCE = `
local fence = table.remove(ARGV, 1)
if fence ~= '' and redis.call('GET', table.remove(KEYS)) ~= fence then return '${FENCED_OUT}' end
`;

/** The script with the lease check in front (see FENCE); build it once, at module load. */
export function fencedScript(script: string): string {
  return FENCE + script;
}

/**
 * Runs a script made by fencedScript: one EVAL, sent before this returns its promise (the same
 * promise as a plain `redis.eval`, see MomentCursor.commitMany). With a lease, a refusal calls
 * `lease.lost` and throws LeaseLostError; without one it is a plain EVAL of the script.
 */
export async function evalFenced(
  redis: RedisClient | Redis,
  lease: SourceLease | undefined,
  script: string,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
  what: string,
): Promise<unknown> {
  // Stryker disable next-line ArrayDeclaration: an extra key without a lease is never read (the fence short-circuits); on a Cluster it is CROSSSLOT, caught by test/redis/redis-cluster-slots.test.ts, which the mutation run leaves out
  const fenceKeys = lease ? [lease.key] : [];
  const result = await redis.eval(script, keys.length + fenceKeys.length, ...keys, ...fenceKeys, lease?.token() ?? '', ...args);
  if (result === FENCED_OUT && lease) {
    lease.lost(what);
    throw new LeaseLostError(what);
  }
  return result;
}

/* One Redis command on one key, fenced: ARGV (after the fence) is the command, then its arguments after the key. */
const FENCED_COMMAND = fencedScript(`return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))`);

/**
 * One write command (`SET`, `HSET`, `HDEL`, …) on a key of the source's state, refused like a
 * fenced script when the lease is lost; without a lease, the command as it is.
 */
export async function fencedCommand(
  redis: RedisClient | Redis,
  lease: SourceLease | undefined,
  command: string,
  key: string,
  args: readonly (string | number)[],
  what: string,
): Promise<unknown> {
  // Stryker disable next-line ConditionalExpression: without a lease the fenced script runs the same command with an empty fence (equivalent; this saves the script)
  if (!lease) return redis.call(command, key, ...args);
  return evalFenced(redis, lease, FENCED_COMMAND, [key], [command, ...args], what);
}

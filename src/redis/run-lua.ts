import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.js';

const shas = new Map<string, string>();

/**
 * Runs a Lua script atomically in Redis (EVALSHA; after NOSCRIPT — first use, a Redis restart,
 * a fail-over to a replica — one EVAL, which runs it and caches it on that server). Same argument
 * layout as Redis' EVAL: the number of keys, then keys, then args. Not SCRIPT LOAD: on a Redis
 * Cluster that goes to one node, not necessarily the one that owns the keys.
 */
export async function runLua(redis: RedisClient, script: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown> {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  try {
    return await redis.evalsha(sha, numKeys, ...keysAndArgs);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(script, numKeys, ...keysAndArgs);
  }
}

import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.js';

const shas = new Map<string, string>();

/**
 * Runs a Lua script atomically in Redis (EVALSHA, loading the script on first use or after a
 * Redis restart). Same argument layout as Redis' EVAL: the number of keys, then keys, then args.
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
    await redis.script('LOAD', script);
    return redis.evalsha(sha, numKeys, ...keysAndArgs);
  }
}

import type { Redis } from 'ioredis';

/**
 * Moves a digest window (src/redis/digest-window.ts) `ms` into the past, as if that much time
 * had passed: every bucket's start, and every shard key's expiry (a key past it is deleted, as
 * Redis would have). Lets tests cross bucket edges and the window's end without waiting.
 */
export async function ageWindow(redis: Redis, dir: string, ms: number): Promise<void> {
  for (const [field, value] of Object.entries(await redis.hgetall(dir))) {
    if (!field.startsWith('b')) continue;
    const [start, bits] = value.split(':');
    await redis.hset(dir, field, `${Number(start) - ms}:${bits}`);
  }
  for (const key of await redis.keys(`${dir}:*`)) {
    const left = await redis.pttl(key);
    if (left - ms <= 0) await redis.del(key);
    else await redis.pexpire(key, left - ms);
  }
}

import type { Redis } from 'ioredis';

/** How many ids a digest window (src/redis/digest-window.ts) holds: SCAN + HLEN over its keys, for tests and benches. */
export async function digestWindowSize(redis: Redis, dir: string): Promise<number> {
  const pattern = `${dir.replace(/[*?[\]\\]/g, '\\$&')}:*`;
  let size = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) {
      const lengths = await Promise.all(keys.map((key) => redis.hlen(key)));
      size += lengths.reduce((a, b) => a + b, 0);
    }
  } while (cursor !== '0');
  return size;
}

import type { Redis } from 'ioredis';
import { isCluster } from './redis-client.js';
import type { RedisClient } from './redis-client.js';

/**
 * Every key matching `pattern`. SCAN walks one server's keyspace, so on a Redis Cluster it runs on
 * each master (`cluster.nodes('master')`: the client's view after its last slot refresh) and the
 * results are merged; a key is listed once even if a fail-over made two nodes answer for it.
 */
export async function scanKeys(redis: RedisClient, pattern: string, count = 1000): Promise<string[]> {
  // A cluster client knows its masters once it has read the slots: a first command waits for that.
  if (isCluster(redis) && redis.status !== 'ready') await redis.ping();
  const servers: Redis[] = isCluster(redis) ? redis.nodes('master') : [redis];
  const keys = new Set<string>();
  await Promise.all(
    servers.map(async (server) => {
      let cursor = '0';
      do {
        const [next, found] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', count);
        cursor = next;
        for (const key of found) keys.add(key);
      } while (cursor !== '0');
    }),
  );
  return [...keys];
}

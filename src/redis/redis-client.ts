import type { Cluster, Redis } from 'ioredis';

/**
 * A connection the daemon and the CLI use: one Redis, or a Redis Cluster (`redis.cluster`).
 * Both speak the same commands; under a Cluster every multi-key command and Lua script must
 * touch keys of one slot (hash tags, see redis-keys.ts).
 */
export type RedisClient = Redis | Cluster;

/** Whether `client` is a Redis Cluster connection. */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

import { lookup } from 'node:dns';
import type { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisClient } from '../../src/redis/create-redis-client.js';
import { isCluster } from '../../src/redis/redis-client.js';

// What the one connection factory hands ioredis, read back from the (never connected) client:
// the same caller options mean the same for one Redis and for a cluster. Connections themselves
// are exercised against real servers in redis-cluster-*.test.ts.

describe('createRedisClient', () => {
  it('one Redis: a Redis with the URL and the options as given', () => {
    const c = createRedisClient({ kind: 'single', url: 'redis://:pw@127.0.0.1:6390/2' }, { lazyConnect: true, maxRetriesPerRequest: null });
    try {
      expect(isCluster(c)).toBe(false);
      expect((c as Redis).options).toMatchObject({ host: '127.0.0.1', port: 6390, db: 2, password: 'pw', maxRetriesPerRequest: null });
    } finally {
      c.disconnect();
    }
  });

  it('TLS seeds with a password and a natMap: every node gets TLS and the password; names are not resolved; announced addresses mapped', () => {
    const c = createRedisClient(
      { kind: 'cluster', seeds: ['rediss://u:s%40cret@a.example.com:7000', 'rediss://b.example.com'], natMap: { '10.0.0.5:6379': 'a.example.com:7000' } },
      { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: false },
    ) as Cluster;
    try {
      expect(isCluster(c)).toBe(true);
      expect(c.options.redisOptions).toMatchObject({ password: 's@cret', username: 'u', tls: {}, maxRetriesPerRequest: null });
      expect(c.options).toMatchObject({
        lazyConnect: true,
        enableOfflineQueue: false,
        enableReadyCheck: true,
        natMap: { '10.0.0.5:6379': { host: 'a.example.com', port: 7000 } },
      });
      let resolved: string | undefined;
      c.options.dnsLookup!('a.example.com', (_err, address) => (resolved = address));
      expect(resolved).toBe('a.example.com');
      // Losing every node is survived: the client keeps trying to reach the cluster.
      expect(c.options.clusterRetryStrategy!(3, new Error('down'))).toBeGreaterThan(0);
    } finally {
      c.disconnect();
    }
  });

  it('plain seeds: no TLS, no password, host names resolved as usual', () => {
    const c = createRedisClient({ kind: 'cluster', seeds: ['redis://127.0.0.1:7000'] }, { lazyConnect: true }) as Cluster;
    try {
      expect(c.options.redisOptions?.tls).toBeUndefined();
      expect(c.options.redisOptions?.password).toBeUndefined();
      expect(c.options.natMap).toBeUndefined();
      expect(c.options.dnsLookup).toBe(lookup);
    } finally {
      c.disconnect();
    }
  });
});

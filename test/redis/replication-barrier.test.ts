import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { startTestRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { makeQueues, routed } from '../queue/queue-test-kit.js';

// A Redis Cluster without replicas (some run one so): the enqueue's replication barrier must not
// ask a master that has no replica to wait (WAIT 1 would block for its whole timeout on every
// batch). The barrier on a cluster with replicas is in redis-cluster-slots.test.ts.

let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startTestRedisCluster({ replicasPerMaster: 0 });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

async function waitCalls(port: number): Promise<number> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  try {
    await r.connect();
    return Number(/cmdstat_wait:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0);
  } finally {
    r.disconnect();
  }
}

describe('the replication barrier on a cluster without replicas', () => {
  it('sends no WAIT to a master that has no replica, and the deliveries are queued', async () => {
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    expect(cluster.urls).toHaveLength(3);
    const queues = makeQueues(
      '',
      'mb',
      { a: { connector: new ScriptedConnector() }, b: { connector: new ScriptedConnector() }, c: { connector: new ScriptedConnector() } },
      { connection: { kind: 'cluster', seeds: cluster.urls }, cluster: true },
    );
    try {
      for (let i = 0; i < 5; i++) {
        expect(await queues.enqueue([routed(`${i}-a`, 'a'), routed(`${i}-b`, 'b'), routed(`${i}-c`, 'c')])).toMatchObject({ enqueued: 3, duplicates: 0 });
      }
      const depth = await queues.depth();
      expect(Object.values(depth).map((d) => d.waiting)).toEqual([5, 5, 5]);
      expect(await Promise.all(masters.map(waitCalls))).toEqual([0, 0, 0]);
    } finally {
      await queues.close();
    }
  });
});

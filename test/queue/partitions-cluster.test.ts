import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionsInRedis } from '../../src/queue/partitions.js';
import { queueName } from '../../src/queue/queue-names.js';
import { startTestRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';

// Partition queues on a real Redis Cluster (3 masters): each partition has its own hash tag, so a
// connector's partitions spread over the masters, and they are found on every master.
let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startTestRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('partition queues on a Redis Cluster', () => {
  it('spread one connector over the masters, each queue in one slot, and are all found again', async () => {
    const c = cluster.client();
    const prefix = 'mb';
    const names = Array.from({ length: 8 }, (_, p) => queueName('hot', { cluster: true, partition: p }));
    const slots = await Promise.all(names.map((n) => c.cluster('KEYSLOT', `${prefix}:${n}:wait`) as Promise<number>));
    // Every key of one queue shares its slot (BullMQ's scripts touch several at once).
    for (const [i, n] of names.entries()) expect(await c.cluster('KEYSLOT', `${prefix}:${n}:meta`)).toBe(slots[i]);
    expect(new Set(slots).size).toBe(8);

    for (const n of names) {
      const q = new Queue(n, { connection: c, prefix });
      await q.add('d', { n });
      await q.close();
    }
    const ranges = await c.cluster('SLOTS');
    const owner = (slot: number) => ranges.find(([from, to]) => slot >= from && slot <= to)![2]![1];
    const masters = new Set(slots.map(owner));
    expect(masters.size).toBe(3);
    const perMaster = await Promise.all(c.nodes('master').map((node) => node.dbsize()));
    for (const keys of perMaster) expect(keys).toBeGreaterThan(0);

    expect(await partitionsInRedis(c, prefix, 'hot', true)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await partitionsInRedis(c, prefix, 'cold', true)).toEqual([]);
  }, 60_000);
});

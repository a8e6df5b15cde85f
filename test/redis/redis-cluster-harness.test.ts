import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';

// The local Redis Cluster the scale-out tests (issue #18) run on: three masters with a replica
// each, from Debian's redis-server. This checks the harness itself: keys spread over the three
// masters, and a SIGKILLed master's replica takes over its slots while a client keeps writing.

let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startTestRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('test Redis Cluster', () => {
  it('three masters hold every slot; keys without a hash tag spread over all three', async () => {
    expect(await cluster.masters()).toHaveLength(3);
    const c = cluster.client();
    for (let i = 0; i < 300; i++) await c.set(`spread:${i}`, String(i));
    const perMaster = await Promise.all(c.nodes('master').map((n) => n.dbsize()));
    expect(perMaster).toHaveLength(3);
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(300);
    for (const n of perMaster) expect(n).toBeGreaterThan(50);
    // One hash tag, one slot: keys a multi-key script touches together.
    expect(await c.cluster('KEYSLOT', '{src:a}:cursor')).toBe(await c.cluster('KEYSLOT', '{src:a}:seen'));
  });

  it('a SIGKILLed master: its replica is promoted, and writes to its slots go on', async () => {
    const c = cluster.client();
    await c.set('{victim}:k', 'before');
    const slot = (await c.cluster('KEYSLOT', '{victim}:k')) as number;
    const range = (await c.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to)!;
    const owner = range[2]![1];
    const before = await cluster.masters();
    expect(before).toContain(owner);
    cluster.kill(owner);
    await cluster.failedOver(owner);
    const after = await cluster.masters();
    expect(after).toHaveLength(3);
    expect(after).not.toContain(owner);
    // Replication is asynchronous: the promoted replica has what it had received (this key was
    // written well before the kill), and takes new writes.
    expect(await c.get('{victim}:k')).toBe('before');
    await c.set('{victim}:k', 'after');
    expect(await c.get('{victim}:k')).toBe('after');
  }, 60_000);
});

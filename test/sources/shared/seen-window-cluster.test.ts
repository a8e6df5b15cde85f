import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MomentCursor } from '../../../src/sources/moments/moment-cursor.js';
import { SeenWindow } from '../../../src/sources/shared/seen-window.js';
import { startTestRedisCluster, type TestRedisCluster } from '../../helpers/redis-cluster.js';

// Under redis.cluster a source's keys share its hash tag (stateKeyBase): the window's scripts
// derive every key from the directory key, so they stay in its slot however many shards it has.

let cluster: TestRedisCluster;
beforeAll(async () => {
  cluster = await startTestRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('seen window on a Redis Cluster', () => {
  it('marks and checks thousands of ids over many shard keys in one slot, and the moments cursor commits with it', async () => {
    const c = cluster.client();
    const base = '{mb:source:moments}:';
    const window = new SeenWindow(c, base, 3_600_000, { kind: 'zset', key: `${base}seen` });
    const ids = Array.from({ length: 3000 }, (_, i) => `m-${i}`);
    for (let i = 0; i < ids.length; i += 500) await window.markMany(ids.slice(i, i + 500));
    expect((await window.seenMany(ids)).every(Boolean)).toBe(true);
    expect(await window.seenMany(['never'])).toEqual([false]);
    const slot = await c.cluster('KEYSLOT', window.key);
    const perMaster = await Promise.all(c.nodes('master').map((n) => n.keys(`${window.key}*`)));
    // Every key of the window (directory and shards) on one master.
    expect(perMaster.filter((keys) => keys.length > 0)).toHaveLength(1);
    expect(perMaster.flat().length).toBeGreaterThan(2);
    expect(await c.cluster('KEYSLOT', `${window.key}:1:0`)).toBe(slot);

    const cursor = new MomentCursor(c, base, 3_600_000);
    await cursor.commitMany([{ publicId: 'c-1', createdAt: '2026-01-01T00:00:00.000Z' }]);
    expect(await cursor.seenMany(['c-1', 'm-7', 'c-2'])).toEqual([true, true, false]);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { GroupStore, type GroupSettings } from '../../src/routing/grouping.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
});

const ev = (n: number): BridgeEvent => ({ id: `obs:observer.row:${n}`, source: 'obs', kind: 'observer.row', time: '2026-01-01T00:00:00.000Z', data: { n } });
const settings = (over: Partial<GroupSettings> = {}): GroupSettings => ({ waitMs: 30_000, intervalMs: 300_000, max: 100, ...over });
const T0 = 1_767_225_600_000;

describe('GroupStore keys', () => {
  it('keeps every key under <prefix>{routing-groups}: (one Cluster slot), named as earlier versions named them', async () => {
    const store = new GroupStore(redis.client(), 'mb:');
    expect(await store.add('r', '["a"]', ev(1), settings(), T0)).toBe(true);
    // Pinned: pending digests written by one version must be found by the next (sha256 of the
    // member ["r","[\"a\"]"], base64url, 27 characters).
    expect((await redis.client().keys('*')).sort()).toEqual([
      'mb:{routing-groups}:due',
      'mb:{routing-groups}:events:mmn5NlB3ld6a9H9LqOWj9ItIbDT',
      'mb:{routing-groups}:seen:r:obs:observer.row:1',
    ]);
    expect(await redis.client().zscore('mb:{routing-groups}:due', '["r","[\\"a\\"]"]')).toBe(String(T0 + 30_000));
    const [group] = await store.claimDue(T0 + 30_000, 60_000, () => 10);
    await store.complete(group!, 1, settings(), T0 + 30_000);
    expect(await redis.client().exists('mb:{routing-groups}:last:mmn5NlB3ld6a9H9LqOWj9ItIbDT')).toBe(1);
  });
});

describe('GroupStore.add', () => {
  it('adds an event to its group once: the same event again (another replica routing it) is not added', async () => {
    const store = new GroupStore(redis.client(), 'mb:');
    expect(await store.add('r', 'k', ev(1), settings(), T0)).toBe(true);
    expect(await store.add('r', 'k', ev(1), settings(), T0 + 1)).toBe(false);
    expect(await store.add('r', 'k', ev(2), settings(), T0 + 2)).toBe(true);
    expect(await store.add('other-route', 'k', ev(1), settings(), T0 + 3)).toBe(true);
    const [group] = (await store.claimDue(T0 + 60_000, 60_000, () => 10)).filter((g) => g.route === 'r');
    expect(group!.events.map((e) => e.id)).toEqual(['obs:observer.row:1', 'obs:observer.row:2']);
  });

  it('remembers an event for an hour, or twice wait + interval when that is longer', async () => {
    const store = new GroupStore(redis.client(), 'mb:');
    await store.add('r', 'k', ev(1), settings({ waitMs: 1000, intervalMs: 2000 }), T0);
    const short = await redis.client().pttl('mb:{routing-groups}:seen:r:obs:observer.row:1');
    expect(short).toBeGreaterThan(3_590_000);
    expect(short).toBeLessThanOrEqual(3_600_000);
    await store.add('r', 'k', ev(2), settings({ waitMs: 2 * 3_600_000, intervalMs: 3_600_000 }), T0);
    const long = await redis.client().pttl('mb:{routing-groups}:seen:r:obs:observer.row:2');
    expect(long).toBeGreaterThan(6 * 3_600_000 - 10_000);
    expect(long).toBeLessThanOrEqual(6 * 3_600_000);
  });
});

describe('GroupStore.pendingCount', () => {
  it('counts groups waiting and groups being flushed', async () => {
    const store = new GroupStore(redis.client(), 'mb:');
    await store.add('r', 'a', ev(1), settings({ waitMs: 1000 }), T0);
    await store.add('r', 'b', ev(2), settings({ waitMs: 1000 }), T0);
    await store.add('r', 'c', ev(3), settings({ waitMs: 60_000 }), T0);
    expect(await store.pendingCount()).toBe(3);
    const claimed = await store.claimDue(T0 + 1000, 60_000, () => 10);
    expect(claimed).toHaveLength(2);
    expect(await store.pendingCount()).toBe(3); // 1 due + 2 leased
    await store.reschedule(claimed[0]!, T0 + 5000);
    expect(await store.pendingCount()).toBe(3); // 2 due + 1 leased
    await store.complete(claimed[1]!, 1, settings(), T0 + 1000);
    expect(await store.pendingCount()).toBe(2);
    expect(await redis.client().zcard('mb:{routing-groups}:leases')).toBe(0);
    const again = await store.claimDue(T0 + 5000, 60_000, () => 10);
    expect(again.map((g) => g.groupKey)).toEqual([claimed[0]!.groupKey]);
  });
});

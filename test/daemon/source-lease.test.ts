import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.js';
import { leaseHolderId, RedisLease } from '../../src/daemon/redis-lease.js';
import { SourceLeadership, type LeadershipSettings } from '../../src/daemon/source-leadership.js';
import { MomentCursor } from '../../src/sources/moments/moment-cursor.js';
import { TriggerWatermark } from '../../src/sources/moments/trigger-watermark.js';
import { fencedCommand, LeaseLostError, type SourceLease } from '../../src/sources/source-lease.js';
import { until } from '../helpers/until.js';
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

const BASE = 'mb:source:orders:';
const T = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

/** A source's view of a lease value, recording the refusals it was told about. */
function leaseOf(value: string): SourceLease & { refusals: string[] } {
  const refusals: string[] = [];
  return { key: `${BASE}leader`, token: () => value, lost: (what) => refusals.push(what), refusals };
}

describe('RedisLease', () => {
  it('is taken by one replica at a time, with a fencing token that grows at every acquisition', async () => {
    const a = new RedisLease(redis.client(), BASE, 'replica-a', 60_000);
    const b = new RedisLease(redis.client(), BASE, 'replica-b', 60_000);
    const first = await a.acquire();
    expect(first).toEqual({ acquired: true, value: '1 replica-a' });
    expect(await b.acquire()).toEqual({ acquired: false, holder: '1 replica-a' });
    expect(await redis.client().pttl(`${BASE}leader`)).toBeGreaterThan(50_000);

    // Only the holder renews or releases.
    expect(await b.renew('1 replica-a-forged')).toBe(false);
    expect(await b.release('2 replica-b')).toBe(false);
    expect(await a.renew('1 replica-a')).toBe(true);
    expect(await a.release('1 replica-a')).toBe(true);

    const second = await b.acquire();
    expect(second).toEqual({ acquired: true, value: '2 replica-b' });
    expect(leaseHolderId('2 replica-b')).toBe('replica-b');
    // The old term's value renews nothing, even for the replica that held it.
    expect(await a.renew('1 replica-a')).toBe(false);
    // The token counter sits beside the lease (same key base: one Cluster slot) and counts the terms.
    expect(await redis.client().get(`${BASE}leader:token`)).toBe('2');
  });

  it('is taken over at once by its own replica restarted (same replica id), under a new token', async () => {
    const before = new RedisLease(redis.client(), BASE, 'pod-0', 60_000);
    const restarted = new RedisLease(redis.client(), BASE, 'pod-0', 60_000);
    const other = new RedisLease(redis.client(), BASE, 'pod-1', 60_000);
    expect(await before.acquire()).toEqual({ acquired: true, value: '1 pod-0' });
    expect(await other.acquire()).toEqual({ acquired: false, holder: '1 pod-0' });
    expect(await restarted.acquire()).toEqual({ acquired: true, value: '2 pod-0' });
    // The crashed incarnation's term is over: its writes and renewals are refused.
    expect(await before.renew('1 pod-0')).toBe(false);
  });

  it('expires when not renewed, and then another replica takes it', async () => {
    const a = new RedisLease(redis.client(), BASE, 'replica-a', 150);
    const b = new RedisLease(redis.client(), BASE, 'replica-b', 150);
    const held = await a.acquire();
    expect(held.acquired).toBe(true);
    await until(async () => (await redis.client().exists(`${BASE}leader`)) === 0, 5_000, 'the lease to expire');
    expect(await a.renew('1 replica-a')).toBe(false);
    expect(await b.acquire()).toEqual({ acquired: true, value: '2 replica-b' });
  });
});

describe('fenced progress writes', () => {
  it("refuse a stale leader's cursor commit: the cursor stays where the new leader put it, and the old leader is told", async () => {
    const a = new RedisLease(redis.client(), BASE, 'replica-a', 150);
    const b = new RedisLease(redis.client(), BASE, 'replica-b', 60_000);
    const termA = await a.acquire();
    if (!termA.acquired) throw new Error('replica-a should lead');
    const leaseA = leaseOf(termA.value);
    const cursorA = new MomentCursor(redis.client(), BASE, 60_000, leaseA);
    await cursorA.commit('m1', T(1));

    // replica-a "pauses": it does not renew past its ttl, and replica-b takes the source over.
    await until(async () => (await b.acquire()).acquired, 5_000, 'replica-b to take the lease');
    const leaseB = leaseOf((await b.holder())!);
    const cursorB = new MomentCursor(redis.client(), BASE, 60_000, leaseB);
    await cursorB.commit('m2', T(2));

    // replica-a wakes up and commits a newer moment: refused, nothing of it recorded.
    await expect(cursorA.commit('m9', T(9))).rejects.toBeInstanceOf(LeaseLostError);
    await expect(cursorA.commit('m9', T(9))).rejects.toMatchObject({
      code: 'source_lease_lost',
      name: 'LeaseLostError',
      message: expect.stringMatching(/^moments cursor commit: refused, this replica no longer holds the source's lease/),
    });
    expect(leaseA.refusals).toEqual(['moments cursor commit', 'moments cursor commit']);
    expect(await cursorB.load()).toEqual({ createdAt: T(2), publicIds: ['m2'] });
    expect(await cursorB.seen('m9')).toBe(false);
    expect(leaseB.refusals).toEqual([]);
  });

  it('refuse the trigger watermark and single commands (observer seen rows, known calls) the same way', async () => {
    const lease = new RedisLease(redis.client(), BASE, 'replica-b', 60_000);
    const term = await lease.acquire();
    if (!term.acquired) throw new Error('should lead');
    const current = leaseOf(term.value);
    const stale = leaseOf('0 replica-a');

    const watermark = new TriggerWatermark(redis.client(), BASE, current);
    await watermark.advance(T(5));
    await expect(new TriggerWatermark(redis.client(), BASE, stale).advance(T(9))).rejects.toBeInstanceOf(LeaseLostError);
    expect(await watermark.load()).toBe(T(5));

    const client = redis.client();
    expect(await fencedCommand(client, current, 'SET', `${BASE}seen:r1`, ['1', 'PX', 60_000], 'observer seen row')).toBe('OK');
    await expect(fencedCommand(client, stale, 'SET', `${BASE}seen:r2`, ['1', 'PX', 60_000], 'observer seen row')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(fencedCommand(client, stale, 'HSET', `${BASE}calls`, ['c1', '{}'], 'observer known call')).rejects.toBeInstanceOf(LeaseLostError);
    expect(await client.exists(`${BASE}seen:r1`, `${BASE}seen:r2`, `${BASE}calls`)).toBe(1);
    expect(stale.refusals).toEqual(['trigger watermark advance', 'observer seen row', 'observer known call']);
  });

  it('leave sources without a lease (every-replica mode, user sources) as they were', async () => {
    // A lease held by someone else is not looked at when the writer has none.
    await redis.client().set(`${BASE}leader`, '7 replica-x');
    const cursor = new MomentCursor(redis.client(), BASE, 60_000);
    await cursor.commitMany([
      { publicId: 'a', createdAt: T(1) },
      { publicId: 'b', createdAt: T(1) },
    ]);
    expect(await cursor.load()).toEqual({ createdAt: T(1), publicIds: ['a', 'b'] });
    expect(await fencedCommand(redis.client(), undefined, 'HSET', `${BASE}calls`, ['c1', '{}'], 'observer known call')).toBe(1);
  });
});

describe('SourceLeadership', () => {
  const settings = (replicaId: string): LeadershipSettings => ({ readers: 'leader', leaseTtlMs: 600, renewEveryMs: 100, replicaId });

  /** A leadership whose "source" is a flag: running while led. */
  function replica(id: string) {
    const state = { running: false, starts: 0, leases: [] as SourceLease[] };
    const leadership = new SourceLeadership({
      name: 'orders',
      redis: redis.client(),
      keyBase: BASE,
      settings: settings(id),
      logger: silentLogger(),
      lead: async (lease) => {
        state.running = true;
        state.starts += 1;
        state.leases.push(lease);
      },
      standDown: async () => {
        state.running = false;
      },
    });
    return { leadership, state };
  }

  it('runs the source on one replica; a clean stop releases the lease and the stand-by takes over', async () => {
    const a = replica('replica-a');
    const b = replica('replica-b');
    await a.leadership.start();
    await b.leadership.start();
    expect(a.state.running).toBe(true);
    expect(b.state.running).toBe(false);
    expect(a.leadership.role()).toEqual({ role: 'leader', replica: 'replica-a', leader: 'replica-a' });
    expect(b.leadership.role()).toEqual({ role: 'standby', replica: 'replica-b', leader: 'replica-a' });
    // Renewals keep it with replica-a well past its ttl.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(b.state.running).toBe(false);
    expect(a.state.starts).toBe(1);

    await a.leadership.stop();
    expect(a.state.running).toBe(false);
    await until(() => b.state.running, 5_000, 'replica-b to lead');
    expect(b.leadership.role().role).toBe('leader');
    await b.leadership.stop();
    expect(await redis.client().exists(`${BASE}leader`)).toBe(0);
  });

  it('stops reading on its own once Redis has been unreachable for a whole lease (it has expired there)', async () => {
    const own = await startTestRedis();
    try {
      const state = { running: false };
      const leadership = new SourceLeadership({
        name: 'orders',
        // Like the daemon's connection: commands wait in the offline queue while Redis is away.
        redis: own.client(),
        keyBase: BASE,
        settings: settings('replica-a'),
        logger: silentLogger(),
        lead: async () => {
          state.running = true;
        },
        standDown: async () => {
          state.running = false;
        },
      });
      await leadership.start();
      expect(state.running).toBe(true);
      await own.server.stop();
      await until(() => !state.running, 10_000, 'the source to stop without Redis');
      expect(leadership.role().role).toBe('standby');
      await leadership.stop();
    } finally {
      await own.stop().catch(() => undefined);
    }
  });

  it('stops the source when its lease is taken, and when a fenced write was refused', async () => {
    const a = replica('replica-a');
    await a.leadership.start();
    expect(a.state.running).toBe(true);
    // Another replica took the lease (e.g. this one was paused past its ttl).
    await redis.client().set(`${BASE}leader`, '99 replica-z', 'PX', 60_000);
    await until(() => !a.state.running, 5_000, 'replica-a to stand down');
    // The next poll finds who leads now.
    await until(() => a.leadership.role().leader === 'replica-z', 5_000, 'replica-a to see the new leader');
    expect(a.leadership.role()).toEqual({ role: 'standby', replica: 'replica-a', leader: 'replica-z' });
    // The other one goes away: replica-a leads again, under a new token.
    await redis.client().del(`${BASE}leader`);
    await until(() => a.state.running, 5_000, 'replica-a to lead again');
    expect(a.state.leases.map((l) => l.token().split(' ')[0])).toEqual(['1', '2']);

    // A progress write refused tells the lease: the source stops at once.
    a.state.leases[1]!.lost('moments cursor commit');
    await until(() => !a.state.running, 5_000, 'replica-a to stand down after a refused write');
    await a.leadership.stop();
  });
});

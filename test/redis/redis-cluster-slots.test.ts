import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlushLock } from '../../connectors/sheets/flush-lock.js';
import { WriteBudget } from '../../connectors/sheets/write-budget.js';
import { silentLogger } from '../../src/core/log.js';
import { listQuarantined, quarantine } from '../../src/quarantine/quarantine.js';
import { sourceKeyBase } from '../../src/redis/redis-keys.js';
import { runLua } from '../../src/redis/run-lua.js';
import { GroupStore } from '../../src/routing/grouping.js';
import { claimWindow } from '../../src/routing/throttle.js';
import { MomentCursor } from '../../src/sources/moments/moment-cursor.js';
import { TriggerWatermark } from '../../src/sources/moments/trigger-watermark.js';
import { RedisEpoch } from '../../src/sources/shared/redis-epoch.js';
import { keySlot } from '../../src/redis/key-slot.js';
import { awaitReplicas } from '../../src/redis/replication-barrier.js';
import { until } from '../helpers/until.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { makeQueues, routed } from '../queue/queue-test-kit.js';
import { queueName } from '../../src/queue/queue-names.js';
import { Redis } from 'ioredis';
import { startTestRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';

// The slot audit of issue #18, run against a real Redis Cluster: every Lua script, MULTI and
// pipeline the bridge sends touches keys of one slot, or the cluster refuses it with CROSSSLOT.
// Each unit that sends one runs here on a Cluster client; the first case shows the refusal
// this would catch.

let cluster: TestRedisCluster;
let c: Cluster;
beforeAll(async () => {
  cluster = await startTestRedisCluster();
  c = cluster.client();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

const iso = '2026-12-07T10:00:00.000Z';

describe('one slot per script, transaction and pipeline on a Redis Cluster', () => {
  it('control: a script over keys of two slots is refused (CROSSSLOT) — what the cases below would hit', async () => {
    await expect(runLua(c, "return redis.call('EXISTS', KEYS[1], KEYS[2])", 2, 'mb:a', 'mb:b')).rejects.toThrow(/CROSSSLOT/);
  });

  it('runLua: a script new to the node that owns the keys runs (NOSCRIPT → EVAL on that node, not SCRIPT LOAD on any node)', async () => {
    for (const tag of ['t1', 't2', 't3', 't4', 't5', 't6']) {
      const script = `return redis.call('MSET', KEYS[1], ARGV[1], KEYS[2], ARGV[1]) and '${tag}'`;
      expect(await runLua(c, script, 2, `{${tag}}:a`, `{${tag}}:b`, 'v')).toBe(tag);
      expect(await runLua(c, script, 2, `{${tag}}:a`, `{${tag}}:b`, 'w')).toBe(tag); // now cached: EVALSHA
    }
  });

  it('moment cursor: cursor and seen set in one script (commit) and one pipeline (seen check)', async () => {
    const cursor = new MomentCursor(c, sourceKeyBase('mb:', 'orders', { cluster: true }), 60_000);
    await cursor.commitMany([
      { publicId: 'p1', createdAt: iso },
      { publicId: 'p2', createdAt: iso },
    ]);
    expect(await cursor.seenMany(['p1', 'p2', 'p3'])).toEqual([true, true, false]);
    expect(await cursor.load()).toMatchObject({ createdAt: iso });
  });

  it('trigger watermark: one script on the source key base', async () => {
    const watermark = new TriggerWatermark(c, sourceKeyBase('mb:', 'orders', { cluster: true }));
    await watermark.advance(iso);
    expect(await watermark.load()).toBe(iso);
  });

  it('grouping: the add script (five keys) and the pending count under {routing-groups}', async () => {
    const groups = new GroupStore(c, 'mb:');
    const event = { id: 'e1', source: 's', kind: 'moment', time: iso, data: {} };
    expect(await groups.add('r', 'k', event, { waitMs: 1000, intervalMs: 1000, max: 10 }, Date.now())).toBe(true);
    expect(await groups.add('r', 'k', event, { waitMs: 1000, intervalMs: 1000, max: 10 }, Date.now())).toBe(false);
    expect(await groups.pendingCount()).toBe(1);
  });

  it('throttle and dedupe: one key per claim script (names unchanged under a cluster)', async () => {
    expect(await claimWindow(c, 'mb:routing:throttle:r:k', 'e1', 60_000)).toBe(true);
    expect(await claimWindow(c, 'mb:routing:throttle:r:k', 'e2', 60_000)).toBe(false);
  });

  it('quarantine: LPUSH + LTRIM of one list in one MULTI', async () => {
    await quarantine(c, 'mb:', silentLogger(), { source: 's', kind: 'moment', reason: 'bad', raw: { x: 1 } });
    expect(await listQuarantined(c, 'mb:')).toMatchObject([{ source: 's', reason: 'bad' }]);
  });

  it('sheets connector state: the flush lock script and the write budget MULTI', async () => {
    const lock = new FlushLock(c, 'mb:connector:{sheet}:lock', 'sheet');
    const token = await lock.acquire(AbortSignal.timeout(5_000));
    await lock.release(token);
    expect(await c.exists('mb:connector:{sheet}:lock')).toBe(0);
    const budget = new WriteBudget({ redis: c, log: silentLogger(), name: 'sheet', keyBase: 'mb:connector:{sheet}:', writesPerMinute: 5 });
    await budget.reserve('append');
    expect(await c.zcard('mb:connector:{sheet}:writes')).toBe(1);
  });

  it("enqueue on a cluster: jobs are on a replica (WAIT 1) before enqueue returns, asked of the queue's master only", async () => {
    const waits = async (port: number) => {
      const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
      try {
        await r.connect();
        return Number(/cmdstat_wait:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0);
      } finally {
        r.disconnect();
      }
    };
    const queues = makeQueues(
      '',
      'mb',
      { hooks: { connector: new ScriptedConnector() } },
      { connection: { kind: 'cluster', seeds: cluster.urls }, cluster: true },
    );
    try {
      const masters = await cluster.masters();
      const slots = await c.cluster('SLOTS');
      const slot = keySlot(`mb:${queueName('hooks', { cluster: true })}:meta`);
      const owner = slots.find(([from, to]) => slot >= from && slot <= to)![2]![1];
      const before = await Promise.all(masters.map(waits));
      expect(await queues.enqueue([routed(1, 'hooks'), routed(2, 'hooks')])).toMatchObject({ enqueued: 2 });
      const after = await Promise.all(masters.map(waits));
      masters.forEach((port, i) => expect(after[i]! - before[i]!, `WAIT calls on ${port}`).toBe(port === owner ? 1 : 0));
    } finally {
      await queues.close();
    }
  });

  // Last: it kills a master.
  it('RedisEpoch: a master fail-over starts a new epoch; the promoted replica has the replicated cursor and takes the next write', async () => {
    let reconnects = 0;
    const epoch = new RedisEpoch({ shared: c, logger: silentLogger(), onReconnect: () => reconnects++ });
    try {
      await epoch.connect();
      await until(() => epoch.redis.status === 'ready', 10_000, 'the epoch connection');
      const base = sourceKeyBase('mb:', 'epoch', { cluster: true });
      const cursor = new MomentCursor(epoch.redis, base, 60_000);
      await cursor.commitMany([{ publicId: 'before', createdAt: iso }]);
      await awaitReplicas(epoch.redis, [`${base}cursor`]);
      const before = epoch.current;
      expect(epoch.holds(before)).toBe(true);

      const slots = await c.cluster('SLOTS');
      const victim = slots.find(([from, to]) => keySlot(`${base}cursor`) >= from && keySlot(`${base}cursor`) <= to)![2]![1];
      cluster.kill(victim);
      await cluster.failedOver(victim);
      await until(() => epoch.current > before, 10_000, 'a new epoch');
      // A hand-over noted before the fail-over may no longer be recorded; the source re-reads instead.
      expect(epoch.holds(before)).toBe(false);
      expect(reconnects).toBeGreaterThan(0);

      // Not an empty Redis: the promoted replica has the cursor and seen set, and takes writes.
      const later = '2026-12-07T11:00:00.000Z';
      await until(
        () =>
          cursor.commitMany([{ publicId: 'after', createdAt: later }]).then(
            () => true,
            () => false,
          ),
        20_000,
        'a write on the promoted replica',
      );
      expect(await cursor.seenMany(['before', 'after'])).toEqual([true, true]);
      expect(await cursor.load()).toMatchObject({ createdAt: later });
    } finally {
      epoch.close();
    }
  }, 60_000);
});

import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { configSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/log.js';
import { registry } from '../../src/core/metrics.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { simulatorSourceConfig, startMomentsSimulator, type MomentsSimulator } from '../../simulators/moments/moments-simulator.js';
import { startChaosSink, type ChaosSink } from '../chaos/chaos-sink.js';
import { until, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let sim: MomentsSimulator;
let sink: ChaosSink;
const daemons: Daemon[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  sink = await startChaosSink();
});
afterAll(async () => {
  await sink.stop();
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
  sim = await startMomentsSimulator();
});
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
  await sim.stop();
});

interface ReplicaOptions {
  replicaId: string;
  readers?: 'leader' | 'every-replica';
  pageSize?: number;
  routes?: number;
}

/** The config of one replica: the moments source on the simulator, every moment to the sink. */
function configYaml(o: ReplicaOptions & { leaseTtl?: string; renewEvery?: string }): string {
  return stringify({
    redis: { url: redis.url, keyPrefix: 'mb' },
    sources: { moments: simulatorSourceConfig(sim, { reconnect: { initialDelay: '50ms', maxDelay: '400ms' }, pageSize: o.pageSize ?? 100 }) },
    connectors: { hook: { type: 'webhook', url: sink.url, allowPrivateNetworks: true, body: { id: '{{ id }}' }, timeout: '5s' } },
    routes: Array.from({ length: o.routes ?? 1 }, (_, i) => ({ name: `all-${i}`, match: { kind: 'moment' }, to: ['hook'] })),
    server: { port: 0, host: '127.0.0.1' },
    shutdown: { grace: '1s' },
    // Short, so hand-overs happen within the test's patience; the defaults are 6s / 2s.
    leadership: { readers: o.readers ?? 'leader', leaseTtl: o.leaseTtl ?? '1500ms', renewEvery: o.renewEvery ?? '250ms', replicaId: o.replicaId },
  });
}

async function startReplica(o: Parameters<typeof configYaml>[0]): Promise<{ daemon: Daemon; file: string }> {
  const file = writeConfig(configYaml(o));
  const daemon = await Daemon.start({ loaded: await loadValidatedConfig(file), logger: silentLogger() });
  daemons.push(daemon);
  return { daemon, file };
}

async function sourceCheck(d: Daemon): Promise<{ ok: boolean; detail?: Record<string, unknown> } | undefined> {
  return (await d.readiness()).checks['source:moments'] as { ok: boolean; detail?: Record<string, unknown> } | undefined;
}

describe('source leadership in the daemon', () => {
  it('one replica reads, the other stands by and is ready; a hot reload keeps the reader; SIGTERM hands the source over at once', async () => {
    const a = await startReplica({ replicaId: 'replica-a' });
    const b = await startReplica({ replicaId: 'replica-b' });
    await until('replica-a connected', async () => (await sourceCheck(a.daemon))?.detail?.status === 'connected');
    expect(await sourceCheck(a.daemon)).toMatchObject({ ok: true, detail: { status: 'connected', role: 'leader', replica: 'replica-a' } });
    expect(await sourceCheck(b.daemon)).toEqual({ ok: true, detail: { status: 'standby', role: 'standby', replica: 'replica-b', leader: 'replica-a' } });
    expect((await b.daemon.readiness()).ready).toBe(true);
    expect(sim.control.stats()).toMatchObject({ openSockets: 1, momentSubscriptions: 1 });

    // A reload that changes routes only: the leader keeps its connection.
    const connections = sim.control.stats().realtimeConnections;
    writeFileSync(a.file, configYaml({ replicaId: 'replica-a', routes: 2 }));
    expect(await a.daemon.reload()).toMatchObject({ ok: true, needsRestart: [] });
    expect(sim.control.stats().realtimeConnections).toBe(connections);
    expect((await sourceCheck(a.daemon))?.detail?.role).toBe('leader');

    // A reload that changes the source: restarted under a new lease, still one reader.
    writeFileSync(a.file, configYaml({ replicaId: 'replica-a', routes: 2, pageSize: 50 }));
    expect(await a.daemon.reload()).toMatchObject({ ok: true, changes: expect.arrayContaining(['source moments: restarted']) });
    await until('one reader after the source restart', async () => {
      const roles = [(await sourceCheck(a.daemon))?.detail?.role, (await sourceCheck(b.daemon))?.detail?.role].sort();
      return roles[0] === 'leader' && roles[1] === 'standby' && sim.control.stats().momentSubscriptions === 1;
    });

    // A leadership change needs a restart: reported, not applied.
    writeFileSync(a.file, configYaml({ replicaId: 'replica-a', routes: 2, pageSize: 50, readers: 'every-replica' }));
    expect(await a.daemon.reload()).toMatchObject({ ok: true, needsRestart: ['leadership'] });

    // Clean stop of whichever leads: the lease is released, the other takes over at its next poll.
    const [leader, standby] = (await sourceCheck(a.daemon))?.detail?.role === 'leader' ? [a.daemon, b.daemon] : [b.daemon, a.daemon];
    await leader.stop();
    await until('the stand-by to lead and connect', async () => {
      const c = await sourceCheck(standby);
      return c?.detail?.role === 'leader' && c.detail.status === 'connected';
    });
    expect(sim.control.stats()).toMatchObject({ openSockets: 1, momentSubscriptions: 1 });

    // Moments made now reach the sink through the new leader.
    sim.control.createMoment({ publicId: 'after-handover' });
    await until('the moment delivered', () => sink.receipts.get('moments:moment:after-handover') === 1);
  }, 60_000);

  it('a leader whose lease another replica took before its renewal noticed: its cursor commit is refused, the cursor stays, and it stops reading', async () => {
    // Renewals far apart, so the refused commit, not a renewal, is what tells it.
    const a = await startReplica({ replicaId: 'replica-a', leaseTtl: '60s', renewEvery: '30s' });
    await until('replica-a connected', async () => (await sourceCheck(a.daemon))?.detail?.status === 'connected');
    sim.control.createMoment({ publicId: 'under-the-lease' });
    const cursorKey = 'mb:source:moments:cursor';
    await until('the first moment committed', async () => (await redis.client().hget(cursorKey, 'ids'))?.includes('under-the-lease'));
    const before = await redis.client().hgetall(cursorKey);

    // Another replica holds the source now (as after this one was paused past its lease).
    await redis.client().set('mb:source:moments:leader', '99 replica-z', 'PX', 60_000);
    sim.control.createMoment({ publicId: 'after-the-takeover' });
    await until('replica-a to stand down', async () => (await sourceCheck(a.daemon))?.detail?.status === 'standby');
    expect(await sourceCheck(a.daemon)).toEqual({ ok: true, detail: { status: 'standby', role: 'standby', replica: 'replica-a' } });
    expect(await redis.client().hgetall(cursorKey)).toEqual(before);
    expect(await redis.client().zscore('mb:source:moments:seen', 'after-the-takeover')).toBeNull();
    expect(sim.control.stats().momentSubscriptions).toBe(0);
    // Told by the refused write (renewals are 30 s apart): counted as fenced.
    const lost = (await registry.getSingleMetric('mb_source_lease_lost_total')!.get()).values;
    expect(lost.filter((v) => v.labels.source === 'moments').map((v) => [v.labels.reason, v.value])).toEqual([['fenced', 1]]);
  }, 60_000);

  it('under readers: every-replica both replicas read (two upstream subscriptions), as before', async () => {
    const a = await startReplica({ replicaId: 'replica-a', readers: 'every-replica' });
    const b = await startReplica({ replicaId: 'replica-b', readers: 'every-replica' });
    await until(
      'both connected',
      async () => (await sourceCheck(a.daemon))?.detail?.status === 'connected' && (await sourceCheck(b.daemon))?.detail?.status === 'connected',
    );
    expect(await sourceCheck(a.daemon)).toMatchObject({ ok: true, detail: { role: 'every-replica' } });
    expect(sim.control.stats().momentSubscriptions).toBe(2);
    expect(await redis.client().exists('mb:source:moments:leader')).toBe(0);
    sim.control.createMoment({ publicId: 'hot-hot' });
    await until('the moment delivered', () => sink.receipts.get('moments:moment:hot-hot') === 1);
  }, 60_000);
});

describe('leadership config', () => {
  const parse = (leadership: unknown) => configSchema().safeParse({ leadership });

  it('defaults to one leader per source, 6 s lease renewed every 2 s', () => {
    const r = parse(undefined);
    expect(r.success && r.data.leadership).toEqual({ readers: 'leader', leaseTtl: 6000, renewEvery: 2000 });
  });

  it.each([
    [{ leaseTtl: '2s', renewEvery: '2s' }, 'leadership.renewEvery (2000 ms) must be less than leadership.leaseTtl (2000 ms)'],
    [{ leaseTtl: '1s', renewEvery: '5s' }, 'must be less than leadership.leaseTtl'],
    [{ renewEvery: 0 }, 'must be more than 0'],
    [{ readers: 'all' }, 'readers'],
  ])('refuses %j with a message naming the key', (leadership, message) => {
    const r = parse(leadership);
    expect(r.success).toBe(false);
    const text = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(text).toContain(message);
    expect(text).toMatch(/^leadership\./m);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/core/log.js';
import type { Source, SourceProgress, SourceState } from '../../src/sources/source.js';
import { startObserverSimulator, type RunningObserverSimulator } from '../../simulators/observer/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { baseUrl, getReadyz, sample, scrape, startDaemon, until, writeConfig, type ReadyzBody } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let sim: RunningObserverSimulator;
let sink: WebhookReceiver;
const daemons: Daemon[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startObserverSimulator({ accessToken: 'tok' });
  sink = await startWebhookReceiver();
});

afterAll(async () => {
  for (const d of daemons) await d.stop();
  await sink?.stop();
  await sim?.stop();
  await redis?.stop();
});

/** A daemon following the call snapshots of `callId`, delivering to the local webhook receiver. */
function config(name: string, callId: string, routes: string): string {
  return writeConfig(`
redis: { url: "${redis.url}", keyPrefix: ${name} }
server: { port: 0 }
shutdown: { grace: 1s }
sources:
  ${name}-calls:
    type: observer
    url: ${sim.url}
    accessToken: tok
    frames: [ { callSnapshots: { callId: ${callId} } } ]
    reconnect: { initialDelay: 50ms, maxDelay: 200ms }
connectors:
  ${name}-hooks:
    type: webhook
    url: ${sink.url}
    allowPrivateNetworks: true
    retry: { backoff: 10ms, maxBackoff: 20ms }
routes:
${routes}
`);
}

async function frameOpen(callId: string): Promise<void> {
  await until(`frame callSnapshots:${callId}`, () => sim.control.state().frames.some((f) => f.stream === `callSnapshots:${callId}`));
}

describe('/readyz', () => {
  it('goes ready → not ready → ready through a source disconnect and a Redis loss, with JSON detail', async () => {
    sim.control.startCall({ callId: 'R', clients: 1 });
    const daemon = await startDaemon(config('rdy', 'R', '  - { name: all, to: [rdy-hooks] }'));
    daemons.push(daemon);
    const base = baseUrl(daemon);
    await frameOpen('R');

    const ready = await until('ready', async () => {
      const r = await getReadyz(base);
      return r.status === 200 && r;
    });
    expect(ready.body).toMatchObject({
      ready: true,
      checks: { redis: { ok: true }, 'source:rdy-calls': { ok: true, detail: { status: 'connected' } }, workers: { ok: true, detail: { running: 1 } } },
    });
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ ok: true });

    // Source disconnect: the Observer refuses new connections and drops the live one.
    sim.control.refuseConnections(true);
    sim.control.dropSockets();
    const down = await until('not ready (source)', async () => {
      const r = await getReadyz(base);
      return r.status === 503 && r;
    });
    expect(down.body.ready).toBe(false);
    expect(down.body.checks['source:rdy-calls']).toMatchObject({ ok: false, detail: { status: 'reconnecting' } });
    expect(down.body.checks.redis!.ok).toBe(true);
    expect(sample(await scrape(base), 'mb_source_connected', { source: 'rdy-calls' })).toBe(0);
    sim.control.refuseConnections(false);
    await until('ready again (source)', async () => (await getReadyz(base)).status === 200);
    expect(sample(await scrape(base), 'mb_source_connected', { source: 'rdy-calls' })).toBe(1);
    expect(sample(await scrape(base), 'mb_observer_reconnects_total', { source: 'rdy-calls' })).toBe(1);

    // Redis loss: the server stops; /readyz and /metrics still answer (no hang), then recover.
    await redis.server.stop();
    const noRedis = await until('not ready (redis)', async () => {
      const r = await getReadyz(base);
      return r.status === 503 && r;
    });
    expect(noRedis.body.checks.redis).toMatchObject({ ok: false, detail: expect.stringMatching(/connection (reconnecting|connecting|close)/) });
    expect(sample(await scrape(base), 'mb_redis_up')).toBe(0);
    await redis.server.start();
    const back = await until(
      'ready again (redis)',
      async () => {
        const r = await getReadyz(base);
        return r.status === 200 && r;
      },
      15_000,
    );
    expect(back.body.checks).toMatchObject({ redis: { ok: true }, 'source:rdy-calls': { ok: true }, workers: { ok: true } });
    expect(sample(await scrape(base), 'mb_redis_up')).toBe(1);
  });
});

describe('/metrics', () => {
  it('counts a known event sequence exactly', async () => {
    sim.control.startCall({ callId: 'M', clients: 1 });
    const daemon = await startDaemon(
      config(
        'met',
        'M',
        `  - { name: met-high, match: { data.severity: high }, to: [met-hooks] }
  - name: met-low
    match: { data.severity: low }
    throttle: { key: "{{ data.callId }}", window: 1h }
    to: [met-hooks]`,
      ),
    );
    daemons.push(daemon);
    const base = baseUrl(daemon);
    await frameOpen('M');
    const delivered = () => sink.received.filter((r) => (r.body as { source?: string } | undefined)?.source === 'met-calls').length;
    const failedJobs = async () => (await daemon.deliveryQueues!.depth())['met-hooks']!.failed;

    // 1. high: the sink answers 503 once, then accepts → 1 retry, 1 delivered.
    sink.injectStatus(503, 1);
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'M', row: { severity: 'high' } });
    await until('first delivery', () => delivered() === 1);
    // 2. high: the sink answers 410 (permanent) → dead-lettered.
    sink.injectStatus(410, 1);
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'M', row: { severity: 'high' } });
    await until('dead letter', async () => (await failedJobs()) === 1);
    // 3–4. low twice: the throttle lets the first through. 5. info: no route. 6. an invalid row: quarantined.
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'M', row: { severity: 'low' } });
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'M', row: { severity: 'low' } });
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'M', row: { severity: 'info' } });
    expect(sim.control.sendMalformed('invalid-row')).toBeGreaterThan(0);
    await until('second delivery', () => delivered() === 2);

    const m = await until('all counted', async () => {
      const s = await scrape(base);
      return (
        sample(s, 'mb_events_received_total', { source: 'met-calls', kind: 'observer.row' }) === 5 &&
        sample(s, 'mb_events_quarantined_total', { source: 'met-calls', kind: 'observer.row' }) === 1 &&
        s
      );
    });
    const c = { connector: 'met-hooks' };
    expect({
      received: sample(m, 'mb_events_received_total', { source: 'met-calls', kind: 'observer.row' }),
      quarantined: sample(m, 'mb_events_quarantined_total', { source: 'met-calls', kind: 'observer.row' }),
      unrouted: sample(m, 'mb_events_unrouted_total', { source: 'met-calls', kind: 'observer.row' }),
      matchedHigh: sample(m, 'mb_route_matched_total', { route: 'met-high' }),
      matchedLow: sample(m, 'mb_route_matched_total', { route: 'met-low' }),
      throttled: sample(m, 'mb_route_throttled_total', { route: 'met-low' }),
      enqueued: sample(m, 'mb_queue_jobs_enqueued_total', c),
      completed: sample(m, 'mb_queue_jobs_completed_total', c),
      retried: sample(m, 'mb_queue_jobs_retried_total', c),
      failedRetry: sample(m, 'mb_queue_attempts_failed_total', { ...c, outcome: 'retry' }),
      failedPermanent: sample(m, 'mb_queue_attempts_failed_total', { ...c, outcome: 'permanent' }),
      deadLettered: sample(m, 'mb_queue_jobs_dead_lettered_total', c),
      routeHighDelivered: sample(m, 'mb_route_delivered_total', { ...c, route: 'met-high' }),
      routeHighFailed: sample(m, 'mb_route_failed_total', { ...c, route: 'met-high' }),
      routeLowDelivered: sample(m, 'mb_route_delivered_total', { ...c, route: 'met-low' }),
      routeLowFailed: sample(m, 'mb_route_failed_total', { ...c, route: 'met-low' }),
      latencyCount: sample(m, 'mb_delivery_latency_seconds_count', c),
      depthFailed: sample(m, 'mb_queue_depth', { ...c, state: 'failed' }),
      depthCompleted: sample(m, 'mb_queue_depth', { ...c, state: 'completed' }),
      depthWaiting: sample(m, 'mb_queue_depth', { ...c, state: 'waiting' }),
      sourceConnected: sample(m, 'mb_source_connected', { source: 'met-calls' }),
      workerRunning: sample(m, 'mb_worker_running', c),
    }).toEqual({
      received: 5,
      quarantined: 1,
      unrouted: 1,
      matchedHigh: 2,
      matchedLow: 2,
      throttled: 1,
      enqueued: 3,
      completed: 2,
      retried: 1,
      failedRetry: 1,
      failedPermanent: 1,
      deadLettered: 1,
      // Per route: met-high's first delivery went through, its second was dead-lettered; met-low's one delivery went through.
      routeHighDelivered: 1,
      routeHighFailed: 1,
      routeLowDelivered: 1,
      routeLowFailed: undefined,
      latencyCount: 2,
      depthFailed: 1,
      depthCompleted: 2,
      depthWaiting: 0,
      sourceConnected: 1,
      workerRunning: 1,
    });
    // Node default metrics are on, prefixed.
    expect(sample(m, 'mb_process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});

/** A tiny source whose backlog the test sets: connected, with `pending` items it never gets through. */
class StuckSource implements Source {
  pending = 12;
  since = Date.now();
  lastProgressAt: number | undefined;
  lagMs = 4_000;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  state(): SourceState {
    return { status: 'connected', since: new Date(this.since).toISOString() };
  }
  progress(): SourceProgress {
    return {
      pending: this.pending,
      oldestPendingSince: this.since,
      lagMs: this.lagMs,
      ...(this.lastProgressAt ? { lastProgressAt: this.lastProgressAt } : {}),
    };
  }
  /** Everything waiting got accepted now. */
  progressed(): void {
    this.pending = 0;
    this.lastProgressAt = Date.now();
  }
}

describe('/readyz: stuck sources', () => {
  it('turns 503 with the reason once a source has had items waiting with no progress past server.stallAfter, and 200 after progress', async () => {
    const stuck = new StuckSource();
    const file = writeConfig(`
redis: { url: "${redis.url}", keyPrefix: stall }
server: { port: 0, stallAfter: 1s }
shutdown: { grace: 1s }
`);
    const daemon = await Daemon.start({ loaded: await loadValidatedConfig(file), logger: silentLogger(), extraSources: { stuck: () => stuck } });
    daemons.push(daemon);
    const base = baseUrl(daemon);
    stuck.since = Date.now();
    expect((await getReadyz(base)).status).toBe(200);

    const down = await until('not ready (stalled source)', async () => {
      const r = await getReadyz(base);
      return r.status === 503 && r;
    });
    expect(Date.now() - stuck.since).toBeGreaterThanOrEqual(1_000);
    const reason = (down.body as ReadyzBody & { reasons: string[] }).reasons;
    expect(reason).toEqual([expect.stringMatching(/^source stuck: no progress for \d+ s with 12 items waiting$/)]);
    expect(down.body.checks['source:stuck']).toMatchObject({ ok: false, detail: { status: 'connected', progress: { pending: 12 } } });
    const m = await scrape(base);
    expect(sample(m, 'mb_source_oldest_pending_age_seconds', { source: 'stuck' })).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'mb_source_cursor_lag_seconds', { source: 'stuck' })).toBe(4);

    stuck.progressed();
    const up = await getReadyz(base);
    expect(up.status).toBe(200);
    expect(up.body.checks['source:stuck']).toMatchObject({ ok: true });
    expect(sample(await scrape(base), 'mb_source_oldest_pending_age_seconds', { source: 'stuck' })).toBe(0);
  });
});

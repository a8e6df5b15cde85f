import { Queue, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/core/metrics.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import type { AttemptReport } from '../../src/queue/delivery-worker.js';
import type { DeliveryQueues } from '../../src/queue/delivery-queues.js';
import { queueName } from '../../src/queue/queue-names.js';
import type { AttemptRecord, RoutedDelivery } from '../../src/queue/routed-delivery.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import type { Connector, Delivery, DeliveryResult, PayloadRenderer } from '../../connectors/connector.js';
import { delivered } from '../../connectors/connector.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { event, makeQueues, routed, until } from './queue-test-kit.js';
import { captureLog } from '../helpers/log-capture.js';

let redis: TestRedis;
const open: DeliveryQueues[] = [];
let n = 0;
/** A connector name per test: the metrics are process-wide, labelled by connector. */
const fresh = () => `w${++n}`;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close()));
});
afterAll(async () => {
  await redis.stop();
});

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  // A histogram's _count and _sum are values of the histogram itself, named by metricName.
  const base = name.replace(/_(count|sum)$/, '');
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name || x.name === base);
  const values = (m?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
  return values
    .filter((v) => (v.metricName ?? m!.name) === name && Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((a, v) => a + v.value, 0);
}

interface Rig {
  name: string;
  sink: ScriptedConnector;
  q: DeliveryQueues;
  lines: Record<string, unknown>[];
  reports: AttemptReport[];
  prefix: string;
  records(d: RoutedDelivery): Promise<AttemptRecord[]>;
  state(d: RoutedDelivery): Promise<string>;
}

function rig(options: Parameters<typeof makeQueues>[2][string]['options'] = {}, sink = new ScriptedConnector()): Rig {
  const name = fresh();
  const prefix = `p${name}`;
  const { lines, logger } = captureLog();
  const reports: AttemptReport[] = [];
  const q = makeQueues(redis.url, prefix, { [name]: { connector: sink, options } }, { logger, onAttempt: (r) => reports.push(r) });
  open.push(q);
  const raw = () => new Queue(queueName(name), { connection: redis.client(), prefix });
  const idOf = (d: RoutedDelivery) => deliveryId(d.event.id, d.route, d.connector);
  return {
    name,
    sink,
    q,
    lines,
    reports,
    prefix,
    async records(d) {
      const queue = raw();
      try {
        return (await queue.getJobLogs(idOf(d))).logs.map((l) => JSON.parse(l) as AttemptRecord);
      } finally {
        await queue.close();
      }
    },
    async state(d) {
      const queue = raw();
      try {
        return (await (await queue.getJob(idOf(d)))?.getState()) ?? 'missing';
      } finally {
        await queue.close();
      }
    },
  };
}

const counts = async (name: string, route = 'r1') => ({
  completed: await metric('mb_queue_jobs_completed_total', { connector: name }),
  retried: await metric('mb_queue_jobs_retried_total', { connector: name }),
  rateLimited: await metric('mb_queue_jobs_rate_limited_total', { connector: name }),
  deadLettered: await metric('mb_queue_jobs_dead_lettered_total', { connector: name }),
  routeDelivered: await metric('mb_route_delivered_total', { connector: name, route }),
  routeFailed: await metric('mb_route_failed_total', { connector: name, route }),
  retry: await metric('mb_queue_attempts_failed_total', { connector: name, outcome: 'retry' }),
  timeout: await metric('mb_queue_attempts_failed_total', { connector: name, outcome: 'timeout' }),
  permanent: await metric('mb_queue_attempts_failed_total', { connector: name, outcome: 'permanent' }),
  rateLimitedAttempts: await metric('mb_queue_attempts_failed_total', { connector: name, outcome: 'rate-limited' }),
});

describe('DeliveryWorker outcomes: job state, attempt record, metrics, log line', () => {
  it('delivered: counted per connector and route, latency observed from the event time', async () => {
    const r = rig();
    const d = routed('ok', r.name);
    const latencyCount = await metric('mb_delivery_latency_seconds_count', { connector: r.name });
    await r.q.enqueue([d]);
    await r.q.startWorkers();
    await until(async () => (await r.state(d)) === 'completed');
    expect(await counts(r.name)).toMatchObject({ completed: 1, routeDelivered: 1, deadLettered: 0, routeFailed: 0 });
    expect(await metric('mb_delivery_latency_seconds_count', { connector: r.name })).toBe(latencyCount + 1);
    expect(r.reports[0]).toMatchObject({ attempt: 1, result: { status: 'delivered' } });
    expect(r.reports[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.reports[0]!.latencyMs).toBeLessThan(60_000);
  });

  it('an event time in the future counts as 0 s of latency; one that is not a date is not observed', async () => {
    const r = rig();
    const future = { ...routed('future', r.name), event: event('future', new Date(Date.now() + 3_600_000).toISOString()) };
    const garbled = { ...routed('garbled', r.name), event: event('garbled', 'not a time') };
    await r.q.enqueue([future, garbled]);
    await r.q.startWorkers();
    await until(async () => (await r.state(future)) === 'completed' && (await r.state(garbled)) === 'completed');
    expect(await metric('mb_delivery_latency_seconds_count', { connector: r.name })).toBe(1);
    expect(await metric('mb_delivery_latency_seconds_sum', { connector: r.name })).toBe(0);
  });

  it('permanent: dead letter at once, counted, recorded and logged with what to do', async () => {
    const r = rig();
    r.sink.script('moments:moment:p', [{ do: 'permanent', reason: 'HTTP 400 bad' }]);
    const d = routed('p', r.name);
    await r.q.enqueue([d]);
    await r.q.startWorkers();
    await until(async () => (await r.state(d)) === 'failed');
    expect(await counts(r.name)).toMatchObject({ permanent: 1, deadLettered: 1, routeFailed: 1, completed: 0, retried: 0 });
    expect(await r.records(d)).toEqual([{ attempt: 1, at: expect.any(Number) as number, outcome: 'permanent', reason: 'HTTP 400 bad' }]);
    expect(r.lines.find((l) => l.msg === 'delivery failed permanently: dead-lettered (inspect with `moments-bridge dlq show`)')).toMatchObject({
      level: 40,
      connector: r.name,
      deliveryId: deliveryId('moments:moment:p', 'r1', r.name),
      eventId: 'moments:moment:p',
      route: 'r1',
      attempt: 1,
      reason: 'HTTP 400 bad',
    });
  });

  it('refused at enqueue (too large): dead-lettered unsent, counted, recorded and logged', async () => {
    const sink = new ScriptedConnector();
    const name = fresh();
    const { lines, logger } = captureLog();
    const q = makeQueues(redis.url, `p${name}`, { [name]: { connector: sink } }, { logger, maxPayloadBytes: 100 });
    open.push(q);
    await q.enqueue([routed('huge', name)]);
    await q.startWorkers();
    await until(async () => (await q.depth())[name]!.failed === 1);
    expect(sink.calls).toHaveLength(0);
    expect(await counts(name)).toMatchObject({ deadLettered: 1, routeFailed: 1, permanent: 0 });
    expect(lines.find((l) => l.msg === 'delivery refused at enqueue: dead-lettered unsent (inspect with `moments-bridge dlq show`)')).toMatchObject({
      level: 40,
      eventId: 'moments:moment:huge',
      route: 'r1',
      reason: expect.stringMatching(/^delivery of \d+ bytes exceeds the 100-byte limit/) as string,
    });
  });

  it('retry: another attempt after a recorded backoff delay, counted, logged at debug', async () => {
    const r = rig({ retry: { backoff: 50, maxBackoff: 50 } });
    r.sink.script('moments:moment:r', [{ do: 'retry', reason: 'HTTP 503' }]);
    const d = routed('r', r.name);
    await r.q.enqueue([d]);
    await r.q.startWorkers();
    await until(async () => (await r.state(d)) === 'completed');
    expect(await counts(r.name)).toMatchObject({ retry: 1, retried: 1, completed: 1, deadLettered: 0 });
    const [rec] = await r.records(d);
    expect(rec).toMatchObject({ attempt: 1, outcome: 'retry', reason: 'HTTP 503' });
    expect(rec!.delayMs).toBeGreaterThanOrEqual(0);
    expect(rec!.delayMs).toBeLessThan(50);
    expect(r.lines.find((l) => l.msg === 'delivery failed: will retry')).toMatchObject({ level: 20, attempt: 1, reason: 'HTTP 503', delayMs: rec!.delayMs });
    expect(r.reports.map((x) => x.attempt)).toEqual([1, 2]);
  });

  it('a timed-out attempt is recorded and counted as a timeout, a throwing connector as a retry naming the error', async () => {
    const r = rig({ timeout: 100, retry: { backoff: 10, maxBackoff: 10 } });
    r.sink.script('moments:moment:t', [{ do: 'slow', ms: 5000 }]);
    r.sink.script('moments:moment:x', [{ do: 'throw', message: 'kaboom' }]);
    const t = routed('t', r.name);
    const x = routed('x', r.name);
    await r.q.enqueue([t, x]);
    await r.q.startWorkers();
    await until(async () => (await r.state(t)) === 'completed' && (await r.state(x)) === 'completed');
    expect((await r.records(t))[0]).toMatchObject({ outcome: 'timeout', reason: 'attempt timed out after 100 ms' });
    expect((await r.records(x))[0]).toMatchObject({ outcome: 'retry', reason: 'connector threw: kaboom' });
    expect(await counts(r.name)).toMatchObject({ timeout: 1, retry: 1 });
  });

  it('gives up at maxAttempts: dead letter, with the policy reason and the last error', async () => {
    const r = rig({ retry: { maxAttempts: 2, backoff: 10, maxBackoff: 10 } });
    r.sink.script('moments:moment:g', [
      { do: 'retry', reason: 'HTTP 502' },
      { do: 'retry', reason: 'HTTP 504' },
    ]);
    const d = routed('g', r.name);
    await r.q.enqueue([d]);
    await r.q.startWorkers();
    await until(async () => (await r.state(d)) === 'failed');
    expect((await r.records(d)).map((x) => [x.attempt, x.outcome, x.reason])).toEqual([
      [1, 'retry', 'HTTP 502'],
      [2, 'gave-up', 'HTTP 504'],
    ]);
    expect(await counts(r.name)).toMatchObject({ retry: 2, retried: 1, deadLettered: 1, routeFailed: 1 });
    expect(r.lines.find((l) => l.msg === 'delivery dead-lettered after retries')).toMatchObject({
      level: 40,
      attempt: 2,
      reason: expect.stringMatching(/^gave up after 2 attempt\(s\).*; last error: HTTP 504$/) as string,
    });
  });

  it('Retry-After (even 0, even fractional): recorded, counted, logged, no attempt spent (0 waits 1 ms)', async () => {
    const r = rig();
    r.sink.script('moments:moment:ra', [
      { do: 'retry', reason: 'HTTP 429', retryAfterMs: 0 },
      { do: 'retry', reason: 'HTTP 429', retryAfterMs: 1.2 },
    ]);
    const d = routed('ra', r.name);
    await r.q.enqueue([d]);
    await r.q.startWorkers();
    await until(async () => (await r.state(d)) === 'completed');
    expect((await r.records(d)).map((x) => [x.attempt, x.outcome, x.retryAfterMs])).toEqual([
      [1, 'rate-limited', 1],
      [1, 'rate-limited', 2],
    ]);
    expect(r.sink.calls.map((c) => c.attempt)).toEqual([1, 1, 1]);
    expect(await counts(r.name)).toMatchObject({ rateLimited: 2, rateLimitedAttempts: 2, retried: 0, completed: 1 });
    expect(r.lines.find((l) => l.msg === 'sink asked to retry later: pausing this connector queue')).toMatchObject({
      level: 30,
      retryAfterMs: 1,
      reason: 'HTTP 429',
    });
  });

  it('a Retry-After past retry.maxAge: dead letter, recorded as given up with the wait asked', async () => {
    const r = rig({ retry: { maxAge: '5s' } });
    r.sink.script('moments:moment:late', [{ do: 'retry', reason: 'HTTP 429', retryAfterMs: 60_000 }]);
    const d = routed('late', r.name);
    await r.q.enqueue([d]);
    await r.q.startWorkers();
    await until(async () => (await r.state(d)) === 'failed');
    expect(await r.records(d)).toEqual([{ attempt: 1, at: expect.any(Number) as number, outcome: 'gave-up', reason: 'HTTP 429', retryAfterMs: 60_000 }]);
    expect(await counts(r.name)).toMatchObject({ rateLimitedAttempts: 1, rateLimited: 0, deadLettered: 1, routeFailed: 1 });
    expect(r.lines.find((l) => l.msg === 'delivery dead-lettered: Retry-After beyond its maximum age')).toMatchObject({
      level: 40,
      reason: 'the sink asked to wait 60000 ms, past retry.maxAge (5000 ms); last error: HTTP 429',
    });
  });
});

/** A connector that ignores its abort signal: answers `delivered` after `ms`, whatever happens. */
class DeafConnector implements Connector {
  calls = 0;
  constructor(private readonly ms: number) {}
  renderer(): PayloadRenderer {
    return { render: (e) => ({ id: e.id }) };
  }
  async deliver(_d: Delivery): Promise<DeliveryResult> {
    this.calls++;
    await new Promise((r) => setTimeout(r, this.ms));
    return delivered();
  }
}

const timerCount = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('DeliveryWorker bounds', () => {
  it('latency is the age of the event in seconds', async () => {
    const r = rig();
    const d = { ...routed('aged', r.name), event: event('aged', new Date(Date.now() - 2000).toISOString()) };
    await r.q.enqueue([d]);
    await r.q.startWorkers();
    await until(async () => (await r.state(d)) === 'completed');
    const sum = await metric('mb_delivery_latency_seconds_sum', { connector: r.name });
    expect(sum).toBeGreaterThanOrEqual(2);
    expect(sum).toBeLessThan(30);
  });

  it('a negative Retry-After is no Retry-After: a plain retry with backoff', async () => {
    const r = rig({ retry: { backoff: 10, maxBackoff: 10 } });
    r.sink.script('moments:moment:neg', [{ do: 'retry', reason: 'odd', retryAfterMs: -5 }]);
    const d = routed('neg', r.name);
    await r.q.enqueue([d]);
    await r.q.startWorkers();
    await until(async () => (await r.state(d)) === 'completed');
    expect(await counts(r.name)).toMatchObject({ retried: 1, rateLimited: 0, retry: 1 });
    expect((await r.records(d))[0]).toMatchObject({ outcome: 'retry', reason: 'odd' });
  });

  it('the timeout ends an attempt even when the connector ignores its signal', async () => {
    const deaf = new DeafConnector(3000);
    const r = rig({ timeout: 100, retry: { maxAttempts: 1 } }, deaf as unknown as ScriptedConnector);
    const d = routed('deaf', r.name);
    const t0 = Date.now();
    await r.q.enqueue([d]);
    await r.q.startWorkers();
    await until(async () => (await r.state(d)) === 'failed', 10_000);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect((await r.records(d))[0]).toMatchObject({ outcome: 'gave-up', reason: 'attempt timed out after 100 ms' });
  });

  it('leaves no attempt timer behind: many deliveries, no more timers than one', async () => {
    const r = rig({ timeout: 60_000 });
    await r.q.startWorkers();
    await r.q.enqueue([routed('t0', r.name)]);
    await until(() => r.sink.deliveredIds.size === 1);
    const one = timerCount();
    await r.q.enqueue(Array.from({ length: 30 }, (_, i) => routed(`t${i + 1}`, r.name)));
    await until(() => r.sink.deliveredIds.size === 31);
    expect(timerCount() - one).toBeLessThan(10);
  });

  it('a stop within the grace leaves no grace timer running', async () => {
    const r = rig();
    const before = timerCount();
    await r.q.startWorkers();
    await r.q.stopWorkers(120_000);
    expect(timerCount()).toBeLessThanOrEqual(before);
  });
});

describe('DeliveryWorker lifecycle', () => {
  it('starting twice runs one worker: after stop nothing is taken any more', async () => {
    const r = rig();
    await r.q.startWorkers();
    await r.q.startWorkers();
    await r.q.stopWorkers(0);
    await r.q.enqueue([routed('after', r.name)]);
    await new Promise((res) => setTimeout(res, 500));
    expect(r.sink.calls).toHaveLength(0);
  });

  it('lets a batch fill even at concurrency 1 (concurrency is at least the batch size)', async () => {
    const sink = new ScriptedConnector({ batch: true });
    const r = rig({ concurrency: 1, batch: { maxSize: 5, window: 2000 } }, sink);
    await r.q.enqueue(['1', '2', '3', '4', '5'].map((k) => routed(k, r.name)));
    await r.q.startWorkers();
    await until(() => sink.deliveredIds.size === 5, 5000);
    expect(sink.batches).toEqual([5]);
  });

  it('a batch still in flight when the grace runs out is aborted and its jobs handed back unspent', async () => {
    const sink = new ScriptedConnector({ batch: true });
    const r = rig({ batch: { maxSize: 2, window: 10 } }, sink);
    sink.script('moments:moment:b1', [{ do: 'slow', ms: 10_000 }]);
    const b1 = routed('b1', r.name);
    await r.q.enqueue([b1]);
    await r.q.startWorkers();
    await until(() => sink.calls.length === 1);
    await r.q.stopWorkers(100);
    expect(sink.calls[0]!.result).toBe('aborted');
    expect(['wait', 'waiting', 'delayed']).toContain(await r.state(b1));
  });

  it('a delivery still in flight when the grace runs out is handed back unspent: no attempt recorded, reported or counted', async () => {
    const r = rig();
    r.sink.script('moments:moment:s1', [{ do: 'slow', ms: 10_000 }]);
    const s1 = routed('s1', r.name);
    await r.q.enqueue([s1]);
    await r.q.startWorkers();
    await until(() => r.sink.calls.length === 1);
    await r.q.stopWorkers(100);
    expect(r.sink.calls[0]!.result).toBe('aborted');
    expect(['wait', 'waiting', 'delayed']).toContain(await r.state(s1));
    expect(await r.records(s1)).toEqual([]);
    expect(r.reports).toEqual([]);
    expect(await counts(r.name)).toMatchObject({ retried: 0, retry: 0, timeout: 0, completed: 0, deadLettered: 0 });
  });

  it('dead-letters a job whose worker stalled more often than maxStalledCount, counting and logging it', async () => {
    const name = fresh();
    const prefix = `p${name}`;
    const { lines, logger } = captureLog();
    // A worker that takes the job and then vanishes without finishing it (its lock is not renewed).
    const hang = new Worker(queueName(name), () => new Promise(() => undefined), {
      connection: redis.client(),
      prefix,
      lockDuration: 300,
      stalledInterval: 300,
      autorun: true,
    });
    const q = makeQueues(
      redis.url,
      prefix,
      { [name]: { connector: new ScriptedConnector() } },
      { logger, lock: { durationMs: 300, stalledIntervalMs: 300, maxStalledCount: 0 } },
    );
    open.push(q);
    await q.enqueue([routed('stall', name)]);
    await until(async () => (await q.depth())[name]!.active === 1);
    await hang.close(true);
    await q.startWorkers();
    await until(async () => (await q.depth())[name]!.failed === 1, 10_000, 'stalled job dead-lettered');
    await until(() => lines.some((l) => l.msg === 'delivery dead-lettered: its worker crashed too often while sending it'));
    expect(lines.find((l) => l.msg === 'delivery dead-lettered: its worker crashed too often while sending it')).toMatchObject({
      level: 50,
      deliveryId: deliveryId('moments:moment:stall', 'r1', name),
      reason: expect.stringMatching(/stalled more than allowable limit/) as string,
    });
    expect(await counts(name)).toMatchObject({ deadLettered: 1, routeFailed: 1 });
  });
});

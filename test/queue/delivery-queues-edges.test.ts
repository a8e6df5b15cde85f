import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../src/core/metrics.js';
import { listQuarantined } from '../../src/quarantine/quarantine.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import type { AttemptReport } from '../../src/queue/delivery-worker.js';
import type { DeliveryQueues } from '../../src/queue/delivery-queues.js';
import { queueName } from '../../src/queue/queue-names.js';
import type { SetAside } from '../../src/queue/set-aside.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { event, makeQueues, routed, until } from './queue-test-kit.js';
import { captureLog } from '../helpers/log-capture.js';

let redis: TestRedis;
let admin: ReturnType<TestRedis['client']>;
const open: DeliveryQueues[] = [];
let n = 0;
const nextPrefix = () => `e${++n}`;
function track(q: DeliveryQueues): DeliveryQueues {
  open.push(q);
  return q;
}
beforeAll(async () => {
  redis = await startTestRedis();
  admin = redis.client();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close()));
});
afterAll(async () => {
  await redis.stop();
});

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
}

async function clientCount(): Promise<number> {
  return String(await admin.client('LIST'))
    .trim()
    .split('\n').length;
}

describe('DeliveryQueues options', () => {
  it('refuses a dedup TTL that is not positive, and a lock checked less often than it lasts, before connecting', async () => {
    const before = await clientCount();
    const sink = { connector: new ScriptedConnector() };
    expect(() => makeQueues(redis.url, 'x', { sink }, { dedupTtlMs: 0 })).toThrow(
      expect.objectContaining({ code: 'queue_dedup_ttl_invalid', message: 'dedupTtlMs must be positive (got 0)' }),
    );
    expect(() => makeQueues(redis.url, 'x', { sink }, { lock: { durationMs: 1000, stalledIntervalMs: 1001 } })).toThrow(
      expect.objectContaining({ code: 'queue_lock_invalid', message: 'lock.stalledIntervalMs (1001) must not exceed lock.durationMs (1000)' }),
    );
    expect(() => makeQueues(redis.url, 'x', { sink: { connector: new ScriptedConnector(), options: { concurrency: 0 } } })).toThrow(
      expect.objectContaining({ code: 'queue_options_invalid', message: expect.stringMatching(/^connectors\.sink: invalid delivery options: /) as string }),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(await clientCount()).toBe(before);
    // Equal is fine.
    track(makeQueues(redis.url, nextPrefix(), { sink }, { lock: { durationMs: 1000, stalledIntervalMs: 1000 } }));
  });

  it('keeps completedCount delivered jobs and deadLetterCount dead letters', async () => {
    const sink = new ScriptedConnector();
    for (const k of ['f1', 'f2', 'f3']) sink.script(`moments:moment:${k}`, [{ do: 'permanent' }]);
    const q = track(makeQueues(redis.url, nextPrefix(), { sink: { connector: sink } }, { retention: { completedCount: 2, deadLetterCount: 1 } }));
    await q.startWorkers();
    for (const k of ['a', 'b', 'c', 'd', 'f1', 'f2', 'f3']) {
      await q.enqueue([routed(k)]);
      await until(() => sink.calls.some((c) => c.eventId === `moments:moment:${k}` && c.result !== 'aborted'));
    }
    await until(
      async () => {
        const d = (await q.depth()).sink!;
        return d.completed === 2 && d.failed === 1;
      },
      10_000,
      'retention applied',
    );
  });

  it('drops delivered jobs and dead letters older than their age bound (whole seconds)', async () => {
    const sink = new ScriptedConnector();
    for (const k of ['f1', 'f2']) sink.script(`moments:moment:${k}`, [{ do: 'permanent' }]);
    const q = track(makeQueues(redis.url, nextPrefix(), { sink: { connector: sink } }, { retention: { completedAgeMs: 1000, deadLetterAgeMs: 1000 } }));
    await q.startWorkers();
    await q.enqueue([routed('a'), routed('f1')]);
    await until(async () => {
      const d = (await q.depth()).sink!;
      return d.completed === 1 && d.failed === 1;
    });
    await new Promise((r) => setTimeout(r, 2100));
    await q.enqueue([routed('b'), routed('f2')]);
    await until(
      async () => {
        const d = (await q.depth()).sink!;
        return d.completed === 1 && d.failed === 1 && sink.calls.length === 4;
      },
      10_000,
      'old jobs trimmed by age',
    );
  });

  it('names the queues with a hash tag under redis.cluster', async () => {
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: new ScriptedConnector() } }, { cluster: true }));
    await q.enqueue([routed(1)]);
    const keys = await redis.client().keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`${prefix}:{`))).toBe(true);
  });

  it('reports each worker running or not, and each queue with its rate limit only when one is set', async () => {
    const q = track(
      makeQueues(redis.url, nextPrefix(), {
        slow: { connector: new ScriptedConnector(), options: { rateLimit: { max: 5, duration: '1s' } } },
        free: { connector: new ScriptedConnector() },
      }),
    );
    expect(q.workerStates()).toEqual({ slow: false, free: false });
    await q.startWorkers();
    await until(() => Object.values(q.workerStates()).every(Boolean));
    const dash = q.dashboardQueues();
    expect(dash.get('slow')!.rateLimit).toEqual({ max: 5, durationMs: 1000 });
    expect('rateLimit' in dash.get('free')!).toBe(false);
    expect(dash.get('free')!.queue.name).toBe(queueName('free'));
    await q.stopWorkers(0);
    expect(q.workerStates()).toEqual({ slow: false, free: false });
  });
});

describe('DeliveryQueues.enqueue', () => {
  it('counts a repeat inside one batch as a duplicate, and every enqueued job', async () => {
    const q = track(makeQueues(redis.url, nextPrefix(), { sink: { connector: new ScriptedConnector() } }));
    const dup = await metric('mb_queue_jobs_duplicate_total', { connector: 'sink' });
    const enq = await metric('mb_queue_jobs_enqueued_total', { connector: 'sink' });
    expect(await q.enqueue([routed(1), routed(1), routed(2)])).toMatchObject({ enqueued: 2, duplicates: 1 });
    expect(await metric('mb_queue_jobs_duplicate_total', { connector: 'sink' })).toBe(dup + 1);
    expect(await metric('mb_queue_jobs_enqueued_total', { connector: 'sink' })).toBe(enq + 2);
  });

  it('logs a delivery to an unknown connector with what to do', async () => {
    const { lines, logger } = captureLog();
    const q = track(makeQueues(redis.url, nextPrefix(), { sink: { connector: new ScriptedConnector() } }, { logger }));
    expect(await q.enqueue([routed(1, 'nowhere')])).toMatchObject({ rejected: 1, enqueued: 0 });
    expect(lines.find((l) => l.connector === 'nowhere')).toMatchObject({
      level: 50,
      eventId: 'moments:moment:1',
      route: 'r1',
      msg: 'route "r1" sends to connector "nowhere", which is not configured: delivery rejected; add it under connectors',
    });
  });

  it('takes a job of exactly maxPayloadBytes, and refuses one byte more, logging its size', async () => {
    const d = routed('edge');
    const id = deliveryId(d.event.id, d.route, d.connector);
    const size = Buffer.byteLength(JSON.stringify({ deliveryId: id, event: d.event, route: d.route, connector: d.connector, payload: d.payload }));
    const { lines, logger } = captureLog();
    const fits = track(makeQueues(redis.url, nextPrefix(), { sink: { connector: new ScriptedConnector() } }, { maxPayloadBytes: size, logger }));
    expect(await fits.enqueue([d])).toMatchObject({ enqueued: 1, deadLettered: 0 });
    const over = track(makeQueues(redis.url, nextPrefix(), { sink: { connector: new ScriptedConnector() } }, { maxPayloadBytes: size - 1, logger }));
    expect(await over.enqueue([d])).toMatchObject({ enqueued: 0, deadLettered: 1 });
    expect(lines.find((l) => l.bytes === size)).toMatchObject({ limit: size - 1, eventId: d.event.id, connector: 'sink' });
  });

  it('quarantines an event that cannot be serialized once, whatever its number of deliveries', async () => {
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { a: { connector: new ScriptedConnector() }, b: { connector: new ScriptedConnector() } }));
    const bad = { ...event('big'), data: { n: 1n } };
    const deliveries = [
      { event: bad, route: 'r1', connector: 'a', payload: {} },
      { event: bad, route: 'r2', connector: 'b', payload: {} },
      routed('fine', 'a'),
    ];
    expect(await q.enqueue(deliveries)).toMatchObject({ enqueued: 1, quarantined: 1 });
    const stored = await listQuarantined(redis.client(), `${prefix}:`);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.reason).toMatch(/^unserializable: .*BigInt/);
  });

  it('rejects when the quarantine cannot be written, naming how many items', async () => {
    const prefix = nextPrefix();
    await redis.client().set(`${prefix}:quarantine`, 'not a list');
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: new ScriptedConnector() } }));
    const aside: SetAside[] = [{ event: event('x'), reason: 'unroutable', detail: 'boom' }];
    await expect(q.enqueue([routed(1)], aside)).rejects.toThrow(/^could not write 1 set-aside item\(s\) to the quarantine: WRONGTYPE/);
    await expect(q.enqueue([], aside)).rejects.toThrow(/could not write 1 set-aside item/);
  });
});

describe('DeliveryQueues jobs and workers', () => {
  it('schedules a retry with a backoff delay (not at once), and stores no stack trace in a dead letter', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:r', [{ do: 'retry' }]);
    sink.script('moments:moment:p', [{ do: 'permanent', reason: 'HTTP 400' }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink, options: { retry: { backoff: '60s', maxBackoff: '60s' } } } }));
    await q.enqueue([routed('r'), routed('p')]);
    await q.startWorkers();
    const raw = new Queue(queueName('sink'), { connection: redis.client(), prefix });
    try {
      await until(async () => (await q.depth()).sink!.delayed === 1 && (await q.depth()).sink!.failed === 1);
      const retry = await raw.getJob(deliveryId('moments:moment:r', 'r1', 'sink'));
      expect(retry!.delay).toBeGreaterThan(0);
      const dead = await raw.getJob(deliveryId('moments:moment:p', 'r1', 'sink'));
      expect(dead!.failedReason).toBe('HTTP 400');
      expect(dead!.stacktrace).toEqual([]);
    } finally {
      await raw.close();
    }
  });

  it('reports every job state, and sets mb_queue_depth to match', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:slow', [{ do: 'slow', ms: 5000 }]);
    sink.script('moments:moment:retry', [{ do: 'retry' }]);
    sink.script('moments:moment:perm', [{ do: 'permanent' }]);
    const q = track(makeQueues(redis.url, nextPrefix(), { depthsink: { connector: sink, options: { retry: { backoff: '60s', maxBackoff: '60s' } } } }));
    await q.enqueue(['slow', 'retry', 'perm', 'ok'].map((k) => routed(k, 'depthsink')));
    expect((await q.depth()).depthsink).toMatchObject({ waiting: 4, active: 0 });
    await q.startWorkers();
    const want = { waiting: 0, active: 1, delayed: 1, failed: 1, completed: 1, prioritized: 0 };
    await until(async () => JSON.stringify((await q.depth()).depthsink) === JSON.stringify(want), 10_000, 'one job in each state');
    for (const [state, value] of Object.entries(want)) expect(await metric('mb_queue_depth', { connector: 'depthsink', state })).toBe(value);
  });

  it('tells onAttempt about each finished attempt', async () => {
    const reports: AttemptReport[] = [];
    const sink = new ScriptedConnector();
    const q = track(makeQueues(redis.url, nextPrefix(), { sink: { connector: sink } }, { onAttempt: (r) => reports.push(r) }));
    await q.enqueue([routed('seen')]);
    await q.startWorkers();
    await until(() => reports.length === 1);
    expect(reports[0]).toMatchObject({
      deliveryId: deliveryId('moments:moment:seen', 'r1', 'sink'),
      eventId: 'moments:moment:seen',
      route: 'r1',
      connector: 'sink',
      attempt: 1,
      result: { status: 'delivered' },
    });
  });

  it('close() stops the workers and closes every connection it opened', async () => {
    const before = await clientCount();
    const sink = new ScriptedConnector();
    const q = makeQueues(redis.url, nextPrefix(), { sink: { connector: sink } });
    await q.enqueue([routed(1)]);
    await q.startWorkers();
    await until(() => sink.deliveredIds.size === 1);
    expect(await clientCount()).toBeGreaterThan(before);
    await q.close();
    expect(q.workerStates()).toEqual({ sink: false });
    await until(async () => (await clientCount()) === before, 5000, 'connections closed');
  });

  it('logs a queue connection error with its connector', async () => {
    const { lines, logger } = captureLog();
    track(makeQueues('redis://127.0.0.1:1', nextPrefix(), { sink: { connector: new ScriptedConnector() } }, { logger }));
    await until(() => lines.some((l) => l.msg === 'queue connection error' && l.connector === 'sink' && typeof l.err === 'string'), 5000, 'error logged');
  });
});

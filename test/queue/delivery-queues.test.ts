import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/queue/delivery-id.js';
import type { DeliveryQueues } from '../../src/queue/delivery-queues.js';
import { listDeadLetters, purgeDeadLetters, retryDeadLetters, showDeadLetter } from '../../src/queue/dead-letters.js';
import { queueName } from '../../src/queue/queue-names.js';
import { registry } from '../../src/core/metrics.js';
import { listQuarantined } from '../../src/quarantine/quarantine.js';
import { MAX_REASON_CHARS } from '../../src/queue/bounded-reason.js';
import { registerSecret } from '../../src/core/secret-redaction.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { makeQueues, routed, until } from './queue-test-kit.js';

let redis: TestRedis;
const open: DeliveryQueues[] = [];
let n = 0;
/** A fresh prefix per test keeps tests apart without FLUSHALL. */
const nextPrefix = () => `t${++n}`;

function track(q: DeliveryQueues): DeliveryQueues {
  open.push(q);
  return q;
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

beforeAll(async () => {
  redis = await startTestRedis();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close()));
});
afterAll(async () => {
  await redis.stop();
});

describe('DeliveryQueues', () => {
  it('enqueues one job per delivery with id = hash(event, route, connector) and data = exactly what is sent', async () => {
    const sink = new ScriptedConnector();
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink } }));
    const r = await q.enqueue([routed(1), routed(1, 'sink', 'r2'), routed(1)]);
    expect(r).toEqual({ enqueued: 2, duplicates: 1, rejected: 0, quarantined: 0, deadLettered: 0 });
    const raw = new Queue(queueName('sink'), { connection: redis.client(), prefix });
    const id = deliveryId('moments:moment:1', 'r1', 'sink');
    const job = await raw.getJob(id);
    expect(job?.data).toMatchObject({
      deliveryId: id,
      event: { id: 'moments:moment:1', kind: 'moment' },
      route: 'r1',
      connector: 'sink',
      payload: { text: 'moment 1' },
    });
    expect(Object.keys(job!.data).sort()).toEqual(['connector', 'deliveryId', 'event', 'payload', 'route']);
    await raw.close();
    await q.startWorkers();
    await sink.waitFor(() => sink.deliveredIds.size === 2);
    expect(sink.calls.map((c) => c.deliveryId).sort()).toEqual([id, deliveryId('moments:moment:1', 'r2', 'sink')].sort());
    expect(sink.calls.every((c) => c.attempt === 1)).toBe(true);
  });

  it('retries with exponential full-jitter backoff, counting attempts, then dead-letters at maxAttempts', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:b', [
      { do: 'retry', reason: 'HTTP 503' },
      { do: 'retry', reason: 'HTTP 502' },
    ]);
    sink.script('moments:moment:c', [{ do: 'retry' }, { do: 'retry' }, { do: 'retry' }, { do: 'retry' }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink, options: { retry: { maxAttempts: 3, backoff: 200, maxBackoff: 300 } } } }));
    await q.enqueue([routed('b'), routed('c')]);
    await q.startWorkers();
    await sink.waitFor(() => sink.callsFor('moments:moment:b').length === 3, 10_000, '3 attempts of b');
    const b = sink.callsFor('moments:moment:b');
    expect(b.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(b.map((c) => c.result)).toEqual(['retry', 'retry', 'delivered']);
    // Full jitter: delay in [0, min(cap, base·2^(n-1))): ≤ 200 ms after attempt 1, ≤ 300 ms (the cap) after attempt 2.
    expect(b[1]!.at - b[0]!.at).toBeLessThan(200 + 250);
    expect(b[2]!.at - b[1]!.at).toBeLessThan(300 + 250);

    await until(async () => (await listDeadLetters(redis.client(), { prefix })).length === 1, 10_000, 'c dead-lettered');
    expect(sink.callsFor('moments:moment:c').map((c) => c.attempt)).toEqual([1, 2, 3]);
    const dl = await showDeadLetter(redis.client(), { prefix, id: deliveryId('moments:moment:c', 'r1', 'sink') });
    expect(dl?.reason).toMatch(/gave up after 3 attempt\(s\).*last error: scripted retry/);
    expect(dl?.history.map((h) => [h.attempt, h.outcome])).toEqual([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'gave-up'],
    ]);
    expect(dl?.history[0]!.delayMs).toBeLessThan(200);
  });

  it('429 with Retry-After 2 s: retried after ≥ 2 s with the attempt count unchanged, and the whole queue waits', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:rl', [{ do: 'retry', reason: 'HTTP 429', retryAfterMs: 2000 }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink, options: { concurrency: 1 } } }));
    await q.enqueue([routed('rl')]);
    await q.startWorkers();
    await sink.waitFor(() => sink.calls.length === 1);
    await q.enqueue([routed('other')]);
    await sink.waitFor(() => sink.deliveredIds.size === 2, 10_000, 'both delivered');
    const [first, second] = sink.callsFor('moments:moment:rl');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2000);
    expect([first!.attempt, second!.attempt]).toEqual([1, 1]);
    // The other job was enqueued while the queue was paused: it waited too.
    expect(sink.callsFor('moments:moment:other')[0]!.at - first!.at).toBeGreaterThanOrEqual(1900);
    expect(await metric('mb_queue_jobs_rate_limited_total', { connector: 'sink' })).toBeGreaterThanOrEqual(1);
  });

  it('a Retry-After beyond retry.maxAge dead-letters instead of retrying early', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:late', [{ do: 'retry', reason: 'HTTP 429', retryAfterMs: 60_000 }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink, options: { retry: { maxAge: '5s' } } } }));
    await q.enqueue([routed('late')]);
    await q.startWorkers();
    await until(async () => (await listDeadLetters(redis.client(), { prefix })).length === 1, 5000, 'dead letter');
    expect(sink.calls).toHaveLength(1);
    const [dl] = await listDeadLetters(redis.client(), { prefix });
    expect(dl!.reason).toMatch(/asked to wait 60000 ms, past retry.maxAge/);
  });

  it('a sink answer echoing a credential is stored redacted and cut to 1 KiB in the dead letter (any connector)', async () => {
    const token = 'xoxb-echoed-credential-1234';
    registerSecret(token);
    const sink = new ScriptedConnector();
    const echoed = `HTTP 400: invalid request ${JSON.stringify({ headers: { authorization: `Bearer ${token}` } })} ${'x'.repeat(5000)}`;
    sink.script('moments:moment:echo', [{ do: 'permanent', reason: echoed }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink } }));
    await q.enqueue([routed('echo')]);
    await q.startWorkers();
    const id = deliveryId('moments:moment:echo', 'r1', 'sink');
    await until(async () => (await showDeadLetter(redis.client(), { prefix, id })) !== undefined, 10_000, 'dead letter');
    const dl = (await showDeadLetter(redis.client(), { prefix, id }))!;
    for (const reason of [dl.reason, dl.history[0]!.reason]) {
      expect(reason).not.toContain(token);
      expect(reason).toContain('Bearer <secret>');
      expect(reason.length).toBeLessThan(MAX_REASON_CHARS + 100);
      expect(reason).toMatch(/more characters\)$/);
    }
    // Nothing in Redis under the prefix holds the credential (job hash, attempt list, failed reason).
    const client = redis.client();
    for (const key of await client.keys(`${prefix}:*`)) {
      const type = await client.type(key);
      const dump =
        type === 'hash'
          ? JSON.stringify(await client.hgetall(key))
          : type === 'list'
            ? JSON.stringify(await client.lrange(key, 0, -1))
            : type === 'string'
              ? String(await client.get(key))
              : '';
      expect(dump, key).not.toContain(token);
    }
  });

  it('permanent failure: dead letter at once with event, route, connector, payload and the attempt history; dlq retry re-delivers', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:p', [{ do: 'permanent', reason: 'channel_not_found' }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink } }));
    await q.enqueue([routed('p')]);
    await q.startWorkers();
    const id = deliveryId('moments:moment:p', 'r1', 'sink');
    await until(async () => (await showDeadLetter(redis.client(), { prefix, id })) !== undefined, 10_000, 'dead letter');
    expect(sink.calls).toHaveLength(1);
    const dl = (await showDeadLetter(redis.client(), { prefix, id }))!;
    expect(dl).toMatchObject({
      id,
      connector: 'sink',
      route: 'r1',
      eventId: 'moments:moment:p',
      reason: 'channel_not_found',
      attempts: 1,
      payload: { text: 'moment p' },
    });
    expect(dl.event.id).toBe('moments:moment:p');
    expect(dl.history).toHaveLength(1);
    expect(dl.history[0]).toMatchObject({ attempt: 1, outcome: 'permanent', reason: 'channel_not_found' });
    expect(dl.history[0]!.at).toBeGreaterThan(Date.now() - 60_000);
    const list = await listDeadLetters(redis.client(), { prefix });
    expect(list.map((d) => d.id)).toEqual([id]);

    const res = await retryDeadLetters(redis.client(), { prefix, ids: [id, 'nope'] });
    expect(res).toEqual({ retried: [id], missing: ['nope'] });
    await sink.waitFor(() => sink.deliveredIds.get(id) === 1, 10_000, 're-delivery');
    expect(sink.calls.map((c) => c.attempt)).toEqual([1, 1]);
    expect(await listDeadLetters(redis.client(), { prefix })).toEqual([]);
  });

  it('dlq purge removes dead letters older than a bound', async () => {
    const sink = new ScriptedConnector();
    for (const k of ['x', 'y']) sink.script(`moments:moment:${k}`, [{ do: 'permanent' }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink } }));
    await q.enqueue([routed('x'), routed('y')]);
    await q.startWorkers();
    await until(async () => (await listDeadLetters(redis.client(), { prefix })).length === 2);
    expect(await purgeDeadLetters(redis.client(), { prefix, olderThanMs: 3_600_000 })).toBe(0);
    expect(await purgeDeadLetters(redis.client(), { prefix, connector: 'sink' })).toBe(2);
    expect(await listDeadLetters(redis.client(), { prefix })).toEqual([]);
  });

  it('stays one job per delivery after the delivered job is trimmed (dedup TTL outlives retention)', async () => {
    const sink = new ScriptedConnector();
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink } }, { retention: { completedCount: 0 } }));
    await q.enqueue([routed('t')]);
    await q.startWorkers();
    await sink.waitFor(() => sink.deliveredIds.size === 1);
    await until(async () => (await q.depth()).sink!.completed === 0, 5000, 'trimmed');
    expect(await q.enqueue([routed('t')])).toEqual({ enqueued: 0, duplicates: 1, rejected: 0, quarantined: 0, deadLettered: 0 });
    const q2 = track(makeQueues(redis.url, prefix, { sink: { connector: sink } }, { dedupTtlMs: 100 }));
    await new Promise((r) => setTimeout(r, 50));
    expect((await q2.enqueue([routed('t2')])).enqueued).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    // Once the TTL ran out (and the job is gone) the id is free again: a late replay is a new delivery.
    await sink.waitFor(() => sink.deliveredIds.size === 2);
    await until(async () => (await q.depth()).sink!.completed === 0);
    expect((await q2.enqueue([routed('t2')])).enqueued).toBe(1);
  });

  it('counts a repeat of a dead letter as a duplicate even after the dedup TTL ran out, and adds nothing', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:d', [{ do: 'permanent' }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink } }, { dedupTtlMs: 100 }));
    expect(await q.enqueue([routed('d')])).toEqual({ enqueued: 1, duplicates: 0, rejected: 0, quarantined: 0, deadLettered: 0 });
    await q.startWorkers();
    await until(async () => (await listDeadLetters(redis.client(), { prefix })).length === 1);
    const id = deliveryId('moments:moment:d', 'r1', 'sink');
    await until(async () => (await redis.client().exists(`${prefix}:${queueName('sink')}:de:${id}`)) === 0, 5000, 'dedup key expired');
    const before = await metric('mb_queue_jobs_duplicate_total', { connector: 'sink' });
    // The dead letter (kept 30 days) still holds the job id, so BullMQ's add script leaves it as is.
    expect(await q.enqueue([routed('d'), routed('e')])).toEqual({ enqueued: 1, duplicates: 1, rejected: 0, quarantined: 0, deadLettered: 0 });
    expect(await metric('mb_queue_jobs_duplicate_total', { connector: 'sink' })).toBe(before + 1);
    await sink.waitFor(() => sink.deliveredIds.size === 1);
    expect(sink.callsFor('moments:moment:d')).toHaveLength(1);
    expect(await listDeadLetters(redis.client(), { prefix })).toHaveLength(1);
  });

  it('two instances with their own connections enqueue the same 1,000 events at once: 1,000 jobs, 1,000 deliveries', async () => {
    const sink = new ScriptedConnector();
    const prefix = nextPrefix();
    const a = track(makeQueues(redis.url, prefix, { sink: { connector: sink, options: { concurrency: 50 } } }));
    const b = track(makeQueues(redis.url, prefix, { sink: { connector: sink, options: { concurrency: 50 } } }));
    const batch = Array.from({ length: 1000 }, (_, i) => routed(i));
    const chunks = (list: typeof batch) => Array.from({ length: 10 }, (_, i) => list.slice(i * 100, i * 100 + 100));
    await Promise.all([...chunks(batch).map((c) => a.enqueue(c)), ...chunks([...batch].reverse()).map((c) => b.enqueue(c))]);
    const depth = (await a.depth()).sink!;
    expect(depth.waiting + depth.prioritized).toBe(1000);
    await Promise.all([a.startWorkers(), b.startWorkers()]);
    await sink.waitFor(() => sink.deliveredIds.size === 1000, 20_000, '1000 deliveries');
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.calls).toHaveLength(1000);
    expect([...sink.deliveredIds.values()].every((c) => c === 1)).toBe(true);
  });

  it('dead-letters an oversized delivery unsent (dlq retry sends it), quarantines an unserializable one, rejects unknown connectors', async () => {
    const sink = new ScriptedConnector();
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink } }, { maxPayloadBytes: 1024 }));
    const big = { ...routed('big'), payload: { text: 'x'.repeat(2000) } };
    const bigint = { ...routed('bigint'), payload: { n: 1n } };
    const before = await metric('mb_queue_jobs_rejected_total', { connector: 'sink', reason: 'too_large' });
    const aside = await metric('mb_pipeline_set_aside_total', { source: 'moments', reason: 'too_large', to: 'dead_letter' });
    expect(await q.enqueue([big, bigint, routed('ok'), routed('u', 'nowhere')])).toEqual({
      enqueued: 1,
      duplicates: 0,
      rejected: 1,
      quarantined: 1,
      deadLettered: 1,
    });
    expect(await metric('mb_queue_jobs_rejected_total', { connector: 'sink', reason: 'too_large' })).toBe(before + 1);
    expect(await metric('mb_pipeline_set_aside_total', { source: 'moments', reason: 'too_large', to: 'dead_letter' })).toBe(aside + 1);
    expect(await metric('mb_queue_jobs_rejected_total', { connector: 'nowhere', reason: 'unknown_connector' })).toBeGreaterThanOrEqual(1);
    const [quarantined] = await listQuarantined(redis.client(), `${prefix}:`);
    expect(quarantined!.reason).toMatch(/^unserializable \(route "r1", connector "sink"\): payload: .*BigInt/);
    // A repeat of the oversized delivery is a duplicate, not a second dead letter.
    expect(await q.enqueue([big])).toMatchObject({ enqueued: 0, duplicates: 1, deadLettered: 0 });

    await q.startWorkers();
    await until(async () => (await listDeadLetters(redis.client(), { prefix })).length === 1);
    const [dead] = await listDeadLetters(redis.client(), { prefix });
    expect(dead).toMatchObject({ eventId: 'moments:moment:big', connector: 'sink' });
    expect(dead!.reason).toMatch(/exceeds the 1024-byte limit/);
    await sink.waitFor(() => sink.deliveredIds.size === 1);
    expect(sink.callsFor('moments:moment:big')).toHaveLength(0);
    // Re-driving it is the operator's call: it is then sent as it is.
    await retryDeadLetters(redis.client(), { prefix, ids: [dead!.id] });
    await sink.waitFor(() => sink.deliveredIds.size === 2);
    expect(sink.callsFor('moments:moment:big')[0]!.result).toBe('delivered');
  });

  it('a slow attempt times out and is retried; a throwing connector is retried too', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:slow', [{ do: 'slow', ms: 5000 }]);
    sink.script('moments:moment:boom', [{ do: 'throw', message: 'bug' }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink, options: { timeout: 200, retry: { backoff: 50 } } } }));
    await q.enqueue([routed('slow'), routed('boom')]);
    await q.startWorkers();
    await sink.waitFor(() => sink.deliveredIds.size === 2, 10_000);
    expect(sink.callsFor('moments:moment:slow').map((c) => [c.attempt, c.result])).toEqual([
      [1, 'aborted'],
      [2, 'delivered'],
    ]);
    expect(sink.callsFor('moments:moment:boom').map((c) => c.attempt)).toEqual([1, 2]);
    expect(await metric('mb_queue_attempts_failed_total', { connector: 'sink', outcome: 'timeout' })).toBeGreaterThanOrEqual(1);
  });

  it('graceful stop: in-flight deliveries finish within the grace period, longer ones go back to the queue unspent', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:quick', [{ do: 'slow', ms: 300 }]);
    sink.script('moments:moment:long', [{ do: 'slow', ms: 10_000 }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink, options: { concurrency: 2 } } }));
    await q.enqueue([routed('quick'), routed('long')]);
    await q.startWorkers();
    await sink.waitFor(() => sink.calls.length === 2);
    await q.enqueue([routed('later')]);
    const t0 = Date.now();
    await q.stopWorkers(1000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(sink.callsFor('moments:moment:quick')[0]!.result).toBe('delivered');
    expect(sink.callsFor('moments:moment:later')).toHaveLength(0);
    const raw = new Queue(queueName('sink'), { connection: redis.client(), prefix });
    const long = await raw.getJob(deliveryId('moments:moment:long', 'r1', 'sink'));
    expect(['waiting', 'delayed']).toContain(await long!.getState());
    expect(long!.attemptsMade).toBe(0);
    await raw.close();
    // A new worker picks both up.
    sink.script('moments:moment:long', []);
    await q.startWorkers();
    await sink.waitFor(() => sink.deliveredIds.size === 3, 10_000);
  });

  it('batches deliveries for connectors with deliverBatch and acknowledges each job on its own', async () => {
    const sink = new ScriptedConnector({ batch: true });
    sink.script('moments:moment:5', [{ do: 'permanent' }]);
    sink.script('moments:moment:6', [{ do: 'retry' }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink, options: { batch: { maxSize: 10, window: 200 }, retry: { backoff: 50 } } } }));
    await q.enqueue(Array.from({ length: 20 }, (_, i) => routed(i)));
    await q.startWorkers();
    await sink.waitFor(() => sink.deliveredIds.size === 19, 10_000);
    expect(sink.batches.length).toBeLessThan(10);
    expect(Math.max(...sink.batches)).toBeLessThanOrEqual(10);
    expect(sink.callsFor('moments:moment:6').map((c) => c.attempt)).toEqual([1, 2]);
    await until(async () => (await listDeadLetters(redis.client(), { prefix })).length === 1);
    expect((await listDeadLetters(redis.client(), { prefix }))[0]!.eventId).toBe('moments:moment:5');
  });

  it('enqueue rejects when Redis is unreachable, so the caller keeps its cursor', async () => {
    const sink = new ScriptedConnector();
    const q = track(makeQueues('redis://127.0.0.1:1', nextPrefix(), { sink: { connector: sink } }));
    await expect(q.enqueue([routed(1)])).rejects.toThrow();
  });
});

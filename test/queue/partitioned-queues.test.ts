import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, DeliveryResult } from '../../connectors/connector.js';
import { registry } from '../../src/core/metrics.js';
import { countDeadLetters, listDeadLetters, pageDeadLetters, purgeDeadLetters, retryDeadLetters, showDeadLetter } from '../../src/queue/dead-letters.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import type { DeliveryQueues } from '../../src/queue/delivery-queues.js';
import type { DeliveryOptionsInput } from '../../src/queue/delivery-options-schema.js';
import { partitionOf, partitionsInRedis } from '../../src/queue/partitions.js';
import { queueName } from '../../src/queue/queue-names.js';
import type { RoutedDelivery } from '../../src/queue/routed-delivery.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { event, makeQueues, until } from './queue-test-kit.js';

/** A scripted sink whose partition key is the payload's `key` (as Slack's is its channel). */
class KeyedConnector extends ScriptedConnector {
  /** Payload `seq` per key, in the order attempts reached the sink. */
  readonly order = new Map<string, number[]>();

  partitionKey(payload: unknown): string {
    return (payload as { key: string }).key;
  }

  override async deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    const { key, seq } = delivery.payload as { key: string; seq: number };
    // Recorded as the attempt starts (the order the queue hands deliveries over in).
    this.order.set(key, [...(this.order.get(key) ?? []), seq]);
    return super.deliver(delivery, signal);
  }
}

let redis: TestRedis;
const open: DeliveryQueues[] = [];
let n = 0;
const nextPrefix = () => `p${++n}`;

function track(q: DeliveryQueues): DeliveryQueues {
  open.push(q);
  return q;
}

function keyed(seq: number, key: string, connector = 'sink'): RoutedDelivery {
  return { event: event(`${key}-${seq}`), route: 'r1', connector, payload: { key, seq } };
}

function queues(prefix: string, sink: ScriptedConnector, options: DeliveryOptionsInput, extra: Parameters<typeof makeQueues>[3] = {}) {
  return track(makeQueues(redis.url, prefix, { sink: { connector: sink, options } }, extra));
}

/** Where each job of `connector` sits: delivery id → partition, over the partition queues that exist. */
async function jobPartitions(prefix: string, connector = 'sink'): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const p of await partitionsInRedis(redis.client(), prefix, connector, false)) {
    const q = new Queue(queueName(connector, { partition: p }), { connection: redis.client(), prefix, skipMetasUpdate: true });
    for (const job of await q.getJobs(['waiting', 'delayed', 'failed', 'completed', 'active', 'prioritized'])) {
      expect(out.has(job.id!), `job ${job.id} in two partitions`).toBe(false);
      out.set(job.id!, p);
    }
    await q.close();
  }
  return out;
}

async function metric(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val))?.value;
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

describe('partitioned connector queues', () => {
  it('partitions: 1 (the default) keeps the queue name a connector always had', async () => {
    const prefix = nextPrefix();
    const q = queues(prefix, new KeyedConnector(), {});
    await q.enqueue([keyed(1, '#a'), keyed(1, '#b'), keyed(1, '#c')]);
    expect(await partitionsInRedis(redis.client(), prefix, 'sink', false)).toEqual([0]);
    const raw = new Queue(queueName('sink'), { connection: redis.client(), prefix });
    expect(raw.name).toBe('delivery.sink');
    expect(await raw.getWaitingCount()).toBe(3);
    await raw.close();
    expect([...q.dashboardQueues().keys()]).toEqual(['sink']);
  });

  it('sends one key to one partition and keeps its order, while the keys spread over the partitions', async () => {
    const prefix = nextPrefix();
    const sink = new KeyedConnector();
    const q = queues(prefix, sink, { partitions: 4, concurrency: 1 });
    const keys = Array.from({ length: 12 }, (_, i) => `#channel-${i}`);
    const deliveries = Array.from({ length: 10 }, (_, seq) => keys.map((k) => keyed(seq, k))).flat();
    // Two enqueue calls, as a source's batches would come.
    await q.enqueue(deliveries.slice(0, 60));
    await q.enqueue(deliveries.slice(60));
    const where = await jobPartitions(prefix);
    expect(where.size).toBe(120);
    for (const k of keys) {
      const parts = new Set(deliveries.filter((d) => (d.payload as { key: string }).key === k).map((d) => where.get(deliveryId(d.event.id, 'r1', 'sink'))));
      expect(parts, `partitions of ${k}`).toEqual(new Set([partitionOf(k, 4)]));
    }
    expect(new Set(where.values()).size).toBe(4);
    expect(q.partitionQueues('sink').map(([p, queue]) => [p, queue.name])).toEqual([
      [0, 'delivery.sink'],
      [1, 'delivery.sink@1'],
      [2, 'delivery.sink@2'],
      [3, 'delivery.sink@3'],
    ]);

    await q.startWorkers();
    await sink.waitFor(() => sink.deliveredIds.size === 120, 20_000, '120 deliveries');
    for (const k of keys) expect(sink.order.get(k), `order of ${k}`).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(q.workerStates()).toEqual({ sink: true });
    expect([...q.dashboardQueues()].map(([name, v]) => [name, v.queue.name, v.partition])).toEqual(
      [0, 1, 2, 3].map((p) => [`sink@${p}`, queueName('sink', { partition: p }), { connector: 'sink', index: p, of: 4 }]),
    );
    await until(async () => (await q.depth()).sink!.completed === 120, 5000, '120 completed');
    expect(await metric('mb_queue_depth', { connector: 'sink', state: 'completed' })).toBe(120);
    expect(await metric('mb_queue_partitions', { connector: 'sink' })).toBe(4);
  });

  it('without a partitionKey the event id decides, and every partition gets a fair share', async () => {
    const prefix = nextPrefix();
    const sink = new ScriptedConnector();
    const q = queues(prefix, sink, { partitions: 4 });
    await q.enqueue(Array.from({ length: 1000 }, (_, i) => ({ event: event(i), route: 'r1', connector: 'sink', payload: { i } })));
    const counts = await Promise.all(q.partitionQueues('sink').map(([, queue]) => queue.getWaitingCount()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const c of counts) expect(c >= 200 && c <= 300, `${c} of 1000 in one partition`).toBe(true);
    const depth = (await q.depth()).sink!;
    expect(depth.waiting).toBe(1000);
    expect(await metric('mb_queue_partition_waiting_max', { connector: 'sink' })).toBe(Math.max(...counts));
  });

  it('a partitionKey that throws or answers empty falls back to the event id (the delivery is not lost)', async () => {
    const prefix = nextPrefix();
    const sink = new KeyedConnector();
    sink.partitionKey = (payload: unknown) => {
      const key = (payload as { key: string }).key;
      if (key === 'boom') throw new Error('bug in partitionKey');
      return key === 'empty' ? '' : key;
    };
    const q = queues(prefix, sink, { partitions: 4 });
    const batch = [keyed(0, 'boom'), keyed(1, 'empty'), keyed(2, '#fine')];
    expect(await q.enqueue(batch)).toMatchObject({ enqueued: 3 });
    const where = await jobPartitions(prefix);
    expect(batch.map((d) => where.get(deliveryId(d.event.id, 'r1', 'sink')))).toEqual([
      partitionOf(batch[0]!.event.id, 4),
      partitionOf(batch[1]!.event.id, 4),
      partitionOf('#fine', 4),
    ]);
  });

  it('finds a repeat in its partition: re-enqueue, and another process enqueueing, add nothing', async () => {
    const prefix = nextPrefix();
    const sink = new KeyedConnector();
    const a = queues(prefix, sink, { partitions: 8 }, { retention: { completedCount: 0 } });
    const b = queues(prefix, new KeyedConnector(), { partitions: 8 });
    const batch = Array.from({ length: 50 }, (_, i) => keyed(i, `#k${i % 9}`));
    expect(await a.enqueue(batch)).toMatchObject({ enqueued: 50, duplicates: 0 });
    expect(await a.enqueue(batch)).toMatchObject({ enqueued: 0, duplicates: 50 });
    expect(await b.enqueue([...batch].reverse())).toMatchObject({ enqueued: 0, duplicates: 50 });
    expect((await jobPartitions(prefix)).size).toBe(50);
    // Delivered and trimmed: the dedup key in the partition still finds it.
    await a.startWorkers();
    await sink.waitFor(() => sink.deliveredIds.size === 50, 20_000, '50 deliveries');
    await until(async () => (await a.depth()).sink!.completed === 0, 5000, 'trimmed');
    expect((await jobPartitions(prefix)).size).toBe(0);
    expect(await b.enqueue(batch)).toMatchObject({ enqueued: 0, duplicates: 50 });
    expect([...sink.deliveredIds.values()].every((times) => times === 1)).toBe(true);
  });

  it('dlq list, show, retry and purge see a connector’s dead letters across its partitions', async () => {
    const prefix = nextPrefix();
    const sink = new KeyedConnector();
    const keys = ['#a', '#b', '#c', '#d', '#e', '#f'];
    for (const k of keys) sink.script(`moments:moment:${k}-0`, [{ do: 'permanent', reason: `no channel ${k}` }]);
    const q = queues(prefix, sink, { partitions: 4 });
    await q.enqueue(keys.map((k) => keyed(0, k)));
    await q.startWorkers();
    await until(async () => (await q.depth()).sink!.failed === 6, 10_000, '6 dead letters');
    const spread = new Set(keys.map((k) => partitionOf(k, 4)));
    expect(spread.size).toBeGreaterThan(1);

    const scope = { prefix, connector: 'sink' };
    const listed = await listDeadLetters(redis.client(), scope);
    expect(listed.map((d) => d.eventId).sort()).toEqual(keys.map((k) => `moments:moment:${k}-0`).sort());
    expect(listed.every((d) => d.connector === 'sink')).toBe(true);
    // Discovered without naming the connector, too: one entry per connector, not per partition.
    const page = await pageDeadLetters(redis.client(), { prefix, limit: 4, offset: 0 });
    expect(page).toMatchObject({ total: 6, counts: { sink: 6 } });
    expect(page.items).toHaveLength(4);
    expect(await countDeadLetters(redis.client(), { prefix })).toEqual({ sink: 6 });
    const inLastPartition = keys.find((k) => partitionOf(k, 4) !== 0)!;
    const id = deliveryId(`moments:moment:${inLastPartition}-0`, 'r1', 'sink');
    expect(await showDeadLetter(redis.client(), { ...scope, id })).toMatchObject({ id, reason: `no channel ${inLastPartition}` });

    const retried = await retryDeadLetters(redis.client(), { ...scope, ids: [id] });
    expect(retried).toEqual({ retried: [id], missing: [] });
    await sink.waitFor(() => sink.deliveredIds.has(id), 10_000, 'the retried dead letter');
    expect(await purgeDeadLetters(redis.client(), scope)).toBe(5);
    expect(await countDeadLetters(redis.client(), scope)).toEqual({ sink: 0 });
  });

  it('shares the rate limit out over the partitions (1 per minute over 2 → each partition 1 per 2 minutes)', async () => {
    const prefix = nextPrefix();
    const sink = new KeyedConnector();
    const q = queues(prefix, sink, { partitions: 2, rateLimit: { max: 1, duration: '1m' } });
    const [k0, k1] = [0, 1].map((p) => Array.from({ length: 50 }, (_, i) => `#k${i}`).find((k) => partitionOf(k, 2) === p)!);
    await q.enqueue([keyed(0, k0!), keyed(1, k0!), keyed(0, k1!)]);
    expect([...q.dashboardQueues().values()].map((d) => d.rateLimit)).toEqual([
      { max: 1, durationMs: 120_000 },
      { max: 1, durationMs: 120_000 },
    ]);
    await q.startWorkers();
    // One per partition goes at once (2 in the first minute: the burst the split allows), then each
    // partition waits out its own 2-minute window: in the long run 1 per minute, as configured.
    await sink.waitFor(() => sink.deliveredIds.size === 2, 10_000, 'one delivery per partition');
    for (const [, queue] of q.partitionQueues('sink')) {
      const ttl = await redis.client().pttl(`${prefix}:${queue.name}:limiter`);
      expect(ttl).toBeGreaterThan(60_000);
      expect(ttl).toBeLessThanOrEqual(120_000);
    }
    expect(sink.order.get(k0!)).toEqual([0]);
    expect((await q.depth()).sink).toMatchObject({ waiting: 1 });
  });

  it('rateLimit.perPartition keeps the configured limit on each partition', async () => {
    const prefix = nextPrefix();
    const q = queues(prefix, new KeyedConnector(), { partitions: 3, rateLimit: { max: 1, duration: '1s', perPartition: true } });
    expect([...q.dashboardQueues().values()].map((d) => d.rateLimit)).toEqual(Array.from({ length: 3 }, () => ({ max: 1, durationMs: 1000 })));
  });

  it("a sink's Retry-After pauses every partition of the connector, as it paused its one queue", async () => {
    const prefix = nextPrefix();
    const sink = new KeyedConnector();
    const key = '#busy';
    sink.script(`moments:moment:${key}-0`, [{ do: 'retry', reason: 'HTTP 429', retryAfterMs: 60_000 }]);
    const q = queues(prefix, sink, { partitions: 3 });
    await q.enqueue([keyed(0, key)]);
    await q.startWorkers();
    await sink.waitFor(() => sink.calls.length === 1, 10_000, 'the rate-limited attempt');
    for (const [p, queue] of q.partitionQueues('sink')) {
      await until(async () => (await queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER - 1)) > 0, 5_000, `partition ${p} paused`);
      expect(await queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER - 1)).toBeGreaterThan(50_000);
    }
  });

  it('changing partitions with jobs queued loses nothing: 8 → 3 drains the left-over partitions, 3 → 8 keeps the old ones', async () => {
    const prefix = nextPrefix();
    const eight = queues(prefix, new KeyedConnector(), { partitions: 8 });
    const batch = Array.from({ length: 200 }, (_, i) => keyed(i, `#k${i}`));
    expect(await eight.enqueue(batch)).toMatchObject({ enqueued: 200 });
    const before = await jobPartitions(prefix);
    expect(new Set(before.values()).size).toBe(8);
    await eight.close();
    open.splice(open.indexOf(eight), 1);

    // Restarted with fewer partitions: the left-over ones are served until empty, and counted.
    const sink = new KeyedConnector();
    for (const k of ['#k0', '#k1', '#k2', '#k3', '#k4', '#k5', '#k6', '#k7', '#k8', '#k9'])
      sink.script(`moments:moment:${k}-${k.slice(2)}`, [{ do: 'permanent' }]);
    const three = queues(prefix, sink, { partitions: 3 });
    await three.startWorkers();
    expect(three.partitionQueues('sink').map(([p]) => p)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(three.workerStates()).toEqual({ sink: true });
    await until(
      async () => {
        const d = (await three.depth()).sink!;
        return d.waiting + d.active + d.delayed + d.prioritized === 0 && d.failed === 10;
      },
      20_000,
      'every queued job of every partition handled',
    );
    const all = batch.map((d) => deliveryId(d.event.id, 'r1', 'sink'));
    const failed = new Set(
      ['#k0', '#k1', '#k2', '#k3', '#k4', '#k5', '#k6', '#k7', '#k8', '#k9'].map((k) => deliveryId(`moments:moment:${k}-${k.slice(2)}`, 'r1', 'sink')),
    );
    for (const id of all) expect(sink.deliveredIds.get(id), id).toBe(failed.has(id) ? undefined : 1);
    // The dead letters of partitions 3 … 7 are still listed and can be re-driven.
    expect(await countDeadLetters(redis.client(), { prefix, connector: 'sink' })).toEqual({ sink: 10 });
    const stranded = [...failed].filter((id) => before.get(id)! >= 3);
    expect(stranded.length).toBeGreaterThan(0);
    expect((await retryDeadLetters(redis.client(), { prefix, connector: 'sink', ids: stranded })).missing).toEqual([]);
    await sink.waitFor(() => stranded.every((id) => sink.deliveredIds.has(id)), 10_000, 'the re-driven dead letters of left-over partitions');
    expect(await metric('mb_queue_partitions', { connector: 'sink' })).toBe(8);
  });

  it.each([
    [4, 2],
    [2, 4],
    [3, 8],
  ])('finds repeats across a change of partitions %i → %i, also those whose key moved to another partition', async (from, to) => {
    const prefix = nextPrefix();
    const before = queues(prefix, new KeyedConnector(), { partitions: from });
    const batch = Array.from({ length: 200 }, (_, i) => keyed(i, `#m${i}`));
    expect(await before.enqueue(batch)).toMatchObject({ enqueued: 200 });
    const moved = batch.filter((d) => partitionOf((d.payload as { key: string }).key, from) !== partitionOf((d.payload as { key: string }).key, to));
    expect(moved.length).toBeGreaterThan(40);
    // A process on the new count (a restart, a replay, the next replica of a rolling restart) …
    const after = queues(prefix, new KeyedConnector(), { partitions: to });
    const counted = (await metric('mb_queue_jobs_duplicate_total', { connector: 'sink' })) ?? 0;
    expect(await after.enqueue(batch)).toMatchObject({ duplicates: 200, enqueued: 0 });
    // Every repeat counted once on the connector, the moved ones (found by the extra look) included.
    expect(((await metric('mb_queue_jobs_duplicate_total', { connector: 'sink' })) ?? 0) - counted).toBe(200);
    // … and one still on the old count, once the new one enqueued, both see every repeat.
    const fresh = Array.from({ length: 100 }, (_, i) => keyed(i, `#n${i}`));
    expect(await after.enqueue(fresh)).toMatchObject({ enqueued: 100 });
    const old = queues(prefix, new KeyedConnector(), { partitions: from });
    expect(await old.enqueue([...fresh, ...batch])).toMatchObject({ duplicates: 300, enqueued: 0 });
    expect((await jobPartitions(prefix)).size).toBe(300);
  });

  it('growing partitions keeps the old queues in service (their jobs are delivered)', async () => {
    const prefix = nextPrefix();
    const two = queues(prefix, new KeyedConnector(), { partitions: 2 });
    const batch = Array.from({ length: 40 }, (_, i) => keyed(i, `#g${i}`));
    await two.enqueue(batch);
    await two.close();
    open.splice(open.indexOf(two), 1);
    const sink = new KeyedConnector();
    const five = queues(prefix, sink, { partitions: 5 });
    await five.startWorkers();
    await sink.waitFor(() => sink.deliveredIds.size === 40, 20_000, 'the 40 jobs queued under partitions: 2');
  });
});

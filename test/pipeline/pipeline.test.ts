import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { registry } from '../../src/core/metrics.js';
import { listQuarantined } from '../../src/quarantine/quarantine.js';
import { listDeadLetters } from '../../src/queue/dead-letters.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { DeliveryQueues, EnqueueResult } from '../../src/queue/delivery-queues.js';
import type { RoutedDelivery } from '../../src/queue/routed-delivery.js';
import { routeSchema } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { CollectConnector } from '../helpers/collect-connector.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { makeQueues, until } from '../queue/queue-test-kit.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

const moment = (n: number, athleteId: string): BridgeEvent => ({
  id: `moments:moment:m${n}`,
  source: 'moments',
  kind: 'moment',
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  data: { publicId: `m${n}`, athleteId },
});

/** Counts the calls a real DeliveryQueues gets (the batch promise is one call per batch). */
function counting(queues: DeliveryQueues): { queues: DeliveryQueues; calls: RoutedDelivery[][] } {
  const calls: RoutedDelivery[][] = [];
  const enqueue = queues.enqueue.bind(queues);
  queues.enqueue = async (deliveries: RoutedDelivery[]): Promise<EnqueueResult> => {
    calls.push(deliveries);
    return enqueue(deliveries);
  };
  return { queues, calls };
}

describe('Pipeline.acceptBatch', () => {
  it('routes each event in order and enqueues every delivery of the batch in one call', async () => {
    const sink = new CollectConnector({ text: '{{ data.publicId }}' });
    const router = Router.compile([routeSchema.parse({ name: 'athlete-a', match: { 'data.athleteId': 'a' }, to: ['sink'] })], {
      redis: redis.client(),
      keyPrefix: 'p:',
      logger: silentLogger(),
      connectors: new Map([['sink', sink]]),
    });
    const { queues, calls } = counting(makeQueues(redis.url, 'pb', { sink: { connector: sink } }));
    try {
      const pipeline = new Pipeline(router, queues, silentLogger());
      const events = [moment(1, 'a'), moment(2, 'b'), moment(3, 'a'), moment(4, 'a')];
      await pipeline.acceptBatch(events);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.map((d) => d.event.id)).toEqual(['moments:moment:m1', 'moments:moment:m3', 'moments:moment:m4']);
      // In Redis in that order: BullMQ LPUSHes new jobs onto the wait list and takes from the tail.
      const q = queues.bullQueues().get('sink')!;
      const ids = await redis.client().lrange(`${q.qualifiedName}:wait`, 0, -1);
      const jobs = await Promise.all(ids.reverse().map((id) => q.getJob(id)));
      expect(jobs.map((j) => j!.data.event.id)).toEqual(['moments:moment:m1', 'moments:moment:m3', 'moments:moment:m4']);
      // A batch with nothing routed makes no queue call; a repeated batch adds no job.
      await pipeline.acceptBatch([moment(5, 'b')]);
      expect(calls).toHaveLength(1);
      await pipeline.acceptBatch(events);
      expect(await queues.bullQueues().get('sink')!.getWaitingCount()).toBe(3);
    } finally {
      await queues.close();
    }
  });

  it('rejects when the queue cannot take the batch, so the source keeps its cursor', async () => {
    const sink = new CollectConnector({ text: '{{ data.publicId }}' });
    const router = Router.compile([routeSchema.parse({ name: 'all', match: { kind: 'moment' }, to: ['sink'] })], {
      redis: redis.client(),
      keyPrefix: 'p2:',
      logger: silentLogger(),
      connectors: new Map([['sink', sink]]),
    });
    // Nothing listens on port 1: the producer fails fast (maxRetriesPerRequest 1).
    const queues = makeQueues('redis://127.0.0.1:1', 'pb2', { sink: { connector: sink } });
    try {
      const pipeline = new Pipeline(router, queues, silentLogger());
      await expect(pipeline.acceptBatch([moment(1, 'a'), moment(2, 'a')])).rejects.toThrow();
    } finally {
      await queues.close();
    }
  });
});

/** Nested arrays `depth` deep: parses fine, but JSON.stringify runs out of stack. */
function deepArray(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** A batch of 10: six good events and four that cannot be queued as they are. */
function poisonBatch(): BridgeEvent[] {
  const events = Array.from({ length: 10 }, (_, i) => moment(i + 1, 'a'));
  (events[1]!.data as Record<string, unknown>).triggerObject = deepArray(200_000); // past any stack size a test runner may set
  (events[3]!.data as Record<string, unknown>).count = 10n;
  const circular = events[5]!.data as Record<string, unknown>;
  circular.self = circular;
  (events[7]!.data as Record<string, unknown>).blob = 'x'.repeat(10_000);
  return events;
}

async function counterSum(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
}

const setAsideCount = (labels: Record<string, string>) => counterSum('mb_pipeline_set_aside_total', labels);

describe('Pipeline: one bad item never stops the flow', () => {
  const allRoute = () => routeSchema.parse({ name: 'all', match: { kind: 'moment' }, to: ['sink'] });

  it('sets aside an unserializable or too-large item alone, with its reason, and enqueues the rest', async () => {
    const sink = new CollectConnector({ text: '{{ data.publicId }}' });
    const router = Router.compile([allRoute()], { redis: redis.client(), keyPrefix: 'p3:', logger: silentLogger(), connectors: new Map([['sink', sink]]) });
    const queues = makeQueues(redis.url, 'p3', { sink: { connector: sink } }, { maxPayloadBytes: 4096 });
    const quarantinedBefore = await setAsideCount({ to: 'quarantine' });
    try {
      const pipeline = new Pipeline(router, queues, silentLogger());
      await expect(pipeline.acceptBatch(poisonBatch())).resolves.toBeUndefined();
      expect((await queues.depth()).sink!.waiting).toBe(7); // 6 + the too-large one, which the worker dead-letters without sending

      const aside = await listQuarantined(redis.client(), 'p3:');
      expect(aside.map((q) => (q.raw as { event: { id: string } }).event.id).sort()).toEqual(['moments:moment:m2', 'moments:moment:m4', 'moments:moment:m6']);
      const reason = (id: string) => aside.find((q) => (q.raw as { event: { id: string } }).event.id === id)!.reason;
      expect(reason('moments:moment:m2')).toMatch(/Maximum call stack|nested/i);
      expect(reason('moments:moment:m4')).toMatch(/BigInt/);
      expect(reason('moments:moment:m6')).toMatch(/circular/i);
      expect(await setAsideCount({ to: 'quarantine' })).toBe(quarantinedBefore + 3);

      await queues.startWorkers();
      await until(() => sink.sent.length === 6, 10_000, 'six deliveries');
      await until(async () => (await listDeadLetters(redis.client(), { prefix: 'p3' })).length === 1, 10_000, 'one dead letter');
      const [dead] = await listDeadLetters(redis.client(), { prefix: 'p3' });
      expect(dead).toMatchObject({ eventId: 'moments:moment:m8', connector: 'sink', route: 'all' });
      expect(dead!.reason).toMatch(/exceeds the 4096-byte limit/);
      expect(sink.sent.map((d) => d.event.id).sort()).toEqual(['m1', 'm10', 'm3', 'm5', 'm7', 'm9'].map((m) => `moments:moment:${m}`).sort());
    } finally {
      await queues.close();
    }
  });

  it('sets aside an event whose routing throws, and a payload that fails to render, alone', async () => {
    const sink = new CollectConnector({ text: '{{ data.publicId }}' });
    const grouped = routeSchema.parse({ name: 'grouped', match: { 'data.athleteId': 'g' }, to: ['sink'], group: { by: ['data.athleteId'], wait: '1h' } });
    const router = Router.compile([grouped, allRoute()], {
      redis: redis.client(),
      keyPrefix: 'p4:',
      logger: silentLogger(),
      connectors: new Map([['sink', sink]]),
    });
    const queues = makeQueues(redis.url, 'p4', { sink: { connector: sink } });
    try {
      const pipeline = new Pipeline(router, queues, silentLogger());
      const events = [moment(1, 'a'), moment(2, 'g'), moment(3, 'a'), moment(4, 'a')];
      // Grouping stores the event as JSON: a BigInt makes the router throw for this event only.
      (events[1]!.data as Record<string, unknown>).count = 10n;
      // A getter that throws breaks the payload template of this event only.
      Object.defineProperty(events[2]!.data, 'publicId', {
        enumerable: true,
        get: () => {
          throw new Error('getter exploded');
        },
      });
      await expect(pipeline.acceptBatch(events)).resolves.toBeUndefined();
      expect((await queues.depth()).sink!.waiting).toBe(2);
      const aside = await listQuarantined(redis.client(), 'p4:');
      const byId = Object.fromEntries(aside.map((q) => [(q.raw as { event: { id: string } }).event.id, q]));
      expect(Object.keys(byId).sort()).toEqual(['moments:moment:m2', 'moments:moment:m3']);
      expect(byId['moments:moment:m2']!.reason).toMatch(/^unroutable: .*BigInt/);
      expect(byId['moments:moment:m3']!.reason).toMatch(/^unrenderable \(route "all", connector "sink"\): .*getter exploded/);
      expect((byId['moments:moment:m3']!.raw as { event: { data: { publicId: string } } }).event.data.publicId).toMatch(/Unreadable: getter exploded/);
    } finally {
      await queues.close();
    }
  });

  it('still rejects the whole batch when Redis is unreachable, poison items or not', async () => {
    const sink = new CollectConnector({ text: '{{ data.publicId }}' });
    const router = Router.compile([allRoute()], { redis: redis.client(), keyPrefix: 'p5:', logger: silentLogger(), connectors: new Map([['sink', sink]]) });
    const queues = makeQueues('redis://127.0.0.1:1', 'p5', { sink: { connector: sink } }, { maxPayloadBytes: 4096 });
    try {
      const pipeline = new Pipeline(router, queues, silentLogger());
      await expect(pipeline.acceptBatch(poisonBatch())).rejects.toThrow();
      await expect(pipeline.accept(poisonBatch()[1]!)).rejects.toThrow();
    } finally {
      await queues.close();
    }
  });
});

describe('Pipeline: events no route matched', () => {
  it('counts an event no route matched once in mb_events_unrouted_total, and a throttled one not at all', async () => {
    const sink = new CollectConnector({ text: '{{ data.publicId }}' });
    const throttled = routeSchema.parse({
      name: 'throttled',
      match: { 'data.athleteId': 't' },
      to: ['sink'],
      throttle: { key: '{{ data.athleteId }}', window: '1h' },
    });
    const router = Router.compile([throttled], { redis: redis.client(), keyPrefix: 'p6:', logger: silentLogger(), connectors: new Map([['sink', sink]]) });
    const queues = makeQueues(redis.url, 'p6', { sink: { connector: sink } });
    const labels = { source: 'p6-source', kind: 'moment' };
    const events = [moment(1, 't'), moment(2, 't'), moment(3, 'nobody')].map((e) => ({ ...e, source: labels.source }));
    try {
      const pipeline = new Pipeline(router, queues, silentLogger());
      await pipeline.acceptBatch(events);
      // m1 delivered, m2 held back by the throttle (matched: not unrouted), m3 matched nothing.
      expect((await queues.depth()).sink!.waiting).toBe(1);
      expect(await counterSum('mb_events_received_total', labels)).toBe(3);
      expect(await counterSum('mb_events_unrouted_total', labels)).toBe(1);
      await pipeline.accept({ ...moment(4, 'nobody'), source: labels.source });
      expect(await counterSum('mb_events_unrouted_total', labels)).toBe(2);
    } finally {
      await queues.close();
    }
  });
});

describe('Pipeline: an unrouted event is routed once', () => {
  it('evaluates the routes of an event that matches none once: a failing `when` is counted once, the event once as unrouted', async () => {
    const sink = new CollectConnector({ text: '{{ data.publicId }}' });
    // Compiles, but fails on every event at run time (no such key): counted as no match.
    const failing = routeSchema.parse({ name: 'p7-failing-when', match: { kind: 'moment' }, when: 'data.missing > 1', to: ['sink'] });
    const router = Router.compile([failing], { redis: redis.client(), keyPrefix: 'p7:', logger: silentLogger(), connectors: new Map([['sink', sink]]) });
    const queues = makeQueues(redis.url, 'p7', { sink: { connector: sink } });
    const labels = { source: 'p7-source', kind: 'moment' };
    try {
      const pipeline = new Pipeline(router, queues, silentLogger());
      await pipeline.accept({ ...moment(1, 'a'), source: labels.source });
      expect(await counterSum('mb_route_condition_errors_total', { route: 'p7-failing-when' })).toBe(1);
      expect(await counterSum('mb_events_unrouted_total', labels)).toBe(1);
      expect((await queues.depth()).sink!.waiting).toBe(0);
    } finally {
      await queues.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../src/event.js';
import { silentLogger } from '../src/log.js';
import { Pipeline } from '../src/pipeline.js';
import type { DeliveryQueues, EnqueueResult } from '../src/queue/delivery-queues.js';
import type { RoutedDelivery } from '../src/queue/routed-delivery.js';
import { routeSchema } from '../src/routing/route-schema.js';
import { Router } from '../src/routing/router.js';
import { CollectConnector } from './helpers/collect-connector.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { makeQueues } from './queue/queue-test-kit.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

const moment = (n: number, athleteId: string): BridgeEvent => ({ id: `moments:moment:m${n}`, source: 'moments', kind: 'moment', time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), data: { publicId: `m${n}`, athleteId } });

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

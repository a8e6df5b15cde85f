import { writeFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { partitionsInRedis } from '../../src/queue/partitions.js';
import { queueName } from '../../src/queue/queue-names.js';
import { startObserverSimulator, type RunningObserverSimulator } from '../../simulators/observer/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { baseUrl, getReadyz, sample, scrape, startDaemon, until, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

// `partitions` from the YAML to the queues: the daemon spreads a connector over its partition
// queues, reports it as one connector, and a hot reload to fewer partitions strands nothing.
let redis: TestRedis;
let sim: RunningObserverSimulator;
let sink: WebhookReceiver;
let daemon: Daemon;
let file: string;

function yaml(partitions: number): string {
  return `
redis: { url: "${redis.url}", keyPrefix: pt }
server: { port: 0 }
shutdown: { grace: 1s }
sources:
  calls:
    type: observer
    url: ${sim.url}
    accessToken: tok
    frames: [ { callSnapshots: { callId: P } } ]
connectors:
  hooks: { type: webhook, url: "${sink.url}", allowPrivateNetworks: true, partitions: ${partitions}, rateLimit: { max: 1000, duration: 1s } }
routes:
  - { name: all, match: {}, to: [hooks] }
`;
}

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startObserverSimulator({ accessToken: 'tok' });
  sink = await startWebhookReceiver();
  sim.control.startCall({ callId: 'P', clients: 1 });
  file = writeConfig(yaml(4));
  daemon = await startDaemon(file);
  await until('frame open', () => sim.control.state().frames.some((f) => f.stream === 'callSnapshots:P'));
});

afterAll(async () => {
  await daemon?.stop();
  await sink?.stop();
  await sim?.stop();
  await redis?.stop();
});

describe('a connector with partitions: 4', () => {
  it('delivers through four partition queues and shows up as one connector', async () => {
    for (let i = 0; i < 40; i++) sim.control.pushRow({ kind: 'callSnapshots', callId: 'P', row: { n: i } });
    await until('40 deliveries', () => sink.received.length >= 40, 20_000);
    expect(await partitionsInRedis(redis.client(), 'pt', 'hooks', false)).toEqual([0, 1, 2, 3]);
    const perPartition = await Promise.all(
      [0, 1, 2, 3].map(async (partition) => {
        const q = new Queue(queueName('hooks', { partition }), { connection: redis.client(), prefix: 'pt', skipMetasUpdate: true });
        const n = await q.getCompletedCount();
        await q.close();
        return n;
      }),
    );
    expect(perPartition.reduce((a, b) => a + b, 0)).toBe(sink.received.length);
    expect(perPartition.filter((n) => n > 0).length).toBeGreaterThan(1);

    const base = baseUrl(daemon);
    const readyz = await getReadyz(base);
    expect(readyz.status).toBe(200);
    const metrics = await scrape(base);
    expect(sample(metrics, 'mb_queue_partitions', { connector: 'hooks' })).toBe(4);
    expect(sample(metrics, 'mb_worker_running', { connector: 'hooks' })).toBe(1);
    expect(sample(metrics, 'mb_queue_depth', { connector: 'hooks', state: 'completed' })).toBe(sink.received.length);
  });

  it('a reload to partitions: 2 keeps serving partitions 2 and 3 until their jobs are delivered', async () => {
    const before = sink.received.length;
    // Jobs waiting in partitions 2 and 3 while the config changes: the sink asks for a 3 s pause,
    // which holds every partition.
    sink.injectStatus(503, 1, '3');
    for (let i = 40; i < 60; i++) sim.control.pushRow({ kind: 'callSnapshots', callId: 'P', row: { n: i } });
    await until('the sink refused one', () => sink.requests.some((r) => r.status === 503));
    const waitingIn = async (partition: number) => {
      const q = new Queue(queueName('hooks', { partition }), { connection: redis.client(), prefix: 'pt', skipMetasUpdate: true });
      const n = await q.getWaitingCount();
      await q.close();
      return n;
    };
    await until('jobs waiting in partitions 2 and 3', async () => (await waitingIn(2)) + (await waitingIn(3)) > 0);
    writeFileSync(file, yaml(2));
    expect(await daemon.reload()).toMatchObject({ ok: true, changes: ['connector hooks: changed'] });
    for (let i = 60; i < 70; i++) sim.control.pushRow({ kind: 'callSnapshots', callId: 'P', row: { n: i } });
    await until(
      'every row delivered',
      () => new Set(sink.received.slice(before).map((r) => JSON.stringify((r.body as { data: unknown }).data))).size >= 30,
      30_000,
    );
    const metrics = await scrape(baseUrl(daemon));
    expect(sample(metrics, 'mb_queue_partitions', { connector: 'hooks' })).toBe(4);
    const depth = (await daemon.deliveryQueues!.depth()).hooks!;
    expect(depth).toMatchObject({ waiting: 0, delayed: 0, active: 0, failed: 0 });
  });
});

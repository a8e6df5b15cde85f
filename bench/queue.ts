/**
 * bench/queue: deliveries per second through the bridge's queue layer (DeliveryQueues.enqueue →
 * DeliveryWorker → no-op connector) next to raw BullMQ (Queue.addBulk → no-op Worker), same Redis,
 * same run, same job count, payload size, worker concurrency and completed-job retention.
 * The router is not in the loop yet (its owner adds it). Besides the rates (which swing ±30 % on
 * the shared machine), each round records the CPU it cost per job, which swings far less: this
 * process (`cpuUsage`, enqueue + delivery) and Redis (`INFO cpu`). Prints one JSON object.
 * Usage: tsx bench/queue.ts [jobs=20000] [concurrency=100] [rounds=3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { delivered, type Connector } from '../connectors/connector.js';
import type { BridgeEvent } from '../src/core/event.js';
import { silentLogger } from '../src/core/log.js';
import { EmbeddedRedis } from '../src/redis/embedded-redis.js';
import { DeliveryQueues } from '../src/queue/delivery-queues.js';
import type { RoutedDelivery } from '../src/queue/routed-delivery.js';
import { median, rate, waitFor } from './lib/measure.js';
import { rawBullmq } from './lib/raw-bullmq.js';

const JOBS = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = Number(process.argv[3] ?? 100);
const ROUNDS = Number(process.argv[4] ?? 3);
const CHUNK = 1000;
const RETENTION = { count: 1000, age: 3600 };

function event(i: number): BridgeEvent {
  // ≈ 200 bytes of event data, like a small moment.
  return {
    id: `moments:moment:${i}`,
    source: 'moments',
    kind: 'moment',
    time: new Date().toISOString(),
    data: { publicId: `m-${i}`, athleteId: 'a-17', value: 181, note: 'x'.repeat(90) },
  };
}

interface Run {
  enqueuePerSec: number;
  processPerSec: number;
  /** CPU µs per job, enqueue and delivery together: this process, and redis-server. */
  cpuUsPerJob: { node: number; redis: number };
}

async function redisCpuUs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

/** Runs `fn` and adds what it cost in CPU per job. */
async function withCpu(admin: Redis, fn: () => Promise<{ enqueuePerSec: number; processPerSec: number }>): Promise<Run> {
  const redis0 = await redisCpuUs(admin);
  const node0 = process.cpuUsage();
  const r = await fn();
  const node = process.cpuUsage(node0);
  const redis = (await redisCpuUs(admin)) - redis0;
  const perJob = (us: number) => Math.round((us / JOBS) * 10) / 10;
  return { ...r, cpuUsPerJob: { node: perJob(node.user + node.system), redis: perJob(redis) } };
}

async function raw(url: string, round: number): Promise<{ enqueuePerSec: number; processPerSec: number }> {
  const r = await rawBullmq(url, {
    jobs: JOBS,
    concurrency: CONCURRENCY,
    prefix: `rawbench${round}`,
    chunk: CHUNK,
    data: (i) => ({ event: event(i), payload: { text: `moment ${i}` } }),
  });
  return { enqueuePerSec: r.enqueuePerSec, processPerSec: r.processPerSec };
}

async function bridge(url: string, round: number): Promise<{ enqueuePerSec: number; processPerSec: number }> {
  let done = 0;
  const noop: Connector = {
    renderer: () => ({ render: (e) => e.data }),
    deliver: async () => {
      done++;
      return delivered();
    },
  };
  const queues = new DeliveryQueues({
    connection: url,
    prefix: `bridgebench${round}`,
    connectors: new Map([['noop', { connector: noop, options: { concurrency: CONCURRENCY } }]]),
    logger: silentLogger(),
    retention: { completedCount: RETENTION.count, completedAgeMs: RETENTION.age * 1000 },
  });
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i += CHUNK) {
    const batch: RoutedDelivery[] = Array.from({ length: Math.min(CHUNK, JOBS - i) }, (_, k) => ({
      event: event(i + k),
      route: 'r',
      connector: 'noop',
      payload: { text: `moment ${i + k}` },
    }));
    await queues.enqueue(batch);
  }
  const enqueueMs = performance.now() - t0;
  const t1 = performance.now();
  await queues.startWorkers();
  await waitFor(() => done >= JOBS, 600_000, `${JOBS} bridge deliveries`);
  const processMs = performance.now() - t1;
  await queues.close();
  return { enqueuePerSec: rate(JOBS, enqueueMs), processPerSec: rate(JOBS, processMs) };
}

const dir = mkdtempSync(join(tmpdir(), 'mb-bench-'));
const redis = new EmbeddedRedis({ dataDir: dir, appendOnly: false });
await redis.start();
const admin = new Redis(redis.url);
try {
  // The machine is shared and noisy: alternate raw and bridge rounds and report each side's median.
  const rawRuns: Run[] = [];
  const bridgeRuns: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rawRuns.push(await withCpu(admin, () => raw(redis.url, round)));
    bridgeRuns.push(await withCpu(admin, () => bridge(redis.url, round)));
  }
  const summarize = (runs: Run[]) => ({
    enqueuePerSec: median(runs.map((r) => r.enqueuePerSec)),
    processPerSec: median(runs.map((r) => r.processPerSec)),
    cpuUsPerJob: { node: median(runs.map((r) => r.cpuUsPerJob.node)), redis: median(runs.map((r) => r.cpuUsPerJob.redis)) },
    runs,
  });
  const rawRes = summarize(rawRuns);
  const bridgeRes = summarize(bridgeRuns);
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'queue',
        jobs: JOBS,
        rounds: ROUNDS,
        concurrency: CONCURRENCY,
        node: process.version,
        raw: rawRes,
        bridge: bridgeRes,
        ratio: { enqueue: ratio(bridgeRes.enqueuePerSec, rawRes.enqueuePerSec), process: ratio(bridgeRes.processPerSec, rawRes.processPerSec) },
        goal: 'bridge >= 0.8 x raw',
      },
      null,
      2,
    )}\n`,
  );
} finally {
  admin.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

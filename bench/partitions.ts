/**
 * bench/partitions: what `partitions: N` costs and gives on ONE Redis, same run, same jobs:
 * enqueue and delivery rates, and CPU per job (this process and redis-server), for N = 1, 4, 16
 * with the same total concurrency (split over the partitions); plus enqueue right after a change
 * of N (a recent other count: the extra look for moved keys, partition-counts.ts), and the
 * partitioning function alone. On one Redis partitions add no capacity (one redis-server thread
 * does all the work): this shows their overhead; the gain is spreading a connector over the
 * masters of a Redis Cluster. Prints one JSON object.
 * Usage: tsx bench/partitions.ts [--jobs 20000] [--concurrency 64] [--rounds 2]
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
import { partitionOf } from '../src/queue/partitions.js';
import type { RoutedDelivery } from '../src/queue/routed-delivery.js';
import { flag, machine, median, printJson, rate, waitFor } from './lib/measure.js';

const JOBS = flag('jobs', 20_000);
const CONCURRENCY = flag('concurrency', 64);
const ROUNDS = flag('rounds', 2);
const CHUNK = 1000;
const COUNTS = [1, 4, 16];

function delivery(i: number): RoutedDelivery {
  const event: BridgeEvent = {
    id: `moments:moment:${i}`,
    source: 'moments',
    kind: 'moment',
    time: new Date().toISOString(),
    data: { publicId: `m-${i}`, athleteId: `a-${i % 500}`, value: 181, note: 'x'.repeat(90) },
  };
  return { event, route: 'r', connector: 'sink', payload: { channel: `#athlete-${i % 500}`, text: `moment ${i}` } };
}

async function redisCpuUs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

interface Run {
  partitions: number;
  enqueuePerSec: number;
  /** Enqueue of a second set of jobs by a process on another count (after the change). */
  enqueueAfterChangePerSec: number;
  processPerSec: number;
  cpuUsPerJob: { node: number; redis: number };
}

async function run(url: string, admin: Redis, partitions: number, round: number): Promise<Run> {
  let done = 0;
  // Keyed like Slack by channel: 500 keys.
  const sink: Connector = {
    renderer: () => ({ render: (e) => e.data }),
    partitionKey: (payload) => (payload as { channel: string }).channel,
    deliver: async () => {
      done++;
      return delivered();
    },
  };
  const prefix = `pbench${partitions}r${round}`;
  const make = (n: number) =>
    new DeliveryQueues({
      connection: url,
      prefix,
      connectors: new Map([['sink', { connector: sink, options: { partitions: n, concurrency: Math.max(1, Math.round(CONCURRENCY / n)) } }]]),
      logger: silentLogger(),
      retention: { completedCount: 1000, completedAgeMs: 3_600_000 },
    });
  const queues = make(partitions);
  const redis0 = await redisCpuUs(admin);
  const node0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i += CHUNK) await queues.enqueue(Array.from({ length: Math.min(CHUNK, JOBS - i) }, (_, k) => delivery(i + k)));
  const enqueueMs = performance.now() - t0;
  const t1 = performance.now();
  await queues.startWorkers();
  await waitFor(() => done >= JOBS, 600_000, `${JOBS} deliveries over ${partitions} partition(s)`);
  const processMs = performance.now() - t1;
  const node = process.cpuUsage(node0);
  const redis = (await redisCpuUs(admin)) - redis0;
  await queues.stopWorkers(0);
  // Another process on a different count enqueues new jobs while this count is recent.
  const other = make(partitions === 1 ? 4 : partitions / 2);
  const t2 = performance.now();
  for (let i = JOBS; i < 2 * JOBS; i += CHUNK) await other.enqueue(Array.from({ length: Math.min(CHUNK, 2 * JOBS - i) }, (_, k) => delivery(i + k)));
  const afterMs = performance.now() - t2;
  await other.close();
  await queues.close();
  const perJob = (us: number) => Math.round((us / JOBS) * 10) / 10;
  return {
    partitions,
    enqueuePerSec: rate(JOBS, enqueueMs),
    enqueueAfterChangePerSec: rate(JOBS, afterMs),
    processPerSec: rate(JOBS, processMs),
    cpuUsPerJob: { node: perJob(node.user + node.system), redis: perJob(redis) },
  };
}

function hashRate(): { partitionOfPerSec: number } {
  const keys = Array.from({ length: 100_000 }, (_, i) => `#athlete-${i}`);
  const t0 = performance.now();
  let sum = 0;
  for (const k of keys) sum += partitionOf(k, 16);
  const ms = performance.now() - t0;
  if (sum < 0) throw new Error('unreachable');
  return { partitionOfPerSec: rate(keys.length, ms) };
}

const dir = mkdtempSync(join(tmpdir(), 'mb-bench-'));
const server = new EmbeddedRedis({ dataDir: dir, appendOnly: false });
await server.start();
const admin = new Redis(server.url);
try {
  const runs: Run[] = [];
  // Alternate the counts within each round: the shared machine drifts.
  for (let round = 0; round < ROUNDS; round++) for (const n of COUNTS) runs.push(await run(server.url, admin, n, round));
  const byCount = Object.fromEntries(
    COUNTS.map((n) => {
      const mine = runs.filter((r) => r.partitions === n);
      return [
        `partitions ${n}`,
        {
          enqueuePerSec: median(mine.map((r) => r.enqueuePerSec)),
          enqueueAfterChangePerSec: median(mine.map((r) => r.enqueueAfterChangePerSec)),
          processPerSec: median(mine.map((r) => r.processPerSec)),
          cpuUsPerJob: { node: median(mine.map((r) => r.cpuUsPerJob.node)), redis: median(mine.map((r) => r.cpuUsPerJob.redis)) },
        },
      ];
    }),
  );
  printJson({ bench: 'partitions', jobs: JOBS, rounds: ROUNDS, totalConcurrency: CONCURRENCY, machine: machine(), ...hashRate(), results: byCount, runs });
} finally {
  admin.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

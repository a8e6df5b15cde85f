/**
 * bench/e2e: sustained deliveries per second end to end — Moments simulator (real AppSync
 * real-time socket) → `moments-bridge run` (a child process: source → router → BullMQ) → a no-op
 * connector, and → the webhook connector posting to a local HTTP receiver — next to raw BullMQ
 * (addBulk + no-op Worker running at the same time, same Redis, same job count and concurrency)
 * in the same run. Each figure is first publish → last delivery. Prints one JSON object.
 *
 * A second baseline, raw BullMQ with the bridge's job options (a 64-hex job id, a 24 h dedup key,
 * the limiter counter), says how much of the gap is the delivery guarantees and how much the
 * bridge's own work. Every path also reports CPU time per delivery of each process (the bench
 * process — raw BullMQ's producer and worker, or the simulator —, the bridge, redis-server): on a
 * 2-core machine the paths are CPU-bound, and this is where the time goes.
 *
 * The machine is shared, so one sample can be off by ±30 %: the paths run `--rounds` times,
 * interleaved (raw, raw+options, no-op, HTTP, raw, …), and each figure is the median over the rounds;
 * a ratio is the median of each round's own ratio (both taken seconds apart, under the same load).
 * Usage: tsx bench/e2e.ts [--events 10000] [--concurrency 100] [--rounds 3]
 */
import { createHash } from 'node:crypto';
import { startMomentsSimulator } from '../simulators/moments/moments-simulator.js';
import { startWebhookReceiver } from '../simulators/sinks/webhook/webhook-receiver.js';
import {
  freePort,
  momentsSourceConfig,
  NOOP_CONNECTOR,
  publishMoments,
  startBenchRedis,
  startBridge,
  useCompiledBridge,
  writeBridgeConfig,
  type BenchRedis,
} from './lib/bridge-rig.js';
import { flag, machine, median, printJson, processCpuMs, rate, round2, waitFor } from './lib/measure.js';
import { rawBullmq, type RawBullmqResult } from './lib/raw-bullmq.js';

const EVENTS = flag('events', 10_000);
const CONCURRENCY = flag('concurrency', 100);
const ROUNDS = flag('rounds', 3);

/** CPU time per delivery (µs) of each process taking part. */
interface CpuPerDelivery {
  benchProcess: number;
  bridge?: number;
  redis: number;
}

interface BridgeRun {
  deliveriesPerSec: number;
  publishPerSec: number;
  delivered: number;
  cpuUsPerDelivery: CpuPerDelivery;
}

interface RawRun extends RawBullmqResult {
  cpuUsPerDelivery: CpuPerDelivery;
}

const perDelivery = (ms: number) => Math.round((ms * 1000) / EVENTS);

/** One daemon, one simulator, one sink; returns first publish → last delivery. */
async function bridgeRun(redis: BenchRedis, sink: 'noop' | 'http', round: number): Promise<BridgeRun> {
  const sim = await startMomentsSimulator();
  const receiver = sink === 'http' ? await startWebhookReceiver() : undefined;
  const port = await freePort();
  const keyPrefix = `e2e${sink}${round}`;
  const connector =
    sink === 'noop'
      ? { type: 'module', path: NOOP_CONNECTOR, options: { type: 'noop' }, concurrency: CONCURRENCY }
      : { type: 'webhook', url: `${receiver!.url}/hook`, allowPrivateNetworks: true, concurrency: CONCURRENCY };
  const { file } = writeBridgeConfig({
    redisUrl: redis.url,
    keyPrefix,
    port,
    sources: { moments: momentsSourceConfig(sim) },
    connectors: { sink: connector },
    routes: [{ name: 'all-moments', match: { kind: 'moment' }, to: ['sink'] }],
  });
  const bridge = await startBridge(file, port);
  try {
    const delivered = async () => (sink === 'noop' ? Number((await redis.client.get(`${keyPrefix}:bench:noop`)) ?? 0) : receiver!.received.length);
    const cpu0 = { bench: process.cpuUsage(), bridge: processCpuMs(bridge.pid), redis: await redis.cpuMs() };
    const t0 = performance.now();
    const pub = await publishMoments(sim, EVENTS, Infinity, (i) => ({ publicId: `e2e-${sink}-${round}-${i}`, athleteId: i % 40 }));
    await waitFor(async () => (await delivered()) >= EVENTS, 300_000, `${EVENTS} deliveries to ${sink}`, 10);
    const ms = performance.now() - t0;
    const bench = process.cpuUsage(cpu0.bench);
    const cpuUsPerDelivery = {
      benchProcess: perDelivery((bench.user + bench.system) / 1000),
      bridge: perDelivery(processCpuMs(bridge.pid) - cpu0.bridge),
      redis: perDelivery((await redis.cpuMs()) - cpu0.redis),
    };
    return { deliveriesPerSec: rate(EVENTS, ms), publishPerSec: rate(EVENTS, pub.elapsedMs), delivered: await delivered(), cpuUsPerDelivery };
  } finally {
    await bridge.kill('SIGTERM');
    await receiver?.stop();
    await sim.stop();
  }
}

/**
 * Raw BullMQ in this process; `withOptions`: the bridge's job options and limiter on every job, as
 * DeliveryQueues sets them (src/queue/delivery-queues.ts, delivery-worker.ts).
 */
async function rawRun(prefix: string, withOptions: boolean): Promise<RawRun> {
  const cpu0 = { bench: process.cpuUsage(), redis: await redis.cpuMs() };
  const result = await rawBullmq(redis.url, {
    jobs: EVENTS,
    concurrency: CONCURRENCY,
    prefix,
    overlap: true,
    data: (i) => ({
      event: {
        id: `moments:moment:e2e-${i}`,
        source: 'moments',
        kind: 'moment',
        time: new Date().toISOString(),
        data: { publicId: `e2e-${i}`, athleteId: `athlete-${i % 40}`, moment: 'athlete heart rate at 181 bpm (> 170)' },
      },
      payload: { id: `moments:moment:e2e-${i}` },
    }),
    ...(withOptions
      ? {
          defaultJobOptions: { attempts: 1000, backoff: { type: 'bridge' }, stackTraceLimit: 1 },
          jobOptions: (i: number) => {
            const id = createHash('sha256').update(`${prefix}:${i}`).digest('hex');
            return { jobId: id, deduplication: { id, ttl: 86_400_000 } };
          },
          limiter: { max: 1_000_000_000, duration: 1000 },
        }
      : {}),
  });
  const bench = process.cpuUsage(cpu0.bench);
  return {
    ...result,
    cpuUsPerDelivery: { benchProcess: perDelivery((bench.user + bench.system) / 1000), redis: perDelivery((await redis.cpuMs()) - cpu0.redis) },
  };
}

/** The median run of a path (by deliveries/s), so its fields stay consistent with each other. */
function medianRun<T>(runs: T[], rateOf: (r: T) => number): T {
  const m = median(runs.map(rateOf));
  return runs.find((r) => rateOf(r) === m)!;
}

useCompiledBridge();
const redis = await startBenchRedis();
try {
  const rounds: { raw: RawRun; rawWithOptions: RawRun; noop: BridgeRun; http: BridgeRun }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const raw = await rawRun(`e2eraw${round}`, false);
    const rawWithOptions = await rawRun(`e2erawopt${round}`, true);
    const noop = await bridgeRun(redis, 'noop', round);
    const http = await bridgeRun(redis, 'http', round);
    rounds.push({ raw, rawWithOptions, noop, http });
    // Each round's data is done with: keep Redis small so later rounds are not slowed by it.
    await redis.client.flushall();
  }
  const raw = medianRun(
    rounds.map((r) => r.raw),
    (r) => r.endToEndPerSec,
  );
  const rawWithOptions = medianRun(
    rounds.map((r) => r.rawWithOptions),
    (r) => r.endToEndPerSec,
  );
  const noopVsRawWithOptions = round2(median(rounds.map((r) => r.noop.deliveriesPerSec / r.rawWithOptions.endToEndPerSec)));
  const noop = medianRun(
    rounds.map((r) => r.noop),
    (r) => r.deliveriesPerSec,
  );
  const http = medianRun(
    rounds.map((r) => r.http),
    (r) => r.deliveriesPerSec,
  );
  const noopVsRaw = round2(median(rounds.map((r) => r.noop.deliveriesPerSec / r.raw.endToEndPerSec)));
  const httpVsRaw = round2(median(rounds.map((r) => r.http.deliveriesPerSec / r.raw.endToEndPerSec)));
  printJson({
    bench: 'e2e',
    events: EVENTS,
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    machine: machine(),
    rawBullmq: raw,
    rawBullmqWithBridgeJobOptions: rawWithOptions,
    bridge: { noop, http },
    ratio: { noopVsRaw, httpVsRaw, noopVsRawWithBridgeJobOptions: noopVsRawWithOptions },
    goal: { noopVsRaw: 0.8, met: noopVsRaw >= 0.8 },
    samples: rounds.map((r) => ({
      rawPerSec: r.raw.endToEndPerSec,
      rawWithOptionsPerSec: r.rawWithOptions.endToEndPerSec,
      noopPerSec: r.noop.deliveriesPerSec,
      httpPerSec: r.http.deliveriesPerSec,
      noopVsRaw: round2(r.noop.deliveriesPerSec / r.raw.endToEndPerSec),
    })),
  });
} finally {
  await redis.stop();
}

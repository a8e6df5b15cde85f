/**
 * bench/scale-out: deliveries per second with 1, 2 and 4 delivery replicas
 * (`moments-bridge run --no-sources`, one process each, default concurrency 10) on one Redis,
 * draining the webhook connector's queue into a local sink that takes 20 ms per request.
 * This process renders and enqueues the deliveries with the real webhook connector and the
 * bridge's DeliveryQueues once every replica is ready; the figure is first enqueue → last receipt.
 * Prints one JSON object.
 * Usage: tsx bench/scale-out.ts [--jobs 3000] [--latency 20] [--replicas 1,2,4]
 */
import { webhookConnector } from '../connectors/webhook/index.js';
import type { BridgeEvent } from '../src/core/event.js';
import { silentLogger } from '../src/core/log.js';
import { DeliveryQueues } from '../src/queue/delivery-queues.js';
import { freePort, startBenchRedis, startBridge, useCompiledBridge, writeBridgeConfig, type BenchRedis, type BridgeProcess } from './lib/bridge-rig.js';
import { flag, machine, printJson, rate, round2, waitFor } from './lib/measure.js';
import { startSlowSink } from './lib/slow-sink.js';

const JOBS = flag('jobs', 3000);
const LATENCY = flag('latency', 20);
const replicasArg = process.argv.indexOf('--replicas');
const REPLICAS = (replicasArg >= 0 ? process.argv[replicasArg + 1]! : '1,2,4').split(',').map(Number);
const CONCURRENCY = 10;

async function round(redis: BenchRedis, replicas: number) {
  const sink = await startSlowSink(LATENCY);
  const keyPrefix = `scale${replicas}`;
  const hook = { type: 'webhook' as const, url: sink.url, allowPrivateNetworks: true, body: { id: '{{ id }}', athlete: '{{ data.athleteId }}' } };
  const ports = await Promise.all(Array.from({ length: replicas }, () => freePort()));
  const bridges: BridgeProcess[] = [];
  const redisClient = redis.client;
  const connector = await webhookConnector.create(webhookConnector.configSchema.parse(hook), {
    name: 'hook',
    redis: redisClient,
    keyPrefix: `${keyPrefix}:`,
    logger: silentLogger(),
    configDir: '.',
  });
  const queues = new DeliveryQueues({
    connection: redis.url,
    prefix: keyPrefix,
    connectors: new Map([['hook', { connector, options: { concurrency: CONCURRENCY } }]]),
    logger: silentLogger(),
  });
  try {
    // Replicas start one after another (tsx start-up is CPU-heavy on two cores).
    for (const port of ports) {
      const { file } = writeBridgeConfig({
        redisUrl: redis.url,
        keyPrefix,
        port,
        connectors: { hook: { ...hook, concurrency: CONCURRENCY } },
        routes: [{ name: 'all', to: ['hook'] }],
      });
      bridges.push(await startBridge(file, port, { noSources: true }));
    }
    const render = connector.renderer();
    const t0 = performance.now();
    for (let i = 0; i < JOBS; i += 500) {
      await queues.enqueue(
        Array.from({ length: Math.min(500, JOBS - i) }, (_, k) => {
          const event: BridgeEvent = {
            id: `moments:moment:scale-${i + k}`,
            source: 'moments',
            kind: 'moment',
            time: new Date().toISOString(),
            data: { athleteId: `athlete-${(i + k) % 40}` },
          };
          return { event, route: 'all', connector: 'hook', payload: render.render(event) };
        }),
      );
    }
    await waitFor(() => sink.distinct() >= JOBS, 300_000, `${JOBS} deliveries with ${replicas} replica(s)`, 10);
    const ms = performance.now() - t0;
    return {
      replicas,
      concurrencyPerReplica: CONCURRENCY,
      deliveriesPerSec: rate(JOBS, ms),
      ceilingPerSec: Math.round((replicas * CONCURRENCY * 1000) / LATENCY),
      requests: sink.requests(),
      distinct: sink.distinct(),
    };
  } finally {
    await Promise.all(bridges.map((b) => b.kill('SIGTERM')));
    await queues.close();
    await sink.stop();
  }
}

useCompiledBridge();
const redis = await startBenchRedis();
try {
  const results = [];
  for (const r of REPLICAS) results.push(await round(redis, r));
  const one = results[0]!.deliveriesPerSec;
  printJson({
    bench: 'scale-out',
    jobs: JOBS,
    sinkLatencyMs: LATENCY,
    machine: machine(),
    results: results.map((r) => ({ ...r, speedup: round2(r.deliveriesPerSec / one) })),
    note: 'ceilingPerSec = replicas × concurrency / sink latency: what the sink latency allows; two cores also run Redis, the sink and this producer',
  });
} finally {
  await redis.stop();
}

/**
 * bench/cluster: deliveries per second on ONE Redis and on a local 3-master Redis Cluster
 * (3 masters + 3 replicas, Debian redis-server, no persistence on either side), with 1, 2 and 4
 * delivery replicas (`moments-bridge run --no-sources`, compiled), in one run. The connector is the
 * no-op module connector, so the figure is what Redis and the daemons sustain, not a sink's latency.
 * One Redis runs the connector as today (`partitions: 1`); the cluster spreads it with
 * `partitions: 12` so its queues sit on every master. Every replica gets the same total concurrency
 * (48: one queue × 48, or 12 partitions × 4). This process enqueues `--jobs` deliveries into the
 * paused queues (enqueue/s), starts the replicas, resumes the queues: deliveries/s is resume → last
 * delivery counted.
 *
 * Per master it prints commands/s (INFO `total_commands_processed` delta), Redis CPU (used_cpu_*)
 * and keys, the bytes of the delivery claims per delivery, so how evenly a cluster spreads the work shows, and the Redis CPU per delivery behind
 * the capacity model: Redis saturates when its busiest master's core does, at 1 CPU-second ÷ (that
 * master's Redis CPU per delivery) deliveries/s; with an even spread that is (one master's rate) × masters. On a 2-core machine all 6 redis-servers, the daemons and this producer share
 * two cores: the cluster cannot add CPU here, only show the spread and the cost per delivery.
 * Prints one JSON object.
 * Usage: tsx bench/cluster.ts [--jobs 20000] [--replicas 1,2,4] [--partitions 6]
 */
import { Redis } from 'ioredis';
import type { Connector } from '../connectors/connector.js';
import type { BridgeEvent } from '../src/core/event.js';
import { silentLogger } from '../src/core/log.js';
import { DeliveryQueues } from '../src/queue/delivery-queues.js';
import { createRedisClient } from '../src/redis/create-redis-client.js';
import type { RedisClient } from '../src/redis/redis-client.js';
import type { RedisEndpoint } from '../src/redis/redis-endpoint.js';
import { startTestRedisCluster } from '../test/helpers/redis-cluster.js';
import { freePort, NOOP_CONNECTOR, startBenchRedis, startBridge, useCompiledBridge, writeBridgeConfig, type BridgeProcess } from './lib/bridge-rig.js';
import { flag, machine, printJson, rate, round2, waitFor } from './lib/measure.js';

const JOBS = flag('jobs', 20_000);
const PARTITIONS = flag('partitions', 12);
const replicasArg = process.argv.indexOf('--replicas');
const REPLICAS = (replicasArg >= 0 ? process.argv[replicasArg + 1]! : '1,2,4').split(',').map(Number);
const TOTAL_CONCURRENCY = 48;
const CHUNK = 1000;

interface Backend {
  name: 'one-redis' | 'cluster-3-masters';
  endpoint: RedisEndpoint;
  /** `redis` section of the daemons' config. */
  redisConfig: { redisUrl?: string; redis?: Record<string, unknown> };
  partitions: number;
  /** Ports of the servers that take writes (one, or the masters). */
  masters: () => Promise<number[]>;
}

interface NodeStats {
  commands: number;
  cpuMs: number;
  keys: number;
}

async function nodeStats(port: number): Promise<NodeStats> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const info = await r.info();
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return { commands: field('total_commands_processed'), cpuMs: (field('used_cpu_user') + field('used_cpu_sys')) * 1000, keys: await r.dbsize() };
  } finally {
    r.disconnect();
  }
}

/** Bytes of the delivery claims (`<queue>:claims*` keys, MEMORY USAGE) under `keyPrefix` on one server. */
async function claimBytes(port: number, keyPrefix: string): Promise<number> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let bytes = 0;
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${keyPrefix}:*:claims*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) bytes += Number((await r.call('MEMORY', 'USAGE', k, 'SAMPLES', '0')) ?? 0);
    } while (cursor !== '0');
    return bytes;
  } finally {
    r.disconnect();
  }
}

async function round(backend: Backend, replicas: number) {
  const keyPrefix = `cl${replicas}`;
  const concurrency = Math.max(1, Math.round(TOTAL_CONCURRENCY / backend.partitions));
  const noop = { type: 'module', path: NOOP_CONNECTOR, options: { type: 'noop' }, concurrency, partitions: backend.partitions };
  // The producer's side of the same connector: the payload the no-op renderer makes ({ id }).
  const producerSide: Connector = { renderer: () => ({ render: (e) => ({ id: e.id }) }), deliver: async () => ({ status: 'delivered' }) };
  const queues = new DeliveryQueues({
    connection: backend.endpoint,
    prefix: keyPrefix,
    cluster: backend.endpoint.kind === 'cluster',
    connectors: new Map([['noop', { connector: producerSide, options: { concurrency, partitions: backend.partitions } }]]),
    logger: silentLogger(),
  });
  const counter: RedisClient = createRedisClient(backend.endpoint);
  const bridges: BridgeProcess[] = [];
  try {
    // Enqueue first, into paused queues (its own figure), then start the replicas and resume: the
    // delivery figure is the replicas draining a full queue, not the producer's pace.
    const parts = queues.partitionQueues('noop').map(([, q]) => q);
    await Promise.all(parts.map((q) => q.pause()));
    const t0 = performance.now();
    for (let i = 0; i < JOBS; i += CHUNK) {
      await queues.enqueue(
        Array.from({ length: Math.min(CHUNK, JOBS - i) }, (_, k) => {
          const event: BridgeEvent = {
            id: `moments:moment:cl-${i + k}`,
            source: 'moments',
            kind: 'moment',
            time: new Date().toISOString(),
            data: { n: i + k },
          };
          return { event, route: 'all', connector: 'noop', payload: { id: event.id } };
        }),
      );
    }
    const enqueuedMs = performance.now() - t0;
    for (let i = 0; i < replicas; i++) {
      const port = await freePort();
      const { file } = writeBridgeConfig({
        ...backend.redisConfig,
        keyPrefix,
        port,
        connectors: { noop },
        routes: [{ name: 'all', to: ['noop'] }],
      });
      bridges.push(await startBridge(file, port, { noSources: true, timeoutMs: 60_000 }));
    }
    const masters = await backend.masters();
    const before = await Promise.all(masters.map(nodeStats));
    const t1 = performance.now();
    await Promise.all(parts.map((q) => q.resume()));
    const counted = async () => Number((await counter.get(`${keyPrefix}:bench:noop`)) ?? 0);
    await waitFor(async () => (await counted()) >= JOBS, 600_000, `${JOBS} deliveries with ${replicas} replica(s) on ${backend.name}`, 20);
    const ms = performance.now() - t1;
    const after = await Promise.all(masters.map(nodeStats));
    const perMaster = masters.map((port, i) => ({
      port,
      commandsPerSec: rate(after[i]!.commands - before[i]!.commands, ms),
      redisCpuMs: Math.round(after[i]!.cpuMs - before[i]!.cpuMs),
      keys: after[i]!.keys,
    }));
    const cmds = perMaster.map((m) => m.commandsPerSec);
    const claims = await Promise.all(masters.map((port) => claimBytes(port, keyPrefix)));
    const redisCpuMs = perMaster.reduce((s, m) => s + m.redisCpuMs, 0);
    return {
      backend: backend.name,
      replicas,
      partitions: backend.partitions,
      concurrencyPerReplica: concurrency * backend.partitions,
      enqueuePerSec: rate(JOBS, enqueuedMs),
      deliveriesPerSec: rate(JOBS, ms),
      delivered: await counted(),
      redisCpuUsPerDelivery: Math.round((redisCpuMs * 1000) / JOBS),
      /** Redis bytes of the dedup claims per delivery (all masters; a replica holds a copy of its master's). */
      claimBytesPerDelivery: Math.round((claims.reduce((a, b) => a + b, 0) / JOBS) * 10) / 10,
      perMaster,
      /** Busiest master's commands/s over the quietest's (1.00 = perfectly even). */
      commandSpread: round2(Math.max(...cmds) / Math.max(1, Math.min(...cmds))),
    };
  } finally {
    await Promise.all(bridges.map((b) => b.kill('SIGTERM')));
    await queues.close();
    counter.disconnect();
  }
}

useCompiledBridge();
const single = await startBenchRedis();
const cluster = await startTestRedisCluster({ masters: 3 });
try {
  const singlePort = Number(new URL(single.url).port);
  const backends: Backend[] = [
    {
      name: 'one-redis',
      endpoint: { kind: 'single', url: single.url },
      redisConfig: { redisUrl: single.url },
      partitions: 1,
      masters: async () => [singlePort],
    },
    {
      name: 'cluster-3-masters',
      endpoint: { kind: 'cluster', seeds: cluster.urls },
      redisConfig: { redis: { cluster: cluster.urls } },
      partitions: PARTITIONS,
      masters: () => cluster.masters(),
    },
  ];
  const results: Awaited<ReturnType<typeof round>>[] = [];
  // Alternate the backends per replica count so a drift of the machine hits both alike.
  for (const r of REPLICAS) for (const b of backends) results.push(await round(b, r));
  /** Deliveries/s at which the busiest master's one core is saturated (Redis-bound capacity of this layout). */
  const redisBoundPerSec = (r: (typeof results)[number]) => Math.round((1e6 * JOBS) / (Math.max(...r.perMaster.map((m) => m.redisCpuMs)) * 1000));
  /** The same if the work were spread evenly over the masters. */
  const evenSpreadPerSec = (r: (typeof results)[number]) => Math.round((1e6 * r.perMaster.length) / r.redisCpuUsPerDelivery);
  printJson({
    bench: 'cluster',
    jobs: JOBS,
    machine: machine(),
    results: results.map((r) => ({ ...r, redisBoundPerSec: redisBoundPerSec(r), evenSpreadPerSec: evenSpreadPerSec(r) })),
    note:
      'all redis-servers (1 + 6), the daemons and this producer share the machine: the cluster cannot add CPU on 2 cores. ' +
      'redisBoundPerSec: deliveries/s at which the busiest master saturates its core (its Redis CPU per delivery); evenSpreadPerSec: the same with the work spread evenly (masters × 1e6 / Redis CPU µs per delivery). Capacity is the lower of that and what the daemons sustain (their CPU per delivery × cores) or the sink allows',
  });
} finally {
  await cluster.stop();
  await single.stop();
}

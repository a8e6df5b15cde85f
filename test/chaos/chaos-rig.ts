/**
 * What every chaos scenario starts with: a real redis-server (AOF on unless a scenario turns
 * persistence off), the Moments simulator as the upstream, the counting sink, and
 * `moments-bridge run` daemons in child processes (real processes that can be SIGKILLed). Events
 * are moments with unique publicIds, so a sink can count each one; `ids` are the event ids published.
 *
 * By default every moment goes to the webhook connector `hook` and the counting sink; a scenario
 * can deliver to other connectors instead (`delivery`), counting at their own sinks.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisClient } from '../../src/redis/redis-client.js';
import { startTestRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { freePort, momentsSourceConfig, publishMoments, startBridge, writeBridgeConfig, type BridgeProcess } from '../../bench/lib/bridge-rig.js';
import { waitFor } from '../../bench/lib/measure.js';
import { queueName } from '../../src/queue/queue-names.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../simulators/moments/moments-simulator.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startChaosSink, tallyReceipts, type ChaosSink, type Tally } from './chaos-sink.js';

/** Where moments are delivered, and how the sinks behind it count what they received. */
export interface DeliveryTargets {
  connectors: Record<string, unknown>;
  routes: unknown[];
  /** Receipts per key at the sinks (a key per delivered message, row or record). */
  receipts(): ReadonlyMap<string, number>;
  /** The receipt keys one event id must produce (one per target). @defaultValue `[id]` */
  expand?(id: string): string[];
}

export interface ChaosRigOptions {
  /** Answer time of the counting sink. @defaultValue 5 */
  sinkDelayMs?: number;
  /** Concurrency of the default webhook connector. @defaultValue 20 */
  concurrency?: number;
  /** `none`: Redis keeps nothing across a crash (no AOF, no RDB). @defaultValue aof */
  persistence?: 'aof' | 'none';
  /** Connectors, routes and receipts instead of the webhook connector and the counting sink. */
  delivery?: (sink: ChaosSink) => DeliveryTargets;
  /** The daemons' `leadership` section. @defaultValue the config defaults (one leader per source) */
  leadership?: Record<string, unknown>;
  /**
   * `cluster`: the daemons run on a local Redis Cluster (3 masters, 3 replicas, no persistence)
   * configured as `redis.cluster: [seeds]`; `rig.cluster` is set and `rig.redis` is not there.
   * @defaultValue redis
   */
  backend?: 'redis' | 'cluster';
}

export interface ChaosRig {
  /** The one redis-server (backend `redis`); throws under backend `cluster`. */
  redis: TestRedis;
  /** The Redis Cluster (backend `cluster`). */
  cluster: TestRedisCluster | undefined;
  /** A connector's BullMQ queue, on the rig's own connection (closed by stop()). */
  queue(connector: string): Queue;
  sim: MomentsSimulator;
  sink: ChaosSink;
  /** Event ids published so far. */
  ids: string[];
  /** Starts one more daemon (same config; `noSources` for a delivery-only replica). */
  startDaemon(options?: { noSources?: boolean }): Promise<BridgeProcess>;
  /** Rewrites every daemon's config with new targets, sends SIGHUP, waits until each applied it. */
  reload(delivery: DeliveryTargets): Promise<void>;
  /** Publishes `count` moments at `perSecond`. */
  publish(count: number, perSecond: number): Promise<void>;
  /** Jobs in the connectors' queues by state (summed over connectors). */
  depth(): Promise<Record<string, number>>;
  /** Delivered / lost / duplicated so far, over the receipt keys of every published id. */
  tally(): Tally;
  /** Waits until every published event reached its sinks (or the timeout), then the queues are empty. */
  settle(timeoutMs: number): Promise<Tally>;
  stop(): Promise<void>;
}

const PREFIX = 'mb';
/** How long settle() waits with no delivery and empty queues before it concludes the rest is lost. */
const QUIET_MS = 8000;
const STATES = ['wait', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;

/** The default delivery: the webhook connector `hook` (or `name`) posting `{ id }` to the counting sink. */
export function webhookTargets(sink: ChaosSink, concurrency: number, name = 'hook'): DeliveryTargets {
  return {
    connectors: {
      [name]: {
        type: 'webhook',
        url: sink.url,
        allowPrivateNetworks: true,
        body: { id: '{{ id }}' },
        concurrency,
        // Short backoff so outages heal within the test; enough attempts for a 60 s outage.
        retry: { backoff: '100ms', maxBackoff: '1s', maxAttempts: 200 },
        timeout: '5s',
      },
    },
    routes: [{ name: 'all-moments', match: { kind: 'moment' }, to: [name] }],
    receipts: () => sink.receipts,
  };
}

export async function startChaosRig(name: string, options: ChaosRigOptions = {}): Promise<ChaosRig> {
  const onCluster = options.backend === 'cluster';
  const cluster = onCluster ? await startTestRedisCluster() : undefined;
  const single = onCluster ? undefined : await startTestRedis({ appendOnly: options.persistence !== 'none' });
  // Short keep-alive and connection timeout, so a dead socket is noticed in seconds.
  const sim = await startMomentsSimulator({ keepAliveIntervalMs: 500, connectionTimeoutMs: 3000 });
  const sink = await startChaosSink({ delayMs: options.sinkDelayMs ?? 5 });
  let targets = options.delivery?.(sink) ?? webhookTargets(sink, options.concurrency ?? 20);
  const daemons: { process: BridgeProcess; file: string }[] = [];
  const ids: string[] = [];
  const admin: RedisClient = cluster ? cluster.client() : new Redis(single!.url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  const queues = new Map<string, Queue>();
  const queueOf = (connector: string): Queue => {
    let q = queues.get(connector);
    if (!q) {
      q = new Queue(queueName(connector, { cluster: onCluster }), { connection: admin, prefix: PREFIX });
      q.on('error', () => undefined);
      queues.set(connector, q);
    }
    return q;
  };
  const configFile = (port: number, into?: string) =>
    writeBridgeConfig(
      {
        ...(single ? { redisUrl: single.url } : { redis: { cluster: cluster!.urls } }),
        keyPrefix: PREFIX,
        port,
        sources: { moments: momentsSourceConfig(sim) },
        connectors: targets.connectors,
        routes: targets.routes,
        ...(options.leadership ? { leadership: options.leadership } : {}),
      },
      into,
    );
  const expected = () => (targets.expand ? ids.flatMap((id) => targets.expand!(id)) : ids);
  let seq = 0;

  const rig: ChaosRig = {
    get redis(): TestRedis {
      if (!single) throw new Error('this chaos rig runs on a Redis Cluster: use rig.cluster');
      return single;
    },
    cluster,
    queue: queueOf,
    sim,
    sink,
    ids,
    async startDaemon(opts = {}) {
      const port = await freePort();
      const { file } = configFile(port);
      const d = await startBridge(file, port, { noSources: opts.noSources ?? false, timeoutMs: 60_000 });
      daemons.push({ process: d, file });
      return d;
    },
    async reload(delivery) {
      targets = delivery;
      await Promise.all(
        daemons.map(async ({ process: d, file }) => {
          const applied = await metricSum(d.port, 'mb_config_reloads_total', 'result="applied"');
          configFile(d.port, file);
          d.cli.child.kill('SIGHUP');
          await waitFor(async () => (await metricSum(d.port, 'mb_config_reloads_total', 'result="applied"')) > applied, 30_000, 'the reload to be applied', 50);
        }),
      );
    },
    async publish(count, perSecond) {
      await publishMoments(sim, count, perSecond, () => {
        const publicId = `${name}-${seq++}`;
        ids.push(`moments:moment:${publicId}`);
        return { publicId, athleteId: seq % 40 };
      });
    },
    async depth() {
      const total: Record<string, number> = Object.fromEntries(STATES.map((s) => [s, 0]));
      for (const connector of Object.keys(targets.connectors)) {
        const counts = await queueOf(connector).getJobCounts(...STATES);
        for (const s of STATES) total[s]! += counts[s] ?? 0;
      }
      return total;
    },
    tally: () => tallyReceipts(targets.receipts(), expected()),
    async settle(timeoutMs) {
      const pending = async () => {
        const d = await rig.depth();
        return d.wait! + d.active! + d.delayed! + d.prioritized!;
      };
      // Done when everything arrived, or when nothing moved for QUIET_MS with empty queues: a
      // scenario that loses events then fails in seconds instead of waiting out its timeout.
      let last = { delivered: -1, at: Date.now() };
      await waitFor(
        async () => {
          const t = rig.tally();
          if (t.lost === 0) return true;
          if (t.delivered + t.duplicated !== last.delivered) last = { delivered: t.delivered + t.duplicated, at: Date.now() };
          return Date.now() - last.at > QUIET_MS && (await pending()) === 0;
        },
        timeoutMs,
        `all ${ids.length} events at the sinks`,
        100,
      ).catch(() => undefined);
      await waitFor(async () => (await pending()) === 0, 10_000, 'empty queues', 100).catch(() => undefined);
      return rig.tally();
    },
    async stop() {
      await Promise.all(daemons.map(({ process: d }) => d.kill('SIGTERM')));
      await Promise.all([...queues.values()].map((q) => q.close()));
      admin.disconnect();
      await sink.stop();
      await sim.stop();
      await single?.stop();
      await cluster?.stop();
    },
  };
  return rig;
}

/** Sum of a Prometheus counter or gauge on a daemon's /metrics, over the series whose labels contain `labels`. */
export async function metricSum(port: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? ([\\d.e+-]+)$`, 'gm'))) {
    if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
  }
  return sum;
}

/** One line of JSON per scenario, collected by docs/reliability.md. */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ chaos: scenario, ...figures }));
}

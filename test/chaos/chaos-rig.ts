/**
 * What every chaos scenario starts with: a real redis-server (AOF on), the Moments simulator as
 * the upstream, the counting sink, and `moments-bridge run` daemons in child processes (real
 * processes that can be SIGKILLed). Events are moments with unique publicIds, so the sink can
 * count each one; `ids` are the event ids the sink must see.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { freePort, momentsSourceConfig, publishMoments, startBridge, writeBridgeConfig, type BridgeProcess } from '../../bench/lib/bridge-rig.js';
import { waitFor } from '../../bench/lib/measure.js';
import { queueName } from '../../src/queue/queue-names.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../src/simulators/moments/moments-simulator.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startChaosSink, type ChaosSink, type Tally } from './chaos-sink.js';

export interface ChaosRig {
  redis: TestRedis;
  sim: MomentsSimulator;
  sink: ChaosSink;
  /** Event ids published so far. */
  ids: string[];
  /** Starts one more daemon (same config; `noSources` for a delivery-only replica). */
  startDaemon(options?: { noSources?: boolean }): Promise<BridgeProcess>;
  /** Publishes `count` moments at `perSecond`. */
  publish(count: number, perSecond: number): Promise<void>;
  /** Jobs in the sink's queue by state. */
  depth(): Promise<Record<string, number>>;
  /** Waits until every published event reached the sink (or the timeout), then the queue is empty. */
  settle(timeoutMs: number): Promise<Tally>;
  stop(): Promise<void>;
}

const PREFIX = 'mb';

export async function startChaosRig(name: string, options: { sinkDelayMs?: number; concurrency?: number } = {}): Promise<ChaosRig> {
  const redis = await startTestRedis({ appendOnly: true });
  // Short keep-alive and connection timeout, so a dead socket is noticed in seconds.
  const sim = await startMomentsSimulator({ keepAliveIntervalMs: 500, connectionTimeoutMs: 3000 });
  const sink = await startChaosSink({ delayMs: options.sinkDelayMs ?? 5 });
  const daemons: BridgeProcess[] = [];
  const ids: string[] = [];
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  const queue = new Queue(queueName('hook'), { connection: admin, prefix: PREFIX });
  queue.on('error', () => undefined);
  let seq = 0;

  const rig: ChaosRig = {
    redis,
    sim,
    sink,
    ids,
    async startDaemon(opts = {}) {
      const port = await freePort();
      const { file } = writeBridgeConfig({
        redisUrl: redis.url,
        keyPrefix: PREFIX,
        port,
        sources: { moments: momentsSourceConfig(sim) },
        connectors: {
          hook: {
            type: 'webhook',
            url: sink.url,
            allowPrivateNetworks: true,
            body: { id: '{{ id }}' },
            concurrency: options.concurrency ?? 20,
            // Short backoff so outages heal within the test; enough attempts for a 60 s outage.
            retry: { backoff: '100ms', maxBackoff: '1s', maxAttempts: 200 },
            timeout: '5s',
          },
        },
        routes: [{ name: 'all-moments', match: { kind: 'moment' }, to: ['hook'] }],
      });
      const d = await startBridge(file, port, { noSources: opts.noSources ?? false, timeoutMs: 60_000 });
      daemons.push(d);
      return d;
    },
    async publish(count, perSecond) {
      await publishMoments(sim, count, perSecond, () => {
        const publicId = `${name}-${seq++}`;
        ids.push(`moments:moment:${publicId}`);
        return { publicId, athleteId: seq % 40 };
      });
    },
    async depth() {
      return queue.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed', 'prioritized');
    },
    async settle(timeoutMs) {
      await waitFor(() => sink.tally(ids).lost === 0, timeoutMs, `all ${ids.length} events at the sink`, 100).catch(() => undefined);
      await waitFor(async () => {
        const d = await rig.depth();
        return d.wait! + d.active! + d.delayed! + d.prioritized! === 0;
      }, 10_000, 'an empty queue', 100).catch(() => undefined);
      return sink.tally(ids);
    },
    async stop() {
      await Promise.all(daemons.map((d) => d.kill('SIGTERM')));
      await queue.close();
      admin.disconnect();
      await sink.stop();
      await sim.stop();
      await redis.stop();
    },
  };
  return rig;
}

/** One line of JSON per scenario, collected by docs/reliability.md. */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ chaos: scenario, ...figures }));
}

/**
 * The Observer side of the chaos suite: a real redis-server (AOF on), the Observer simulator as
 * the upstream (restartable on the same port with its rows kept), the counting sink, and
 * `moments-bridge run` in a child process following every ongoing call's call snapshots and one
 * database frame — through the built-in client or the stand-in `@huddle01/observer-client-sdk`.
 * The webhook posts `{ "id": "row:<seq>" }`: the simulator numbers every row it produces, so the
 * sink counts each produced row exactly.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startBridge, writeBridgeConfig, type BridgeProcess } from '../../bench/lib/bridge-rig.js';
import { waitFor } from '../../bench/lib/measure.js';
import { ObserverSimulator } from '../../simulators/observer/index.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startChaosSink, type ChaosSink, type Tally } from './chaos-sink.js';

const SDK_DIR = fileURLToPath(new URL('../fixtures/observer-sdk/', import.meta.url));
const TOKEN = 'tok-observer-chaos';
export const DATABASE_RESOURCE = 'incidents';

export type ObserverClientKind = 'built-in' | 'sdk';

export interface ObserverChaosRig {
  redis: TestRedis;
  /** The simulator serving now (a new object after `restartObserver`). */
  sim(): ObserverSimulator;
  sink: ChaosSink;
  /** Sink ids (`row:<seq>`) of every row produced for a followed frame. */
  ids: string[];
  startDaemon(): Promise<BridgeProcess>;
  /** One load tick: a snapshot round of every ongoing call plus one database row. */
  produce(): void;
  /** Stops the service, keeps producing into its store for `downMs`, starts it again on the same port. */
  restartObserver(downMs: number, produceEveryMs: number): Promise<void>;
  /** Sum of a counter in the daemon's /metrics. */
  metric(daemon: BridgeProcess, name: string): Promise<number>;
  settle(timeoutMs: number): Promise<Tally>;
  stop(): Promise<void>;
}

export async function startObserverChaosRig(client: ObserverClientKind): Promise<ObserverChaosRig> {
  const redis = await startTestRedis({ appendOnly: true });
  let sim = new ObserverSimulator({ accessToken: TOKEN });
  await sim.start();
  const port = Number(new URL(sim.url).port);
  const sink = await startChaosSink({ delayMs: 5 });
  const daemons: BridgeProcess[] = [];
  const dirs: string[] = [];
  const ids: string[] = [];
  const record = (row: Record<string, unknown>) => ids.push(`row:${String(row.seq)}`);

  const rig: ObserverChaosRig = {
    redis,
    sim: () => sim,
    sink,
    ids,
    async startDaemon() {
      const httpPort = await freePort();
      const { file, dir } = writeBridgeConfig({
        redisUrl: redis.url,
        port: httpPort,
        sources: {
          calls: {
            type: 'observer',
            url: sim.url,
            accessToken: TOKEN,
            ...(client === 'sdk' ? { sdk: '@huddle01/observer-client-sdk' } : {}),
            requestTimeout: '2s',
            pingInterval: '1s',
            reconnect: { initialDelay: '50ms', maxDelay: '500ms' },
            frames: [{ ongoingCalls: { pollEvery: '250ms', frames: ['callSnapshots'] } }, { database: { resource: DATABASE_RESOURCE } }],
          },
        },
        connectors: {
          hook: {
            type: 'webhook',
            url: sink.url,
            allowPrivateNetworks: true,
            body: { id: 'row:{{ data.seq }}' },
            concurrency: 20,
            retry: { backoff: '100ms', maxBackoff: '1s', maxAttempts: 200 },
            timeout: '5s',
          },
        },
        routes: [{ name: 'observer-rows', match: { kind: 'observer.row' }, to: ['hook'] }],
      });
      dirs.push(dir);
      let configFile = file;
      if (client === 'sdk') {
        // `sdk:` resolves from the config file's directory: put it next to the stand-in package.
        const sdkDir = mkdtempSync(join(SDK_DIR, '.tmp-chaos-'));
        dirs.push(sdkDir);
        configFile = join(sdkDir, 'bridge.yaml');
        writeFileSync(configFile, readFileSync(file));
      }
      const d = await startBridge(configFile, httpPort, { timeoutMs: 60_000 });
      daemons.push(d);
      return d;
    },
    produce() {
      for (const row of sim.snapshot()) if (row.clientId === undefined) record(row); // client rows are not followed
      record(sim.pushRow({ kind: 'database', resource: DATABASE_RESOURCE, row: { severity: 'info' } }));
    },
    async restartObserver(downMs, produceEveryMs) {
      const store = sim.store;
      await sim.stop();
      // The new service object exists (and takes rows into the same store) before it listens.
      sim = new ObserverSimulator({ port, accessToken: TOKEN, store });
      const until = Date.now() + downMs;
      while (Date.now() < until) {
        rig.produce();
        await new Promise((r) => setTimeout(r, produceEveryMs));
      }
      await sim.start();
    },
    async metric(daemon, name) {
      const text = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
      return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    },
    async settle(timeoutMs) {
      await waitFor(() => sink.tally(ids).lost === 0, timeoutMs, `all ${ids.length} rows at the sink`, 100).catch(() => undefined);
      // Anything extra (a duplicate) would show up now.
      await new Promise((r) => setTimeout(r, 500));
      return sink.tally(ids);
    },
    async stop() {
      await Promise.all(daemons.map((d) => d.kill('SIGTERM')));
      await sink.stop();
      await sim.stop();
      await redis.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
  return rig;
}

/**
 * The parts every end-to-end bench (and the chaos suite) assembles: a Redis on a free port, a
 * bridge config file, the Moments simulator as the source, and `moments-bridge run` in a child
 * process (a real daemon, with its own event loop and core), plus memory probes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { EmbeddedRedis, freePort } from '../../src/redis/embedded-redis.js';
import { simulatorSourceConfig, type MomentsSimulator } from '../../simulators/moments/moments-simulator.js';
import type { SimMoment } from '../../simulators/moments/moments-store.js';
import { startCli, type RunningCli } from '../../test/helpers/cli.js';
import { sleep, waitFor } from './measure.js';

export const NOOP_CONNECTOR = fileURLToPath(new URL('./noop-connector.js', import.meta.url));

export interface BenchRedis {
  url: string;
  server: EmbeddedRedis;
  client: Redis;
  usedMemory(): Promise<number>;
  /** CPU time redis-server has used so far (user + system, ms). */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchRedis(options: { appendOnly?: boolean } = {}): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'mb-bench-redis-'));
  const server = new EmbeddedRedis({ dataDir: dir, appendOnly: options.appendOnly ?? false });
  await server.start();
  const client = new Redis(server.url, { maxRetriesPerRequest: null });
  return {
    url: server.url,
    server,
    client,
    async usedMemory() {
      const info = await client.info('memory');
      return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
    },
    async cpuMs() {
      const info = await client.info('cpu');
      return (Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1])) * 1000;
    },
    async stop() {
      client.disconnect();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `sources.moments` block pointing at a simulator. */
export function momentsSourceConfig(sim: MomentsSimulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return simulatorSourceConfig(sim, { reconnect: { initialDelay: '50ms', maxDelay: '500ms' }, pageSize: 1000, ...extra });
}

export interface BridgeConfigInput {
  /** One Redis; leave it out when `redis.cluster` lists seed nodes. */
  redisUrl?: string;
  keyPrefix?: string;
  /** More `redis` settings (e.g. `dedupTtl`). */
  redis?: Record<string, unknown>;
  sources?: Record<string, unknown>;
  connectors: Record<string, unknown>;
  routes: unknown[];
  /** Ops server port (readiness is polled there). */
  port: number;
  logLevel?: string;
  grace?: string;
  /** The `leadership` section (who reads each source among replicas); absent: the defaults. */
  leadership?: Record<string, unknown>;
}

/** Writes a config file into a fresh temp dir (or over `into`, e.g. before a SIGHUP); returns its path. */
export function writeBridgeConfig(input: BridgeConfigInput, into?: string): { file: string; dir: string } {
  const dir = into ? dirname(into) : mkdtempSync(join(tmpdir(), 'mb-bench-cfg-'));
  const file = into ?? join(dir, 'bridge.yaml');
  const config = {
    redis: { ...(input.redisUrl !== undefined ? { url: input.redisUrl } : {}), keyPrefix: input.keyPrefix ?? 'mb', ...input.redis },
    sources: input.sources ?? {},
    connectors: input.connectors,
    routes: input.routes,
    server: { enabled: true, host: '127.0.0.1', port: input.port },
    log: { level: input.logLevel ?? 'warn', format: 'json' },
    shutdown: { grace: input.grace ?? '5s' },
    ...(input.leadership ? { leadership: input.leadership } : {}),
  };
  writeFileSync(file, stringify(config));
  return { file, dir };
}

export interface BridgeProcess {
  cli: RunningCli;
  pid: number;
  port: number;
  /** Resident set size of the daemon process, bytes (Linux /proc). */
  rss(): number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let compiledBridge = false;

/**
 * Benches measure the bridge as users run it: `bin/moments-bridge.js` on the compiled dist/ (the
 * tests run the TypeScript source through tsx, whose loader and keep-names helpers cost CPU per
 * call). Builds dist/ first when a source file is newer than it.
 */
export function useCompiledBridge(): void {
  const built = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0,
      ),
    );
  if (!existsSync(built) || Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'connectors'))) > statSync(built).mtimeMs) {
    console.error('bench: dist/ is older than the source: building it (npm run build)');
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('bench: npm run build failed');
  }
  compiledBridge = true;
}

/** `--node-options "…"` on a bench's command line: NODE_OPTIONS for every bridge it starts (profilers, GC traces). */
const nodeOptionsAt = process.argv.indexOf('--node-options');
const BRIDGE_NODE_OPTIONS = nodeOptionsAt >= 0 ? process.argv[nodeOptionsAt + 1] : undefined;

/** Starts `moments-bridge run -c file` and waits for /readyz (sources connected, workers up). */
export async function startBridge(
  file: string,
  port: number,
  options: { noSources?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<BridgeProcess> {
  const env = BRIDGE_NODE_OPTIONS ? { ...options.env, NODE_OPTIONS: BRIDGE_NODE_OPTIONS } : options.env;
  const cli = startCli(['run', '-c', file, ...(options.noSources ? ['--no-sources'] : [])], { ...(env ? { env } : {}), compiled: compiledBridge });
  const pid = cli.child.pid!;
  let exited = false;
  void cli.exited.then(() => (exited = true));
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`the bridge exited before it was ready:\n${cli.output().slice(-3000)}`);
        try {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`);
          return res.status === 200;
        } catch {
          return false;
        }
      },
      options.timeoutMs ?? 30_000,
      'the bridge to be ready',
      100,
    );
  } catch (err) {
    cli.child.kill('SIGKILL');
    throw err;
  }
  return {
    cli,
    pid,
    port,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) * 1024,
    async kill(signal = 'SIGTERM') {
      if (exited) return;
      cli.child.kill(signal);
      await cli.exited;
    },
  };
}

export { freePort };

/**
 * Publishes `total` moments at `perSecond` (ticks of 10 ms); `create` makes moment i.
 * perSecond = Infinity publishes as fast as the simulator can, yielding every 200 moments.
 */
export async function publishMoments(
  sim: MomentsSimulator,
  total: number,
  perSecond: number,
  create: (i: number) => Partial<SimMoment> & { value?: number },
): Promise<{ elapsedMs: number }> {
  const t0 = performance.now();
  if (!Number.isFinite(perSecond)) {
    for (let i = 0; i < total; i++) {
      sim.control.createMoment(create(i));
      if (i % 200 === 199) await new Promise((r) => setImmediate(r));
    }
    return { elapsedMs: performance.now() - t0 };
  }
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * perSecond) + 1);
    while (sent < due) sim.control.createMoment(create(sent++));
    await sleep(10);
  }
  return { elapsedMs: performance.now() - t0 };
}

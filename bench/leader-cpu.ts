/**
 * bench/leader-cpu: source CPU per process with 1 replica, 2 replicas under
 * `leadership.readers: leader` and 2 under `every-replica`, the same offered load (moments from
 * the simulator at a fixed rate) in the same run. Source CPU of a process = its CPU (utime+stime
 * from /proc/<pid>/stat) over the load window minus its idle CPU over a window of the same length
 * measured just before (lease polling, worker polling, timers). No route matches the moments, so
 * what is left is the source (subscription frames, parse, validate, seen check, cursor commit)
 * and the router's no-match. Compiled dist/ (as users run it). Prints one JSON object.
 * Usage: tsx bench/leader-cpu.ts [--events 4000] [--rate 500]
 */
import { startMomentsSimulator } from '../simulators/moments/moments-simulator.js';
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
  type BridgeProcess,
} from './lib/bridge-rig.js';
import { flag, machine, printJson, processCpuMs, round2, sleep, waitFor } from './lib/measure.js';

const EVENTS = flag('events', 4000);
const RATE = flag('rate', 500);
const IDLE_MS = 5000;

interface Mode {
  name: string;
  replicas: number;
  readers: 'leader' | 'every-replica';
}

const MODES: Mode[] = [
  { name: '1 replica', replicas: 1, readers: 'leader' },
  { name: '2 replicas, readers: leader', replicas: 2, readers: 'leader' },
  { name: '2 replicas, readers: every-replica', replicas: 2, readers: 'every-replica' },
];

async function roleOf(b: BridgeProcess): Promise<string> {
  const body = (await (await fetch(`http://127.0.0.1:${b.port}/readyz`)).json()) as { checks: Record<string, { detail?: { role?: string } }> };
  return body.checks['source:moments']?.detail?.role ?? '?';
}

async function runMode(redis: BenchRedis, mode: Mode, index: number) {
  const sim = await startMomentsSimulator();
  const keyPrefix = `cpu${index}`;
  const bridges: BridgeProcess[] = [];
  try {
    for (let r = 0; r < mode.replicas; r++) {
      const port = await freePort();
      const { file } = writeBridgeConfig({
        redisUrl: redis.url,
        keyPrefix,
        port,
        sources: { moments: momentsSourceConfig(sim) },
        // A connector for the workers to run, and no route to it: the source's work alone.
        connectors: { sink: { type: 'module', path: NOOP_CONNECTOR, options: { type: 'noop' } } },
        routes: [{ name: 'none', match: { kind: 'no-such-kind' }, to: ['sink'] }],
        leadership: { readers: mode.readers, replicaId: `replica-${r}` },
      });
      // One after another: start-up is CPU-heavy on two cores.
      bridges.push(await startBridge(file, port));
    }
    await sleep(1000);
    const idle0 = bridges.map((b) => processCpuMs(b.pid));
    await sleep(IDLE_MS);
    const idleRate = bridges.map((b, i) => (processCpuMs(b.pid) - idle0[i]!) / IDLE_MS);

    const cpu0 = bridges.map((b) => processCpuMs(b.pid));
    const t0 = performance.now();
    let last = '';
    await publishMoments(sim, EVENTS, RATE, (i) => {
      last = `cpu-${index}-${i}`;
      return { publicId: last, athleteId: i % 40 };
    });
    const seenKey = `${keyPrefix}:source:moments:seen`;
    await waitFor(async () => (await redis.client.zscore(seenKey, last)) !== null, 120_000, 'the last moment read', 20);
    // Every replica under every-replica reads it too: let the slower one finish.
    await sleep(1500);
    const windowMs = performance.now() - t0;
    const replicas = await Promise.all(
      bridges.map(async (b, i) => {
        const cpuMs = processCpuMs(b.pid) - cpu0[i]!;
        return {
          role: await roleOf(b),
          cpuMs: Math.round(cpuMs),
          idleCpuMs: Math.round(idleRate[i]! * windowMs),
          sourceCpuMs: Math.round(Math.max(0, cpuMs - idleRate[i]! * windowMs)),
        };
      }),
    );
    const peak = sim.control.stats().peakMomentSubscriptions;
    return {
      mode: mode.name,
      windowMs: Math.round(windowMs),
      upstreamMomentSubscriptions: peak,
      replicas,
      totalSourceCpuMs: replicas.reduce((s, r) => s + r.sourceCpuMs, 0),
      sourceCpuUsPerMoment: round2((replicas.reduce((s, r) => s + r.sourceCpuMs, 0) * 1000) / EVENTS),
    };
  } finally {
    for (const b of bridges) await b.kill('SIGTERM');
    await sim.stop();
  }
}

useCompiledBridge();
const redis = await startBenchRedis();
try {
  const modes = [];
  for (const [i, mode] of MODES.entries()) modes.push(await runMode(redis, mode, i));
  const one = modes[0]!.totalSourceCpuMs;
  printJson({
    bench: 'leader-cpu',
    machine: machine(),
    events: EVENTS,
    perSecond: RATE,
    modes: modes.map((m) => ({ ...m, totalVsOneReplica: round2(m.totalSourceCpuMs / one) })),
  });
} finally {
  await redis.stop();
}

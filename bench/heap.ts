/**
 * bench/heap: is the daemon's memory growth a leak? Runs `moments-bridge run` under
 * `--inspect`, feeds it moments at `--rate` (default 600/s, below the daemon's ceiling so no
 * backlog builds up inside it), and at each checkpoint of `--at` delivered events (default
 * 50000,150000) forces a full GC and takes a heap snapshot. Prints heap used after GC per
 * checkpoint and the object kinds that grew between the first and the last snapshot: a leak shows
 * as a bucket growing with the event count. Then `--burst` moments (default 50,000) as fast as
 * possible, to show the daemon-side backlog: heap used at the peak and after it drained + GC.
 * Snapshots go to a temp dir (several hundred MB each; removed unless --keep).
 * Usage: tsx bench/heap.ts [--rate 600] [--at 50000,150000] [--burst 50000] [--keep]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
} from './lib/bridge-rig.js';
import { heapGrowth, heapTop, summarizeHeapSnapshot, type HeapBucket } from './lib/heap-summary.js';
import { InspectorProbe, type HeapFigures } from './lib/inspector-probe.js';
import { flag, machine, printJson, sleep, waitFor } from './lib/measure.js';
import { rssByMapping } from './lib/process-memory.js';

const RATE = flag('rate', 600);
const BURST = flag('burst', 50_000);
const atArg = process.argv.indexOf('--at');
const AT = (atArg >= 0 ? process.argv[atArg + 1]! : '50000,150000').split(',').map(Number);
const KEEP = process.argv.includes('--keep');
const MiB = 2 ** 20;
const mib = (b: number) => Math.round((b / MiB) * 10) / 10;
const figures = (m: HeapFigures) => ({
  rssMiB: mib(m.rss),
  heapUsedMiB: mib(m.heapUsed),
  heapTotalMiB: mib(m.heapTotal),
  externalMiB: mib(m.external),
  arrayBuffersMiB: mib(m.arrayBuffers),
});

const dir = mkdtempSync(join(tmpdir(), 'mb-heap-'));
useCompiledBridge();
const redis = await startBenchRedis();
const sim = await startMomentsSimulator();
const port = await freePort();
const inspectPort = await freePort();
const { file } = writeBridgeConfig({
  redisUrl: redis.url,
  keyPrefix: 'heap',
  port,
  sources: { moments: momentsSourceConfig(sim) },
  connectors: { sink: { type: 'module', path: NOOP_CONNECTOR, options: { type: 'noop' } } },
  routes: [{ name: 'all-moments', match: { kind: 'moment' }, to: ['sink'] }],
});
const bridge = await startBridge(file, port, { env: { NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}` } });
const probe = await InspectorProbe.connect(inspectPort);
const delivered = async () => Number((await redis.client.get('heap:bench:noop')) ?? 0);

async function afterGc(): Promise<ReturnType<typeof figures> & { rssBy: ReturnType<typeof rssByMapping> }> {
  await probe.collectGarbage();
  await probe.collectGarbage();
  return { ...figures(await probe.memoryUsage()), rssBy: rssByMapping(bridge.pid) };
}

try {
  const idle = await afterGc();
  const checkpoints: { delivered: number; afterGc: Awaited<ReturnType<typeof afterGc>>; snapshotMiB: number }[] = [];
  const summaries: Map<string, HeapBucket>[] = [];
  const total = Math.max(...AT);
  let published = 0;
  const load = publishMoments(sim, total, RATE, (i) => {
    published = i + 1;
    return { publicId: `heap-${i}`, athleteId: i % 40 };
  });
  let maxBacklog = 0;
  for (const at of AT) {
    await waitFor(
      async () => {
        const d = await delivered();
        maxBacklog = Math.max(maxBacklog, published - d);
        return d >= at;
      },
      3_600_000,
      `${at} deliveries`,
      500,
    );
    const d = await delivered();
    const snapFile = join(dir, `at-${at}.heapsnapshot`);
    const m = await afterGc();
    await probe.heapSnapshot(snapFile);
    checkpoints.push({ delivered: d, afterGc: m, snapshotMiB: mib(statSync(snapFile).size) });
    summaries.push(summarizeHeapSnapshot(snapFile));
  }
  await load;
  await waitFor(async () => (await delivered()) >= total, 600_000, 'the steady load to drain', 250);

  // The burst: the daemon reads the socket faster than it can enqueue; what waits is daemon memory.
  const b0 = await delivered();
  const burstLoad = publishMoments(sim, BURST, Infinity, (i) => ({ publicId: `burst-${i}`, athleteId: i % 40 }));
  let peak: HeapFigures | undefined;
  await waitFor(
    async () => {
      const m = await probe.memoryUsage();
      if (!peak || m.heapUsed > peak.heapUsed) peak = m;
      return (await delivered()) - b0 >= BURST;
    },
    3_600_000,
    `${BURST} burst deliveries`,
    1000,
  );
  await burstLoad;
  await sleep(2000);
  const burstDrainedNoGc = { ...figures(await probe.memoryUsage()), rssBy: rssByMapping(bridge.pid) };
  const burstDrained = await afterGc();

  printJson({
    bench: 'heap',
    machine: machine(),
    steadyRatePerSec: RATE,
    maxBacklogDuringSteadyLoad: maxBacklog,
    idleAfterGc: idle,
    checkpoints,
    growthBetweenSnapshots: { from: checkpoints[0]?.delivered, to: checkpoints.at(-1)?.delivered, top: heapGrowth(summaries[0]!, summaries.at(-1)!, 20) },
    largestAtLastSnapshot: heapTop(summaries.at(-1)!, 12),
    burst: { events: BURST, peak: peak && figures(peak), drainedBeforeGc: burstDrainedNoGc, drainedAfterGc: burstDrained },
    snapshots: KEEP ? dir : 'removed (pass --keep to keep them)',
  });
} finally {
  probe.close();
  await bridge.kill('SIGTERM');
  await sim.stop();
  await redis.stop();
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
}

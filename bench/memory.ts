/**
 * bench/memory: daemon RSS and Redis used_memory after `--events` moments (default 200,000) went
 * through `moments-bridge run` (child process: simulator → source → router → queue → no-op
 * connector) with the default retention, then a soak at `--rate` moments/s (default 1,000) for
 * `--minutes` (default 1; the figure is `--minutes 10`), sampled every 5 s, with the
 * least-squares slope of RSS, live heap and Redis memory over the soak after its first fifth
 * (warm-up).
 *
 * The daemon runs with `--inspect` so the bench can force a full GC and read
 * `process.memoryUsage()` inside it: "live heap" is heap used right after a GC, the figure that
 * grows when something is retained (a leak); RSS also holds what V8 and malloc keep after a peak.
 * Each sample forces one GC (a few ms every 5 s). The backlog (published − delivered) is printed
 * too: a growing backlog means the daemon did not keep up with the offered rate.
 * Redis is broken down per event (moment seen set, delivery dedup claims, retained jobs) so the
 * sizing formula in docs/operations.md has measured inputs.
 * `--dedup-ttl-s N` sets both dedup windows (`redis.dedupTtl` and the source's `dedupTtl`) to N s
 * instead of the 24 h defaults: Redis should then level off at about rate × N × bytes per event.
 * `layouts` (measured first, on the still empty Redis): bytes per event of the dedup state in the
 * former layout (seen sorted set, observer per-row keys, BullMQ `de:` claim keys) and in the digest
 * window that replaced them, writing the same ids both ways (bench/lib/layout-memory.ts).
 * `--layouts-only 1` prints just that.
 * Usage: tsx bench/memory.ts [--events 200000] [--minutes 1] [--rate 1000] [--dedup-ttl-s 0] [--layouts-only 0]
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
} from './lib/bridge-rig.js';
import { InspectorProbe } from './lib/inspector-probe.js';
import { measureLayouts } from './lib/layout-memory.js';
import { flag, machine, printJson, rate, sleep, slope, waitFor } from './lib/measure.js';
import { rssByMapping } from './lib/process-memory.js';

const EVENTS = flag('events', 200_000);
const MINUTES = flag('minutes', 1);
const RATE = flag('rate', 1000);
const DEDUP_TTL_S = flag('dedup-ttl-s', 0);
const LAYOUTS_ONLY = flag('layouts-only', 0) === 1;
const SAMPLE_MS = 5000;
const MiB = 2 ** 20;
const mib = (b: number) => Math.round((b / MiB) * 10) / 10;
const PREFIX = 'mem';

/** Bytes of Redis per key kind: exact for the dedup windows (every key), sampled (≤ 200 keys) for jobs and the rest. */
async function redisBreakdown(redis: BenchRedis): Promise<Record<string, { keys: number; ids?: number; bytes: number }>> {
  const c = redis.client;
  const usage = async (key: string) => Number((await c.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const seenDir = `${PREFIX}:source:moments:seenw`;
  const groups: Record<string, string[]> = { momentSeenWindow: [], deliveryClaims: [], jobs: [], other: [] };
  let cursor = '0';
  do {
    const [next, keys] = await c.scan(cursor, 'COUNT', 5000);
    cursor = next;
    for (const k of keys) {
      if (k.startsWith(seenDir)) groups.momentSeenWindow!.push(k);
      else if (/:delivery\.[^:]+:claims/.test(k)) groups.deliveryClaims!.push(k);
      else if (/:delivery\.[^:]+:[0-9a-f]{32}$/.test(k)) groups.jobs!.push(k);
      else groups.other!.push(k);
    }
  } while (cursor !== '0');
  const out: Record<string, { keys: number; ids?: number; bytes: number }> = {};
  for (const [name, keys] of Object.entries(groups)) {
    const exact = name === 'momentSeenWindow' || name === 'deliveryClaims';
    const sample = exact ? keys : keys.slice(0, 200);
    let sum = 0;
    let ids = 0;
    for (const k of sample) {
      sum += await usage(k);
      if (exact && (await c.type(k)) === 'hash' && /:\d+:\d+$/.test(k)) ids += await c.hlen(k);
    }
    out[name] = { keys: keys.length, ...(exact ? { ids } : {}), bytes: sample.length ? Math.round((sum / sample.length) * keys.length) : 0 };
  }
  return out;
}

const redis = await startBenchRedis();
// Before anything else writes to this Redis: used_memory deltas are the layouts' alone.
const layouts = await measureLayouts(redis.client, EVENTS);
if (LAYOUTS_ONLY) {
  printJson({ bench: 'memory', machine: machine(), layouts });
  await redis.stop();
  process.exit(0);
}
useCompiledBridge();
// Keep the simulator's own store small: it is this process's memory, not the bridge's.
const sim = await startMomentsSimulator();
const port = await freePort();
const inspectPort = await freePort();
const { file } = writeBridgeConfig({
  redisUrl: redis.url,
  keyPrefix: PREFIX,
  ...(DEDUP_TTL_S > 0 ? { redis: { dedupTtl: `${DEDUP_TTL_S}s` } } : {}),
  port,
  sources: { moments: momentsSourceConfig(sim, DEDUP_TTL_S > 0 ? { dedupTtl: `${DEDUP_TTL_S}s` } : {}) },
  connectors: { sink: { type: 'module', path: NOOP_CONNECTOR, options: { type: 'noop' } } },
  routes: [{ name: 'all-moments', match: { kind: 'moment' }, to: ['sink'] }],
});
const bridge = await startBridge(file, port, { env: { NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}` } });
const probe = await InspectorProbe.connect(inspectPort);
const delivered = async () => Number((await redis.client.get(`${PREFIX}:bench:noop`)) ?? 0);
/** Heap used right after a full GC: what the daemon really holds. */
const liveHeap = async () => {
  await probe.collectGarbage();
  return (await probe.memoryUsage()).heapUsed;
};
const heap = async () => {
  const m = await probe.memoryUsage();
  return { heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external) };
};
try {
  const idleRedis = await redis.usedMemory();
  const idle = { rssMiB: mib(bridge.rss()), liveHeapMiB: mib(await liveHeap()), rssBy: rssByMapping(bridge.pid), redisMiB: mib(idleRedis) };
  // Phase 1: a fixed number of events as fast as the daemon takes them.
  const t0 = performance.now();
  const load = publishMoments(sim, EVENTS, Infinity, (i) => ({ publicId: `mem-${i}`, athleteId: i % 40 }));
  let peakRss = 0;
  let peakHeap = 0;
  let lastHeapAt = 0;
  await waitFor(
    async () => {
      peakRss = Math.max(peakRss, bridge.rss());
      if (performance.now() - lastHeapAt > 2000) {
        lastHeapAt = performance.now();
        peakHeap = Math.max(peakHeap, (await probe.memoryUsage()).heapUsed);
      }
      return (await delivered()) >= EVENTS;
    },
    3_600_000,
    `${EVENTS} deliveries`,
    250,
  );
  const publish = await load;
  const loadMs = performance.now() - t0;
  await sleep(2000);
  const redisAfter = await redis.usedMemory();
  const afterLoad = {
    rssMiB: mib(bridge.rss()),
    peakRssMiB: mib(peakRss),
    peakHeapUsedMiB: mib(peakHeap),
    ...(await heap()),
    rssBy: rssByMapping(bridge.pid),
    publishPerSec: rate(EVENTS, publish.elapsedMs),
    deliveriesPerSec: rate(EVENTS, loadMs),
    redisMiB: mib(redisAfter),
    redisKeys: await redis.client.dbsize(),
    redisBytesPerEvent: Math.round((redisAfter - idleRedis) / EVENTS),
    redisBreakdown: await redisBreakdown(redis),
  };
  const live = await liveHeap();
  const afterGc = { rssMiB: mib(bridge.rss()), liveHeapMiB: mib(live), ...(await heap()), rssBy: rssByMapping(bridge.pid) };

  // Phase 2: soak at a fixed offered rate, sampling.
  const samples: { minute: number; rssMiB: number; liveHeapMiB: number; redisMiB: number; backlog: number }[] = [];
  const soakMs = MINUTES * 60_000;
  const total = Math.round((soakMs / 1000) * RATE);
  const s0 = performance.now();
  const base = await delivered();
  let published = 0;
  const soak = publishMoments(sim, total, RATE, (i) => {
    published = i + 1;
    return { publicId: `soak-${i}`, athleteId: i % 40 };
  });
  while (performance.now() - s0 < soakMs) {
    await sleep(SAMPLE_MS);
    const h = await liveHeap();
    samples.push({
      minute: (performance.now() - s0) / 60_000,
      rssMiB: mib(bridge.rss()),
      liveHeapMiB: mib(h),
      redisMiB: mib(await redis.usedMemory()),
      backlog: published - ((await delivered()) - base),
    });
  }
  const soakPublish = await soak;
  const steady = samples.slice(Math.floor(samples.length / 5));
  const slopeOf = (pick: (s: (typeof samples)[number]) => number) => slope(steady.map((s) => ({ x: s.minute, y: pick(s) })));
  const r2 = (x: number) => Math.round(x * 100) / 100;
  printJson({
    bench: 'memory',
    machine: machine(),
    retention:
      DEDUP_TTL_S > 0
        ? `completed jobs 1000 / 1 h, dead letters 100000 / 30 d, delivery dedup claims ${DEDUP_TTL_S} s (redis.dedupTtl), moment dedup ${DEDUP_TTL_S} s (sources.<name>.dedupTtl)`
        : 'defaults: completed jobs 1000 / 1 h, dead letters 100000 / 30 d, delivery dedup claims 24 h (redis.dedupTtl), moment dedup 24 h (sources.<name>.dedupTtl)',
    layouts,
    idle,
    afterEvents: { events: EVENTS, ...afterLoad, afterGc },
    soak: {
      minutes: MINUTES,
      offeredPerSec: RATE,
      achievedPublishPerSec: rate(total, soakPublish.elapsedMs),
      samples: samples.map((s) => ({ ...s, minute: Math.round(s.minute * 1000) / 1000 })),
      slope: {
        rssMiBPerMin: r2(slopeOf((s) => s.rssMiB)),
        liveHeapMiBPerMin: r2(slopeOf((s) => s.liveHeapMiB)),
        redisMiBPerMin: r2(slopeOf((s) => s.redisMiB)),
        backlogPerMin: Math.round(slopeOf((s) => s.backlog)),
      },
      end: { rssBy: rssByMapping(bridge.pid), redisKeys: await redis.client.dbsize() },
    },
  });
} finally {
  probe.close();
  await bridge.kill('SIGTERM');
  await sim.stop();
  await redis.stop();
}

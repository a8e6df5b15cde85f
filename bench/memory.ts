/**
 * bench/memory: daemon RSS and Redis used_memory after `--events` moments (default 200,000) went
 * through `moments-bridge run` (child process: simulator → source → router → queue → no-op
 * connector) with the default retention, then a soak at `--rate` moments/s (default 1,000) for
 * `--minutes` (default 1; the figure is `--minutes 10`), sampled every 5 s, with the
 * least-squares slope of RSS and Redis memory over the soak after its first fifth (warm-up).
 * The backlog (published − delivered) is printed too: a growing backlog means the daemon did not
 * keep up with the offered rate, and memory then grows with it. Prints one JSON object.
 * Usage: tsx bench/memory.ts [--events 200000] [--minutes 1] [--rate 1000]
 */
import { startMomentsSimulator } from '../src/simulators/moments/moments-simulator.js';
import { freePort, momentsSourceConfig, NOOP_CONNECTOR, publishMoments, startBenchRedis, startBridge, writeBridgeConfig } from './lib/bridge-rig.js';
import { flag, machine, printJson, rate, sleep, slope, waitFor } from './lib/measure.js';

const EVENTS = flag('events', 200_000);
const MINUTES = flag('minutes', 1);
const RATE = flag('rate', 1000);
const SAMPLE_MS = 5000;
const MiB = 2 ** 20;
const mib = (b: number) => Math.round((b / MiB) * 10) / 10;

// Keep the simulator's own store small: it is this process's memory, not the bridge's.
const redis = await startBenchRedis();
const sim = await startMomentsSimulator();
const port = await freePort();
const { file } = writeBridgeConfig({
  redisUrl: redis.url,
  keyPrefix: 'mem',
  port,
  sources: { moments: momentsSourceConfig(sim) },
  connectors: { sink: { type: 'module', path: NOOP_CONNECTOR, options: { type: 'noop' } } },
  routes: [{ name: 'all-moments', match: { kind: 'moment' }, to: ['sink'] }],
});
const bridge = await startBridge(file, port);
const delivered = async () => Number((await redis.client.get('mem:bench:noop')) ?? 0);
try {
  const idle = { rssMiB: mib(bridge.rss()), redisMiB: mib(await redis.usedMemory()) };
  // Phase 1: a fixed number of events as fast as the daemon takes them.
  const t0 = performance.now();
  const load = publishMoments(sim, EVENTS, Infinity, (i) => ({ publicId: `mem-${i}`, athleteId: `athlete-${i % 40}` }));
  let peakRss = 0;
  await waitFor(async () => {
    peakRss = Math.max(peakRss, bridge.rss());
    return (await delivered()) >= EVENTS;
  }, 3_600_000, `${EVENTS} deliveries`, 250);
  await load;
  const loadMs = performance.now() - t0;
  await sleep(2000);
  const afterLoad = { rssMiB: mib(bridge.rss()), peakRssMiB: mib(peakRss), redisMiB: mib(await redis.usedMemory()), redisKeys: await redis.client.dbsize(), deliveriesPerSec: rate(EVENTS, loadMs) };

  // Phase 2: soak at a fixed offered rate, sampling.
  const samples: { minute: number; rssMiB: number; redisMiB: number; backlog: number }[] = [];
  const soakMs = MINUTES * 60_000;
  const total = Math.round((soakMs / 1000) * RATE);
  const s0 = performance.now();
  const base = await delivered();
  let published = 0;
  const soak = publishMoments(sim, total, RATE, (i) => {
    published = i + 1;
    return { publicId: `soak-${i}`, athleteId: `athlete-${i % 40}` };
  });
  while (performance.now() - s0 < soakMs) {
    await sleep(SAMPLE_MS);
    samples.push({ minute: (performance.now() - s0) / 60_000, rssMiB: mib(bridge.rss()), redisMiB: mib(await redis.usedMemory()), backlog: published - ((await delivered()) - base) });
  }
  await soak;
  const steady = samples.slice(Math.floor(samples.length / 5));
  printJson({
    bench: 'memory',
    machine: machine(),
    retention: 'defaults: completed jobs 1000 / 1 h, dead letters 100000 / 30 d, delivery dedup claims 24 h, moment dedup 24 h',
    idle,
    afterEvents: { events: EVENTS, ...afterLoad },
    soak: {
      minutes: MINUTES,
      offeredPerSec: RATE,
      samples,
      slope: {
        rssMiBPerMin: Math.round(slope(steady.map((s) => ({ x: s.minute, y: s.rssMiB }))) * 100) / 100,
        redisMiBPerMin: Math.round(slope(steady.map((s) => ({ x: s.minute, y: s.redisMiB }))) * 100) / 100,
        backlogPerMin: Math.round(slope(steady.map((s) => ({ x: s.minute, y: s.backlog })))),
      },
      redisKeysAtEnd: await redis.client.dbsize(),
    },
  });
} finally {
  await bridge.kill('SIGTERM');
  await sim.stop();
  await redis.stop();
}

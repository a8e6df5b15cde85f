/**
 * bench/latency: at a fixed offered rate, the time from the Moments simulator publishing a moment
 * (its createdAt) to the local Slack API server accepting the chat.postMessage that carries it,
 * through `moments-bridge run` in a child process and the real Slack connector (@slack/web-api).
 * p50/p95/p99/max per rate. Prints one JSON object.
 *
 * Two figures say where the time went: `sourceCaughtUpMs` (last publish → the moments source has
 * handed every moment to the queue: its seen set is complete) and `noiseFloorMs` (how late a 1 ms
 * timer fires in an otherwise idle process during the run: what the shared machine's scheduling
 * alone adds to any tail, whatever the bridge does).
 * `--stages` adds where the time went per delivery, from the BullMQ job timestamps of the last 1,000
 * completed jobs (the default retention): publish → job added, added → worker start, worker start →
 * Slack receipt.
 * `--timeline` prints the worst latency per 100 ms of publishing to stderr (where in the run the tail
 * is); `--node-options "…"` starts the bridge with NODE_OPTIONS (bench/lib/bridge-rig.ts: profilers, GC traces).
 * The first `--warmup` seconds (default 3: JIT tiers, heap sizing) are published and delivered but not
 * measured; the measured moments follow in the same stream without a pause.
 * Usage: tsx bench/latency.ts [--seconds 5] [--warmup 3] [--rates 500,2000] [--stages] [--timeline]
 */
import { spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import type { DeliveryJobData } from '../src/queue/routed-delivery.js';
import { startMomentsSimulator } from '../simulators/moments/moments-simulator.js';
import { startSlackApiServer } from '../simulators/sinks/slack/slack-api-server.js';
import {
  freePort,
  momentsSourceConfig,
  publishMoments,
  startBenchRedis,
  startBridge,
  useCompiledBridge,
  writeBridgeConfig,
  type BenchRedis,
} from './lib/bridge-rig.js';
import { flag, machine, percentile, printJson, rate, waitFor } from './lib/measure.js';

const SECONDS = flag('seconds', 5);
const ratesArg = process.argv.indexOf('--rates');
const RATES = (ratesArg >= 0 ? process.argv[ratesArg + 1]! : '500,2000').split(',').map(Number);
const WARMUP_SECONDS = flag('warmup', 3);
const STAGES = process.argv.includes('--stages');
const TIMELINE = process.argv.includes('--timeline');

/**
 * An idle child process that sets 1 ms timers for `ms` and reports how late they fired (p99, max):
 * the scheduling delay the machine imposes on any process during the run. `ready` resolves once the
 * probe runs, so starting a Node process (tens of ms of CPU) does not land inside the measurement.
 */
function noiseFloor(ms: number): { ready: Promise<void>; done: Promise<{ p99: number; max: number }> } {
  const code = `console.log('ready');const late=[];const end=Date.now()+${ms};const tick=()=>{const t=performance.now();setTimeout(()=>{late.push(performance.now()-t-1);if(Date.now()<end)tick();else{late.sort((a,b)=>a-b);console.log(JSON.stringify({p99:Math.round(late[Math.floor(late.length*0.99)]),max:Math.round(late.at(-1))}))}},1)};tick();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  const done = new Promise<{ p99: number; max: number }>((resolve, reject) =>
    child.once('exit', () => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (last.startsWith('{')) resolve(JSON.parse(last) as { p99: number; max: number });
      else reject(new Error('noise probe printed nothing'));
    }),
  );
  return { ready, done };
}

async function atRate(redis: BenchRedis, perSecond: number) {
  const sim = await startMomentsSimulator();
  // Rate limiting off: this measures the bridge, not Slack's 1 message/s per channel.
  const slack = await startSlackApiServer({ perChannelIntervalMs: 0 });
  const port = await freePort();
  const { file } = writeBridgeConfig({
    redisUrl: redis.url,
    keyPrefix: `lat${perSecond}`,
    port,
    sources: { moments: momentsSourceConfig(sim) },
    connectors: {
      ops: {
        type: 'slack',
        token: 'xoxb-bench',
        apiUrl: slack.url,
        channel: '#ops',
        text: '{{ data.publicId }} {{ data.moment }}',
        concurrency: 50,
        rateLimit: { max: 1_000_000, duration: '1s' },
      },
    },
    routes: [{ name: 'all-moments', match: { kind: 'moment' }, to: ['ops'] }],
  });
  const bridge = await startBridge(file, port);
  try {
    // The first WARMUP_SECONDS are warm-up (JIT tiers, heap sizing, connection pools), not measured;
    // the measured moments follow in the same stream without a pause: the steady state is measured.
    const warm = Math.round(perSecond * WARMUP_SECONDS);
    const total = Math.round(perSecond * SECONDS);
    const published = new Map<string, number>();
    const noise = noiseFloor((WARMUP_SECONDS + SECONDS) * 1000 + 300);
    await noise.ready;
    const pub = await publishMoments(sim, warm + total, perSecond, (i) => {
      if (i < warm) return { publicId: `warm-${i}` };
      const publicId = `lat-${perSecond}-${i - warm}`;
      published.set(publicId, Date.now());
      return { publicId, createdAt: new Date().toISOString() };
    });
    const afterPublish = performance.now();
    let sourceCaughtUpMs: number | undefined;
    await waitFor(
      async () => {
        if (sourceCaughtUpMs === undefined && (await redis.client.zcard(`lat${perSecond}:source:moments:seen`)) >= warm + total)
          sourceCaughtUpMs = Math.round(performance.now() - afterPublish);
        return slack.received.length >= warm + total;
      },
      120_000,
      `${total} Slack messages`,
      10,
    );
    const lastReceiptMs = Math.round(performance.now() - afterPublish);
    const latencies: number[] = [];
    for (const m of slack.received) {
      const id = m.text?.split(' ')[0] ?? '';
      const at = published.get(id);
      if (at !== undefined) latencies.push(m.receivedAt - at);
    }
    if (TIMELINE) {
      const t0 = Math.min(...published.values());
      const buckets = new Map<number, number>();
      for (const m of slack.received) {
        const at = published.get(m.text?.split(' ')[0] ?? '');
        if (at === undefined) continue;
        const b = Math.floor((at - t0) / 100);
        buckets.set(b, Math.max(buckets.get(b) ?? 0, m.receivedAt - at));
      }
      // With --node-options "--require <file calling v8.setFlagsFromString('--trace-gc')>": the bridge's GCs.
      const gcLines = bridge.cli
        .output()
        .split('\n')
        .filter((l) => /Scavenge|Mark-Compact/.test(l));
      if (gcLines.length > 0) console.error(gcLines.join('\n'));
      console.error(`worst latency (ms) per 100 ms of publishing, at ${perSecond}/s:`);
      console.error(
        [...buckets]
          .sort((a, b) => a[0] - b[0])
          .map(([b, v]) => `${b}:${v}`)
          .join(' '),
      );
    }
    const stages = STAGES
      ? await stageSplit(redis, `lat${perSecond}`, published, new Map(slack.received.map((m) => [m.text?.split(' ')[0] ?? '', m.receivedAt])))
      : undefined;
    return {
      offeredPerSec: perSecond,
      achievedPublishPerSec: rate(warm + total, pub.elapsedMs),
      messages: latencies.length,
      ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: Math.max(...latencies) },
      afterLastPublishMs: { sourceCaughtUp: sourceCaughtUpMs ?? null, lastReceipt: lastReceiptMs },
      noiseFloorMs: await noise.done,
      ...(stages ? { stagesMs: stages } : {}),
    };
  } finally {
    await bridge.kill('SIGTERM');
    await slack.stop();
    await sim.stop();
  }
}

/** p50/p99 of each stage over the completed jobs still retained. */
async function stageSplit(redis: BenchRedis, prefix: string, published: Map<string, number>, received: Map<string, number>) {
  const connection = redis.client.duplicate();
  const queue = new Queue<DeliveryJobData>('delivery.ops', { connection, prefix });
  try {
    const jobs = await queue.getCompleted(0, 999);
    const added: number[] = [];
    const waited: number[] = [];
    const sent: number[] = [];
    for (const job of jobs) {
      const id = String((job.data.event.data as { publicId?: unknown }).publicId ?? '');
      const at = published.get(id);
      const got = received.get(id);
      if (at === undefined || got === undefined || job.processedOn === undefined) continue;
      added.push(job.timestamp - at);
      waited.push(job.processedOn - job.timestamp);
      sent.push(got - job.processedOn);
    }
    const p = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) });
    return { jobs: added.length, publishToAdded: p(added), addedToWorker: p(waited), workerToReceipt: p(sent) };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

useCompiledBridge();
const redis = await startBenchRedis();
try {
  const results = [];
  for (const r of RATES) results.push(await atRate(redis, r));
  const at500 = results.find((r) => r.offeredPerSec === 500);
  printJson({
    bench: 'latency',
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    path: 'simulator publish → AppSync socket → source → router → BullMQ → Slack connector → local Slack API receipt',
    machine: machine(),
    results,
    goal: { p99At500PerSecMs: 25, met: at500 ? at500.ms.p99 < 25 : null },
  });
} finally {
  await redis.stop();
}

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
 * Usage: tsx bench/latency.ts [--seconds 5] [--rates 500,2000]
 */
import { spawn } from 'node:child_process';
import { startMomentsSimulator } from '../src/simulators/moments/moments-simulator.js';
import { startSlackApiServer } from '../src/simulators/sinks/slack-api-server.js';
import { freePort, momentsSourceConfig, publishMoments, startBenchRedis, startBridge, writeBridgeConfig, type BenchRedis } from './lib/bridge-rig.js';
import { flag, machine, percentile, printJson, rate, sleep, waitFor } from './lib/measure.js';

const SECONDS = flag('seconds', 5);
const ratesArg = process.argv.indexOf('--rates');
const RATES = (ratesArg >= 0 ? process.argv[ratesArg + 1]! : '500,2000').split(',').map(Number);
const WARMUP_SECONDS = 1;

/**
 * An idle child process that sets 1 ms timers for `ms` and reports how late they fired (p99, max):
 * the scheduling delay the machine imposes on any process during the run.
 */
function noiseFloor(ms: number): { done: Promise<{ p99: number; max: number }> } {
  const code = `const late=[];const end=Date.now()+${ms};const tick=()=>{const t=performance.now();setTimeout(()=>{late.push(performance.now()-t-1);if(Date.now()<end)tick();else{late.sort((a,b)=>a-b);console.log(JSON.stringify({p99:Math.round(late[Math.floor(late.length*0.99)]),max:Math.round(late.at(-1))}))}},1)};tick();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return { done: new Promise((resolve, reject) => child.once('exit', () => (out ? resolve(JSON.parse(out) as { p99: number; max: number }) : reject(new Error('noise probe printed nothing'))))) };
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
    connectors: { ops: { type: 'slack', token: 'xoxb-bench', apiUrl: slack.url, channel: '#ops', text: '{{ data.publicId }} {{ data.moment }}', concurrency: 50, rateLimit: { max: 1_000_000, duration: '1s' } } },
    routes: [{ name: 'all-moments', match: { kind: 'moment' }, to: ['ops'] }],
  });
  const bridge = await startBridge(file, port);
  try {
    // Warm-up (JIT, connection pools), not measured.
    const warm = Math.round(perSecond * WARMUP_SECONDS);
    await publishMoments(sim, warm, perSecond, (i) => ({ publicId: `warm-${i}` }));
    await waitFor(() => slack.received.length >= warm, 60_000, 'warm-up deliveries', 10);
    await sleep(200);
    slack.reset();
    const total = Math.round(perSecond * SECONDS);
    const published = new Map<string, number>();
    const noise = noiseFloor(SECONDS * 1000);
    const pub = await publishMoments(sim, total, perSecond, (i) => {
      const publicId = `lat-${perSecond}-${i}`;
      published.set(publicId, Date.now());
      return { publicId, createdAt: new Date().toISOString() };
    });
    const afterPublish = performance.now();
    let sourceCaughtUpMs: number | undefined;
    await waitFor(
      async () => {
        if (sourceCaughtUpMs === undefined && (await redis.client.zcard(`lat${perSecond}:source:moments:seen`)) >= warm + total) sourceCaughtUpMs = Math.round(performance.now() - afterPublish);
        return slack.received.length >= total;
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
    return {
      offeredPerSec: perSecond,
      achievedPublishPerSec: rate(total, pub.elapsedMs),
      messages: latencies.length,
      ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: Math.max(...latencies) },
      afterLastPublishMs: { sourceCaughtUp: sourceCaughtUpMs ?? null, lastReceipt: lastReceiptMs },
      noiseFloorMs: await noise.done,
    };
  } finally {
    await bridge.kill('SIGTERM');
    await slack.stop();
    await sim.stop();
  }
}

const redis = await startBenchRedis();
try {
  const results = [];
  for (const r of RATES) results.push(await atRate(redis, r));
  const at500 = results.find((r) => r.offeredPerSec === 500);
  printJson({
    bench: 'latency',
    seconds: SECONDS,
    path: 'simulator publish → AppSync socket → source → router → BullMQ → Slack connector → local Slack API receipt',
    machine: machine(),
    results,
    goal: { p99At500PerSecMs: 25, met: at500 ? at500.ms.p99 < 25 : null },
  });
} finally {
  await redis.stop();
}

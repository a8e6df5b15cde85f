/**
 * `npm run bench`: runs every bench in its own process, one after another (they would compete for
 * the two cores otherwise), prints all their JSON as one object, then a summary table on stderr.
 * `--quick` runs shorter versions (for checking the suite works, not for published figures).
 * Usage: tsx bench/run-all.ts [--quick] [--only e2e,latency]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { machine } from './lib/measure.js';

const quick = process.argv.includes('--quick');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set(process.argv[onlyArg + 1]!.split(',')) : undefined;

const BENCHES: { name: string; args: string[]; quickArgs: string[] }[] = [
  { name: 'router', args: [], quickArgs: [] },
  { name: 'queue', args: [], quickArgs: ['5000', '100', '1'] },
  { name: 'kinesis', args: [], quickArgs: ['2'] },
  { name: 'e2e', args: [], quickArgs: ['--events', '2000'] },
  { name: 'latency', args: [], quickArgs: ['--seconds', '2'] },
  { name: 'scale-out', args: [], quickArgs: ['--jobs', '1000'] },
  { name: 'partitions', args: [], quickArgs: ['--jobs', '2000', '--rounds', '1'] },
  { name: 'cluster', args: [], quickArgs: ['--jobs', '3000', '--replicas', '1'] },
  { name: 'leader-cpu', args: ['--events', '8000', '--rate', '800'], quickArgs: ['--events', '1000', '--rate', '500'] },
  { name: 'memory', args: [], quickArgs: ['--events', '5000', '--minutes', '0.25'] },
];

function runBench(name: string, args: string[]): Promise<unknown> {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      const start = out.indexOf('{');
      try {
        resolve(JSON.parse(out.slice(start)));
      } catch {
        resolve({ error: `bench ${name} exited with ${code}`, stderr: err.slice(-2000) });
      }
    });
  });
}

type Json = Record<string, any>;

function summary(results: Record<string, Json>): string[][] {
  const rows: string[][] = [['bench', 'figure', 'value', 'goal']];
  const r = results;
  if (r.router?.results)
    for (const [size, row] of Object.entries(r.router.results as Record<string, Json>))
      rows.push(['router', `match-only, ${size} (events/s)`, String(row.matchOnly), size === '100 routes' ? '≥ 1,000,000' : '']);
  if (r.queue?.ratio) rows.push(['queue', 'process vs raw BullMQ (ratio)', String(r.queue.ratio.process), '≥ 0.8']);
  if (r.kinesis && !r.kinesis.error)
    rows.push(['kinesis', 'records/s', String(r.kinesis.recordsPerSecond ?? r.kinesis.recordsPerSec ?? JSON.stringify(r.kinesis).slice(0, 60)), '']);
  if (r.e2e?.ratio) {
    rows.push(['e2e', 'raw BullMQ end to end (jobs/s)', String(r.e2e.rawBullmq.endToEndPerSec), '']);
    rows.push(['e2e', 'bridge → no-op (deliveries/s)', String(r.e2e.bridge.noop.deliveriesPerSec), '']);
    rows.push(['e2e', 'bridge → local HTTP (deliveries/s)', String(r.e2e.bridge.http.deliveriesPerSec), '']);
    rows.push(['e2e', 'no-op vs raw (ratio)', String(r.e2e.ratio.noopVsRaw), '≥ 0.8']);
  }
  for (const x of (r.latency?.results ?? []) as Json[])
    rows.push(['latency', `p50/p95/p99 ms at ${x.offeredPerSec}/s`, `${x.ms.p50}/${x.ms.p95}/${x.ms.p99}`, x.offeredPerSec === 500 ? 'p99 < 25' : '']);
  for (const x of (r['scale-out']?.results ?? []) as Json[])
    rows.push(['scale-out', `${x.replicas} replica(s), 20 ms sink (deliveries/s)`, `${x.deliveriesPerSec} (×${x.speedup})`, '']);
  for (const [label, x] of Object.entries((r.partitions?.results ?? {}) as Record<string, Json>))
    rows.push(['partitions', `${label}, one Redis: enqueue / deliver (per s)`, `${x.enqueuePerSec} / ${x.processPerSec}`, '']);
  for (const x of (r.cluster?.results ?? []) as Json[])
    rows.push([
      'cluster',
      `${x.backend}, ${x.replicas} replica(s), ${x.partitions} partition(s) (deliveries/s)`,
      `${x.deliveriesPerSec} (Redis-bound ${x.redisBoundPerSec})`,
      '',
    ]);
  for (const x of (r['leader-cpu']?.modes ?? []) as Json[])
    rows.push([
      'leader-cpu',
      `${x.mode}: source CPU ms (× 1 replica)`,
      `${x.totalSourceCpuMs} (×${x.totalVsOneReplica})`,
      x.mode.includes('leader') ? '≈ ×1' : '',
    ]);
  if (r.memory?.afterEvents) {
    rows.push([
      'memory',
      `after ${r.memory.afterEvents.events} events: RSS / Redis MiB`,
      `${r.memory.afterEvents.rssMiB} / ${r.memory.afterEvents.redisMiB}`,
      '',
    ]);
    rows.push([
      'memory',
      `soak ${r.memory.soak.minutes} min @ ${r.memory.soak.offeredPerSec}/s slope RSS / live heap MiB/min`,
      `${r.memory.soak.slope.rssMiBPerMin} / ${r.memory.soak.slope.liveHeapMiBPerMin}`,
      '≈ 0',
    ]);
    rows.push(['memory', `soak slope Redis MiB/min (grows until the dedup windows expire)`, `${r.memory.soak.slope.redisMiBPerMin}`, '']);
  }
  return rows;
}

const results: Record<string, Json> = {};
for (const b of BENCHES) {
  if (only && !only.has(b.name)) continue;
  process.stderr.write(`bench ${b.name}…\n`);
  results[b.name] = (await runBench(b.name, quick ? b.quickArgs : b.args)) as Json;
}
process.stdout.write(`${JSON.stringify({ machine: machine(), quick, results }, null, 2)}\n`);
const rows = summary(results);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
process.stderr.write(`\n${rows.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n')}\n`);

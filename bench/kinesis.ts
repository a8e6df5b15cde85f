/**
 * bench/kinesis: records per second and average records per PutRecords call when 5,000 events/s
 * are offered to the Kinesis connector, against an in-memory kinesalite. Events are rendered at
 * offer time (as at enqueue) and batched the way the queue layer does with the connector's
 * defaults (window 100ms, at most 500 per batch, `concurrency` batches in flight). Prints one JSON object.
 * Usage: tsx bench/kinesis.ts [seconds=4] [eventsPerSecond=5000] [shards=4]
 */
import type { Redis } from 'ioredis';
import { parseDuration } from '../src/core/duration.js';
import type { Delivery } from '../connectors/connector.js';
import { kinesisConnector, type KinesisConnector, type KinesisPayload } from '../connectors/kinesis/index.js';
import type { BridgeEvent } from '../src/core/event.js';
import { silentLogger } from '../src/core/log.js';
import { registry } from '../src/core/metrics.js';
import { startKinesalite, TEST_CREDENTIALS } from '../simulators/sinks/kinesis/kinesalite-server.js';

const SECONDS = Number(process.argv[2] ?? 4);
const RATE = Number(process.argv[3] ?? 5000);
const SHARDS = Number(process.argv[4] ?? 4);

function event(i: number): BridgeEvent {
  // ≈ 300 bytes of data, like a moment with one match.
  return {
    id: `moments:moment:${i}`,
    source: 'moments',
    kind: 'moment',
    time: new Date().toISOString(),
    data: {
      publicId: `m-${i}`,
      athleteId: `a-${i % 50}`,
      eventId: 7,
      moment: `Heart rate above 180 for athlete a-${i % 50}`,
      matches: [{ metric: 'heartrate', subMetric: 'bpm', value: 181 }],
    },
  };
}

async function metricSum(name: string, filter: (labels: Record<string, unknown>) => boolean = () => true): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const data = await m.get();
  return data.values.filter((v) => filter(v.labels)).reduce((n, v) => n + v.value, 0);
}

async function main(): Promise<void> {
  const kinesis = await startKinesalite();
  await kinesis.createStream('bench', SHARDS);
  const config = kinesisConnector.configSchema.parse({
    type: 'kinesis',
    stream: 'bench',
    region: 'us-east-1',
    endpoint: kinesis.endpoint,
    credentials: TEST_CREDENTIALS,
    producerId: 'bench@local',
    eventType: 'moment.created',
    partitionKey: '{{ data.athleteId }}',
  });
  // The connector does not touch Redis; the bench needs none.
  const connector = (await kinesisConnector.create(config, {
    name: 'bench',
    redis: undefined as unknown as Redis,
    keyPrefix: 'mb:',
    logger: silentLogger(),
    configDir: '.',
  })) as KinesisConnector;
  const renderer = connector.renderer();
  const maxSize = connector.defaults.batch?.maxSize ?? 500;
  const windowMs = parseDuration(connector.defaults.batch?.window ?? '100ms');
  const concurrency = connector.defaults.concurrency ?? 4;

  const total = Math.round(SECONDS * RATE);
  const pending: { delivery: Delivery<KinesisPayload>; offeredAt: number }[] = [];
  const latencies: number[] = [];
  let offered = 0;
  let deliveredCount = 0;
  let retried = 0;
  let inFlight = 0;
  let batches = 0;
  const signal = new AbortController().signal;
  const start = performance.now();

  const flush = (): void => {
    while (inFlight < concurrency && pending.length > 0) {
      const full = pending.length >= maxSize;
      const waited = performance.now() - pending[0]!.offeredAt >= windowMs;
      if (!full && !waited && offered < total) return;
      const batch = pending.splice(0, maxSize);
      inFlight += 1;
      batches += 1;
      void connector
        .deliverBatch(
          batch.map((b) => b.delivery),
          signal,
        )
        .then((results) => {
          inFlight -= 1;
          const now = performance.now();
          results.forEach((r, i) => {
            if (r.status === 'delivered') {
              deliveredCount += 1;
              latencies.push(now - batch[i]!.offeredAt);
            } else {
              // Offer it again, as the queue would.
              retried += 1;
              pending.push(batch[i]!);
            }
          });
          flush();
        });
    }
  };

  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
      while (offered < due) {
        const e = event(offered);
        pending.push({
          delivery: { id: `job-${offered}`, event: e, route: 'bench', connector: 'bench', payload: renderer.render(e) as KinesisPayload, attempt: 1 },
          offeredAt: performance.now(),
        });
        offered += 1;
      }
      flush();
      if (deliveredCount >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  const elapsedS = (performance.now() - start) / 1000;
  const calls = await metricSum('mb_kinesis_put_records_calls_total');
  const stored = (await kinesis.readAll('bench')).length;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!);
  await connector.close();
  await kinesis.stop();
  console.log(
    JSON.stringify({
      bench: 'kinesis',
      offeredEventsPerSecond: RATE,
      seconds: SECONDS,
      shards: SHARDS,
      events: total,
      delivered: deliveredCount,
      storedInStream: stored,
      retried,
      recordsPerSecond: Math.round(deliveredCount / elapsedS),
      putRecordsCalls: calls,
      avgRecordsPerPutRecordsCall: Math.round((deliveredCount / calls) * 10) / 10,
      batches,
      latencyMs: { p50: pct(0.5), p99: pct(0.99), max: Math.round(latencies[latencies.length - 1]!) },
      batchDefaults: { maxSize, window: `${windowMs}ms`, concurrency },
      node: process.version,
    }),
  );
}

await main();

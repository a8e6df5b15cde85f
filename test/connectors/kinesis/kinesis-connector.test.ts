import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, DeliveryResult } from '../../../connectors/connector.js';
import { deterministicUuid, kinesisConnector, type KinesisConnector, type KinesisPayload } from '../../../connectors/kinesis/index.js';
import type { BridgeEvent } from '../../../src/core/event.js';
import { InputError, PayloadError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/log.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { startFailingKinesisProxy, type FailingKinesisProxy } from './failing-kinesis-proxy.js';
import { startKinesalite, TEST_CREDENTIALS, type Kinesalite } from '../../../simulators/sinks/kinesis/kinesalite-server.js';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const signal = new AbortController().signal;

let kinesis: Kinesalite;
let proxy: FailingKinesisProxy;
let redis: TestRedis;
let client: Redis;
let streams = 0;

beforeAll(async () => {
  [kinesis, redis] = await Promise.all([startKinesalite(), startTestRedis()]);
  proxy = await startFailingKinesisProxy(kinesis.endpoint);
  client = redis.client();
});
afterAll(async () => {
  await proxy.stop();
  await kinesis.stop();
  await redis.stop();
});

async function newStream(shards = 1): Promise<string> {
  streams += 1;
  const name = `stream-${streams}`;
  await kinesis.createStream(name, shards);
  return name;
}

function moment(i: number, extra: Record<string, unknown> = {}): BridgeEvent {
  return {
    id: `moments:moment:m-${i}`,
    source: 'moments',
    kind: 'moment',
    time: '2026-11-22T12:00:00.000Z',
    data: { publicId: `m-${i}`, athleteId: `athlete-${i % 3}`, seq: i, value: 170.5 + i, matches: [{ metric: 'heartrate', value: 181 }], ...extra },
  };
}

async function connector(config: Record<string, unknown>): Promise<KinesisConnector> {
  const parsed = kinesisConnector.configSchema.parse({
    type: 'kinesis',
    region: 'us-east-1',
    endpoint: kinesis.endpoint,
    credentials: TEST_CREDENTIALS,
    producerId: 'bridge@test',
    ...config,
  });
  return (await kinesisConnector.create(parsed, {
    name: 'stream',
    redis: client,
    keyPrefix: 'mb:',
    logger: silentLogger(),
    configDir: '.',
  })) as KinesisConnector;
}

function deliveries(c: KinesisConnector, events: BridgeEvent[], overrides?: Record<string, unknown>): Delivery<KinesisPayload>[] {
  const renderer = c.renderer(overrides);
  return events.map((event) => ({
    id: `job-${event.id}`,
    event,
    route: 'all',
    connector: 'stream',
    payload: renderer.render(event) as KinesisPayload,
    attempt: 1,
  }));
}

const statuses = (results: DeliveryResult[]): string[] => results.map((r) => r.status);

describe('kinesis connector: lk-dispatch envelope', () => {
  it('records read back with GetRecords are exactly the envelope', async () => {
    const stream = await newStream(2);
    const c = await connector({ stream, eventType: 'moment.created', partitionKey: '{{ data.athleteId }}', userId: '{{ data.userId }}' });
    const events = [moment(1, { userId: 'user-7' }), moment(2), moment(3, { userId: 'user-9' })];
    // The timestamp is taken when the payload is rendered (at enqueue), so retries re-send it unchanged.
    const before = Date.now();
    const ds = deliveries(c, events);
    const results = await c.deliverBatch(ds, signal);
    expect(statuses(results)).toEqual(['delivered', 'delivered', 'delivered']);

    const records = await kinesis.readAll(stream);
    expect(records).toHaveLength(3);
    for (const record of records) {
      const env = JSON.parse(record.data) as Record<string, unknown> & { source: Record<string, unknown> };
      expect(Object.keys(env)).toEqual(['id', 'type', 'data', 'timestamp', 'source']);
      expect(Object.keys(env.source)).toEqual(['userId', 'producerId', 'kinesisPartitionKey']);
      const i = events.findIndex((e) => deterministicUuid(ds[events.indexOf(e)]!.id) === env.id);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(env.id).toMatch(UUID_V5);
      expect(env.type).toBe('moment.created');
      expect(env.data).toEqual(events[i]!.data);
      expect(typeof env.timestamp).toBe('string');
      expect(env.timestamp).toMatch(ISO);
      expect(Date.parse(env.timestamp as string)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(env.timestamp as string)).toBeLessThanOrEqual(Date.now());
      expect(env.source.userId).toBe((events[i]!.data as { userId?: string }).userId ?? null);
      expect(env.source.producerId).toBe('bridge@test');
      expect(env.source.kinesisPartitionKey).toBe(record.partitionKey);
      expect(record.partitionKey).toBe((events[i]!.data as { athleteId: string }).athleteId);
    }
  });

  /**
   * Known answers for the envelope id. Consumers dedupe on it, across our releases too. CHANGING
   * THESE VALUES BREAKS RECEIVERS' DEDUP ACROSS AN UPGRADE — a record re-sent after the upgrade
   * would carry a new id. Never "fix" a vector to match new code.
   */
  it.each([
    ['size-check', '1efd3417-fd7e-5452-bcfb-24e3a8156d1d'],
    ['a241a790794f936d990f6e0421938906', '1369a3b0-eb50-5288-b865-f8acc709f76c'], // deliveryId('moments:moment:m-1001', 'r1', 'c1')
    ['', 'fbba5151-1411-585e-9d2a-5bd4a7be10a4'],
    ['é✓', '2df5c527-f36d-509c-980f-28fe889c8f36'],
  ])('deterministicUuid(%j) is the known answer %s', (name, uuid) => {
    expect(deterministicUuid(name)).toBe(uuid);
  });

  it('a delivered record carries the known envelope id of its delivery id', async () => {
    const stream = await newStream();
    const c = await connector({ stream });
    const [d] = deliveries(c, [moment(5)]);
    // Pinned to a known delivery id, so the whole path (delivery id → envelope id) is checked against literals.
    await c.deliverBatch([{ ...d!, id: 'a241a790794f936d990f6e0421938906' }], signal);
    const [record] = await kinesis.readAll(stream);
    expect((JSON.parse(record!.data) as { id: string }).id).toBe('1369a3b0-eb50-5288-b865-f8acc709f76c');
  });

  it('defaults: type from the event kind, a random UUID partition key, data as is; a retry re-sends the same id', async () => {
    const stream = await newStream();
    const c = await connector({ stream });
    const [d] = deliveries(c, [moment(5)]);
    await c.deliverBatch([d!], signal);
    await c.deliverBatch([{ ...d!, attempt: 2 }], signal);
    const records = await kinesis.readAll(stream);
    expect(records).toHaveLength(2);
    const [a, b] = records.map((r) => JSON.parse(r.data) as { id: string; type: string; source: { userId: unknown; kinesisPartitionKey: string } });
    expect(a!.type).toBe('moment');
    expect(a!.source.userId).toBeNull();
    expect(a!.source.kinesisPartitionKey).toMatch(UUID_V4);
    expect(records[0]!.data).toBe(records[1]!.data);
    expect(b!.id).toBe(deterministicUuid(d!.id));
  });

  it('deliver() sends one record and reports its shard and sequence number', async () => {
    const stream = await newStream();
    const c = await connector({ stream });
    const [d] = deliveries(c, [moment(1)]);
    const result = await c.deliver(d!, signal);
    expect(result).toMatchObject({ status: 'delivered', info: { shardId: 'shardId-000000000000' } });
    const [record] = await kinesis.readAll(stream);
    expect(result.status === 'delivered' && result.info?.sequenceNumber).toBe(record!.sequenceNumber);
  });

  it('a data template shapes the envelope data', async () => {
    const stream = await newStream();
    const c = await connector({ stream, data: { athlete: '{{ data.athleteId }}', hr: '{{ data.value }}', text: 'HR {{ data.value }}' } });
    await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    const [record] = await kinesis.readAll(stream);
    expect((JSON.parse(record!.data) as { data: unknown }).data).toEqual({ athlete: 'athlete-1', hr: 171.5, text: 'HR 171.5' });
  });
});

describe('kinesis connector: batching and failures', () => {
  it('splits a batch into PutRecords calls of at most 500 records', async () => {
    const stream = await newStream(2);
    const c = await connector({ stream, endpoint: proxy.endpoint });
    proxy.setRule(undefined);
    const sizesBefore = proxy.callSizes.length;
    const events = Array.from({ length: 1200 }, (_, i) => moment(i));
    const results = await c.deliverBatch(deliveries(c, events), signal);
    expect(results.every((r) => r.status === 'delivered')).toBe(true);
    expect(proxy.callSizes.slice(sizesBefore)).toEqual([500, 500, 200]);
    expect(await kinesis.readAll(stream)).toHaveLength(1200);
  });

  it('partial failure: only the failed records are retryable; resending them loses and duplicates nothing', async () => {
    const stream = await newStream(2);
    const c = await connector({ stream, endpoint: proxy.endpoint, throttleRetryAfter: '250ms' });
    const events = Array.from({ length: 30 }, (_, i) => moment(i));
    const ds = deliveries(c, events);
    proxy.setRule((entry) => {
      const seq = (entry.data as { data: { seq: number } }).data.seq;
      if (seq % 7 === 0) return 'ProvisionedThroughputExceededException';
      if (seq % 11 === 5) return 'InternalFailure';
      return undefined;
    });
    const results = await c.deliverBatch(ds, signal);
    proxy.setRule(undefined);
    const failedIdx = results.flatMap((r, i) => (r.status === 'retry' ? [i] : []));
    // One call (random partition keys): exactly the injected entries failed.
    expect(failedIdx).toEqual([0, 5, 7, 14, 16, 21, 27, 28]);
    for (const i of failedIdx) {
      const r = results[i]!;
      if (i % 7 === 0) expect(r).toMatchObject({ status: 'retry', retryAfterMs: 250, reason: expect.stringMatching(/ProvisionedThroughputExceededException/) });
      else expect(r).toMatchObject({ status: 'retry', reason: expect.stringMatching(/InternalFailure/) });
    }
    expect(await kinesis.readAll(stream)).toHaveLength(30 - failedIdx.length);

    const retry = await c.deliverBatch(
      failedIdx.map((i) => ({ ...ds[i]!, attempt: 2 })),
      signal,
    );
    expect(statuses(retry)).toEqual(failedIdx.map(() => 'delivered'));
    const ids = (await kinesis.readAll(stream)).map((r) => (JSON.parse(r.data) as { id: string }).id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids)).toEqual(new Set(ds.map((d) => deterministicUuid(d.id))));
  });

  it("holds back later calls' records of a partition key that had a failed record", async () => {
    const stream = await newStream();
    const c = await connector({ stream, endpoint: proxy.endpoint, maxRecordsPerCall: 2, partitionKey: '{{ data.athleteId }}' });
    const events = [0, 3, 1, 6].map((i) => moment(i)); // keys: athlete-0, athlete-0, athlete-1, athlete-0
    const callsBefore = proxy.calls;
    proxy.setRule((entry) => ((entry.data as { data: { seq: number } }).data.seq === 0 ? 'ProvisionedThroughputExceededException' : undefined));
    const results = await c.deliverBatch(deliveries(c, events), signal);
    proxy.setRule(undefined);
    expect(statuses(results)).toEqual(['retry', 'delivered', 'delivered', 'retry']);
    expect(results[3]!.status === 'retry' && results[3]!.reason).toMatch(/held back/);
    expect(proxy.calls - callsBefore).toBe(2);
  });

  it('keeps each partition key in order across batches and shards', async () => {
    const stream = await newStream(3);
    const c = await connector({ stream, partitionKey: '{{ data.athleteId }}', maxRecordsPerCall: 7 });
    const events = Array.from({ length: 90 }, (_, i) => moment(i));
    for (let start = 0; start < events.length; start += 20) {
      const results = await c.deliverBatch(deliveries(c, events.slice(start, start + 20)), signal);
      expect(results.every((r) => r.status === 'delivered')).toBe(true);
    }
    const records = await kinesis.readAll(stream);
    expect(records).toHaveLength(90);
    const byKey = new Map<string, { shard: string; seq: number }[]>();
    for (const r of records) {
      const env = JSON.parse(r.data) as { data: { seq: number } };
      byKey.set(r.partitionKey, [...(byKey.get(r.partitionKey) ?? []), { shard: r.shardId, seq: env.data.seq }]);
    }
    expect([...byKey.keys()].sort()).toEqual(['athlete-0', 'athlete-1', 'athlete-2']);
    for (const [key, list] of byKey) {
      expect(new Set(list.map((x) => x.shard)).size).toBe(1);
      const seqs = list.map((x) => x.seq);
      expect(seqs).toEqual(events.filter((e) => (e.data as { athleteId: string }).athleteId === key).map((e) => (e.data as { seq: number }).seq));
    }
  });

  it.each([
    { type: 'ProvisionedThroughputExceededException', status: 400, expected: 'retry' },
    { type: 'InternalFailure', status: 500, expected: 'retry' },
    { type: 'AccessDeniedException', status: 400, expected: 'permanent' },
  ])('a whole call answered $type ($status) → $expected for every record', async ({ type, status, expected }) => {
    const stream = await newStream();
    const c = await connector({ stream, endpoint: proxy.endpoint });
    proxy.failNextCall(type, status);
    const results = await c.deliverBatch(deliveries(c, [moment(1), moment(2)]), signal);
    expect(statuses(results)).toEqual([expected, expected]);
    expect(results[0]!.status !== 'delivered' && results[0]!.reason).toContain(type);
    expect(await kinesis.readAll(stream)).toHaveLength(0);
  });

  it('a stream that does not exist is permanent and says what to check', async () => {
    const c = await connector({ stream: 'no-such-stream' });
    const [result] = await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    expect(result!.status).toBe('permanent');
    expect(result!.status === 'permanent' && result!.reason).toMatch(/ResourceNotFoundException.*check `stream`/);
  });

  it('a refused connection is retryable', async () => {
    const c = await connector({ stream: 'x', endpoint: 'http://127.0.0.1:1' });
    const [result] = await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    expect(result!.status).toBe('retry');
  });
});

describe('kinesis connector: payload checks', () => {
  it('rejects a record over 1 MiB at enqueue with PayloadError', async () => {
    const c = await connector({ stream: 's' });
    const r = c.renderer();
    expect(() => r.render(moment(1, { blob: 'x'.repeat(1024 * 1024) }))).toThrow(PayloadError);
    expect(() => r.render(moment(1, { blob: 'x'.repeat(1000 * 1000) }))).not.toThrow();
  });

  it('rejects an empty or too long partition key, and unknown overrides', async () => {
    const c = await connector({ stream: 's', partitionKey: '{{ data.missing }}' });
    expect(() => c.renderer().render(moment(1))).toThrow(/partitionKey renders empty/);
    expect(() => c.renderer({ partitionKey: '{{ data.long }}' }).render(moment(1, { long: 'k'.repeat(257) }))).toThrow(/at most 256/);
    expect(() => c.renderer({ channel: '#x' })).toThrow(InputError);
  });

  it('config is strict and maxRecordsPerCall is capped at 500', () => {
    expect(kinesisConnector.configSchema.safeParse({ type: 'kinesis', stream: 's', extra: 1 }).success).toBe(false);
    expect(kinesisConnector.configSchema.safeParse({ type: 'kinesis', stream: 's', maxRecordsPerCall: 501 }).success).toBe(false);
    const ok = kinesisConnector.configSchema.parse({ type: 'kinesis', stream: 's' });
    expect(ok.producerId).toMatch(/^moments-bridge@/);
    expect(ok.eventType).toBe('{{ kind }}');
  });

  it('deterministicUuid is a stable version-5 UUID', () => {
    expect(deterministicUuid('a')).toBe(deterministicUuid('a'));
    expect(deterministicUuid('a')).not.toBe(deterministicUuid('b'));
    expect(deterministicUuid('a')).toMatch(UUID_V5);
  });
});

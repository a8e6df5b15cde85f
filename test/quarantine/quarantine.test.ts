import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/core/log.js';
import { registry } from '../../src/core/metrics.js';
import { QUARANTINE_CAP, listQuarantined, quarantine, quarantineKey } from '../../src/quarantine/quarantine.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis.stop());

async function counted(source: string, kind: string): Promise<number> {
  const metric = (await registry.getSingleMetric('mb_events_quarantined_total')!.get()).values;
  return metric.find((v) => v.labels.source === source && v.labels.kind === kind)?.value ?? 0;
}

describe('quarantine', () => {
  it('keeps an invalid upstream object with its reason in Redis and counts it', async () => {
    const client = redis.client();
    const before = await counted('moments', 'moment');
    await quarantine(client, 'mbq:', silentLogger(), { source: 'moments', kind: 'moment', reason: 'athleteId: required', raw: { publicId: 'm1' } });
    const [item] = await listQuarantined(client, 'mbq:');
    expect(item).toMatchObject({ source: 'moments', kind: 'moment', reason: 'athleteId: required', raw: { publicId: 'm1' } });
    expect(Date.parse(item!.at)).not.toBeNaN();
    expect(await counted('moments', 'moment')).toBe(before + 1);
  });

  it('keeps an object JSON.stringify refuses (6,000 levels deep, cyclic, BigInt) as a safe snapshot, without throwing', async () => {
    const client = redis.client();
    let deep: unknown = 'bottom';
    for (let i = 0; i < 6000; i++) deep = [deep];
    const cyclic: Record<string, unknown> = { publicId: 'c1' };
    cyclic.self = cyclic;
    for (const raw of [{ publicId: 'd1', triggerObject: deep }, cyclic, { publicId: 'b1', big: 10n }]) {
      await quarantine(client, 'mbqs:', silentLogger(), { source: 'moments', kind: 'moment', reason: 'poison', raw });
    }
    const items = await listQuarantined(client, 'mbqs:');
    expect(items.map((i) => (i.raw as { publicId: string }).publicId)).toEqual(['b1', 'c1', 'd1']);
    expect(items[0]!.raw).toMatchObject({ big: '10n' });
    expect(items[1]!.raw).toMatchObject({ self: '[Circular]' });
    expect(JSON.stringify(items[2]!.raw)).toMatch(/Truncated: nested deeper than/);
  });

  it('caps the list at the newest entries while the counter keeps counting', async () => {
    const client = redis.client();
    const extra = 5;
    const pipeline = client.pipeline();
    for (let i = 0; i < QUARANTINE_CAP; i++) pipeline.lpush(quarantineKey('mbcap:'), JSON.stringify({ i }));
    await pipeline.exec();
    const before = await counted('calls', 'observer.row');
    for (let i = 0; i < extra; i++) await quarantine(client, 'mbcap:', silentLogger(), { source: 'calls', kind: 'observer.row', reason: `bad ${i}`, raw: i });
    expect(await client.llen(quarantineKey('mbcap:'))).toBe(QUARANTINE_CAP);
    const newest = await listQuarantined(client, 'mbcap:', 1);
    expect(newest[0]!.reason).toBe(`bad ${extra - 1}`);
    expect(await counted('calls', 'observer.row')).toBe(before + extra);
  });

  it('never throws when Redis is unreachable: the item goes to the log instead', async () => {
    const client = redis.client();
    client.disconnect();
    await expect(quarantine(client, 'mbq:', silentLogger(), { source: 's', kind: 'k', reason: 'r', raw: null })).resolves.toBeUndefined();
  });

  it('a flood of bad items writes a bounded number of log lines; Redis and the counter still see every one', async () => {
    const client = redis.client();
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ format: 'json', destination, level: 'info' });
    const flood = 2000;
    const before = await counted('flood', 'observer.row');
    for (let i = 0; i < flood; i++) await quarantine(client, 'mbflood:', logger, { source: 'flood', kind: 'observer.row', reason: `bad ${i}`, raw: i });
    // Another source's (or kind's) items are not silenced by the flood.
    await quarantine(client, 'mbflood:', logger, { source: 'other', kind: 'moment', reason: 'bad', raw: 0 });
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(lines.some((l) => l.includes('quarantined an invalid moment from other'))).toBe(true);
    expect(await client.llen(quarantineKey('mbflood:'))).toBe(flood + 1);
    expect(await counted('flood', 'observer.row')).toBe(before + flood);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { registry } from '../../src/core/metrics.js';
import { listQuarantined, QUARANTINE_CAP } from '../../src/quarantine/quarantine.js';
import { addQuarantineWrites, countQuarantined, quarantineEntry, type SetAside } from '../../src/queue/set-aside.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { captureLog } from '../helpers/log-capture.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
});

const ev = (n: number, data: unknown = { n }): BridgeEvent => ({
  id: `mom:moment:${n}`,
  source: 'mom',
  kind: 'moment',
  time: '2026-01-01T00:00:00.000Z',
  data,
});

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
}

describe('quarantineEntry', () => {
  it('says why and where: reason, route and connector when known, then the detail', () => {
    const both = quarantineEntry({ event: ev(1), reason: 'unrenderable', detail: 'no such filter', route: 'pager', connector: 'oncall' });
    expect(both).toEqual({
      source: 'mom',
      kind: 'moment',
      reason: 'unrenderable (route "pager", connector "oncall"): no such filter',
      raw: { event: ev(1), route: 'pager', connector: 'oncall' },
    });
    expect(quarantineEntry({ event: ev(2), reason: 'unroutable', detail: 'boom', route: 'r' }).reason).toBe('unroutable (route "r"): boom');
    expect(quarantineEntry({ event: ev(3), reason: 'unroutable', detail: 'boom', connector: 'c' })).toMatchObject({
      reason: 'unroutable (connector "c"): boom',
      raw: { event: ev(3), connector: 'c' },
    });
    const bare = quarantineEntry({ event: ev(4), reason: 'unserializable', detail: 'BigInt' });
    expect(bare.reason).toBe('unserializable: BigInt');
    expect(bare.raw).toEqual({ event: ev(4) });
  });

  it('keeps an event that JSON cannot hold as far as it can be stored', () => {
    const data: Record<string, unknown> = { n: 5n };
    const entry = quarantineEntry({ event: ev(5, data), reason: 'unserializable', detail: 'BigInt' });
    expect(() => JSON.stringify(entry)).not.toThrow();
    expect((entry.raw as { event: { id: string } }).event.id).toBe('mom:moment:5');
  });
});

describe('addQuarantineWrites', () => {
  it('writes every item to the capped quarantine list in one transaction, logs each with what to do, counts after', async () => {
    const { lines, logger } = captureLog('info');
    const client = redis.client();
    const items: SetAside[] = [
      { event: ev(1), reason: 'too_large', detail: '600 KiB', route: 'r', connector: 'c' },
      { event: ev(2), reason: 'unroutable', detail: 'boom' },
    ];
    const multi = client.multi();
    addQuarantineWrites(multi, 'mb:', items, logger);
    expect(await listQuarantined(client, 'mb:')).toEqual([]); // nothing before exec
    await multi.exec();
    const stored = await listQuarantined(client, 'mb:');
    expect(stored.map((s) => s.reason)).toEqual(['unroutable: boom', 'too_large (route "r", connector "c"): 600 KiB']);
    expect(stored[0]!.at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 40, eventId: 'mom:moment:1', route: 'r', connector: 'c', reason: 'too_large', source: 'mom', kind: 'moment' });
    expect(lines[0]!.msg).toBe(
      'set aside mom:moment:1 so the rest of its batch could go on — too_large (route "r", connector "c"): 600 KiB; it is kept in mb:quarantine (fix the cause, then replay it)',
    );

    const before = await metricValue('mb_pipeline_set_aside_total', { source: 'mom', reason: 'too_large', to: 'quarantine' });
    const quarantinedBefore = await metricValue('mb_events_quarantined_total', { source: 'mom', kind: 'moment' });
    countQuarantined(items);
    expect(await metricValue('mb_pipeline_set_aside_total', { source: 'mom', reason: 'too_large', to: 'quarantine' })).toBe(before + 1);
    expect(await metricValue('mb_events_quarantined_total', { source: 'mom', kind: 'moment' })).toBe(quarantinedBefore + 2);
  });

  it('trims the list to QUARANTINE_CAP', async () => {
    const client = redis.client();
    await client.rpush('mb:quarantine', ...Array.from({ length: QUARANTINE_CAP }, (_, i) => `{"old":${i}}`));
    const multi = client.multi();
    addQuarantineWrites(multi, 'mb:', [{ event: ev(1), reason: 'unroutable', detail: 'x' }], captureLog('info').logger);
    await multi.exec();
    expect(await client.llen('mb:quarantine')).toBe(QUARANTINE_CAP);
    expect(await client.lindex('mb:quarantine', -1)).toBe(`{"old":${QUARANTINE_CAP - 2}}`);
  });

  it('adds no command for no items', async () => {
    const client = redis.client();
    const multi = client.multi();
    addQuarantineWrites(multi, 'mb:', [], captureLog('info').logger);
    expect(multi.length).toBe(client.multi().length);
  });
});

import { describe, expect, it } from 'vitest';
import { jumpHash, MAX_PARTITIONS, partitionOf, partitionRateLimit } from '../../src/queue/partitions.js';
import { connectorOfQueue, parseQueueName, queueName } from '../../src/queue/queue-names.js';
import { resolveDeliveryOptions } from '../../src/queue/queue-options.js';

const keys = (n: number, base = 'key') => Array.from({ length: n }, (_, i) => `${base}-${i}`);

function histogram(ks: readonly string[], count: number): number[] {
  const h = Array.from({ length: count }, () => 0);
  for (const k of ks) h[partitionOf(k, count)]!++;
  return h;
}

describe('partitionOf (jump consistent hash of the key)', () => {
  it('is 0 for one partition and stays in range for any count', () => {
    expect(keys(100).map((k) => partitionOf(k, 1))).toEqual(Array.from({ length: 100 }, () => 0));
    for (const n of [2, 3, 7, 64, MAX_PARTITIONS]) for (const k of keys(200)) expect(partitionOf(k, n) >= 0 && partitionOf(k, n) < n).toBe(true);
  });

  it('is a pure function of (key, count): fixed values every process and release agrees on', () => {
    // Pinned: a change here re-partitions every deployed connector (dedup would miss earlier jobs).
    expect([partitionOf('#ops', 4), partitionOf('#alerts', 4), partitionOf('athlete-7', 16), partitionOf('moments:moment:1', 256)]).toMatchInlineSnapshot(`
      [
        2,
        3,
        4,
        116,
      ]
    `);
  });

  it.each([
    [1000, 4, 200, 300],
    [1000, 7, 105, 180],
    [4096, 16, 200, 320],
  ])('spreads %i keys over %i partitions fairly (each between %i and %i)', (n, count, low, high) => {
    const h = histogram(keys(n), count);
    expect(h.reduce((a, b) => a + b, 0)).toBe(n);
    for (const c of h) {
      expect(c).toBeGreaterThanOrEqual(low);
      expect(c).toBeLessThanOrEqual(high);
    }
  });

  it('spreads keys that differ in one character only (channel names, numbered ids)', () => {
    const h = histogram(
      Array.from({ length: 1000 }, (_, i) => `#team-${i}`),
      4,
    );
    for (const c of h) expect(c >= 200 && c <= 300, `${c} of 1000 in one partition`).toBe(true);
  });

  it('moves only the keys a grown count must move: 4 → 5 moves about 1/5, each to the new partition', () => {
    const ks = keys(5000);
    const moved = ks.filter((k) => partitionOf(k, 4) !== partitionOf(k, 5));
    expect(moved.length).toBeGreaterThan(800);
    expect(moved.length).toBeLessThan(1200);
    for (const k of moved) expect(partitionOf(k, 5)).toBe(4);
  });
});

describe('partitionRateLimit (a connector-wide limit shared out over its partitions)', () => {
  it.each([
    [{ max: 120, durationMs: 60_000 }, 4, { max: 30, durationMs: 60_000 }],
    [{ max: 1, durationMs: 1000 }, 4, { max: 1, durationMs: 4000 }],
    [{ max: 6, durationMs: 1000 }, 4, { max: 3, durationMs: 2000 }],
    [{ max: 5, durationMs: 1000 }, 1, { max: 5, durationMs: 1000 }],
  ])('%j over %i partitions → %j each', (limit, n, share) => {
    expect(partitionRateLimit(limit, n)).toEqual(share);
  });

  it('never adds up to more than the configured rate, whatever the counts', () => {
    for (const max of [1, 2, 3, 5, 10, 60, 120, 1000])
      for (const n of [1, 2, 3, 4, 7, 16, 256]) {
        const s = partitionRateLimit({ max, durationMs: 1000 }, n);
        expect(Number.isInteger(s.max)).toBe(true);
        expect((n * s.max) / s.durationMs).toBeCloseTo(max / 1000, 12);
      }
  });
});

describe('partition queue names', () => {
  it('partition 0 is the name a connector always had; others carry @k, inside the hash tag under cluster', () => {
    expect(queueName('ops-slack', { partition: 0 })).toBe('delivery.ops-slack');
    expect(queueName('ops-slack')).toBe('delivery.ops-slack');
    expect(queueName('ops-slack', { partition: 3 })).toBe('delivery.ops-slack@3');
    expect(queueName('ops-slack', { partition: 3, cluster: true })).toBe('{delivery.ops-slack@3}');
  });

  it.each([
    ['ops-slack', 0],
    ['ops-slack', 255],
    ['a@1', 0],
    ['a@1', 2],
    ['a:b{c}', 7],
  ])('%s partition %i reads back', (connector, partition) => {
    for (const cluster of [false, true]) {
      expect(parseQueueName(queueName(connector, { partition, cluster }))).toEqual({ connector, partition });
      expect(connectorOfQueue(queueName(connector, { partition, cluster }))).toBe(connector);
    }
  });

  it('refuses names that are not partition queues', () => {
    for (const bad of ['other', 'delivery.x@', 'delivery.x@0', 'delivery.x@01', 'delivery.x@a']) expect(parseQueueName(bad)).toBeUndefined();
  });
});

describe('partitions option', () => {
  it('defaults to 1 and takes 1 … 256', () => {
    expect(resolveDeliveryOptions({}, {}).partitions).toBe(1);
    expect(resolveDeliveryOptions({}, { partitions: 256 }).partitions).toBe(256);
    expect(() => resolveDeliveryOptions({}, { partitions: 0 })).toThrow(/>=1|too_small|greater than or equal/i);
    expect(() => resolveDeliveryOptions({}, { partitions: 257 })).toThrow(/<=256|too_big|less than or equal/i);
    expect(() => resolveDeliveryOptions({}, { partitions: 1.5 })).toThrow(/int/i);
  });

  it('keeps rateLimit.perPartition', () => {
    expect(resolveDeliveryOptions({}, { rateLimit: { max: 1, duration: '1s', perPartition: true } }).rateLimit).toEqual({
      max: 1,
      durationMs: 1000,
      perPartition: true,
    });
    expect(resolveDeliveryOptions({}, { rateLimit: { max: 1, duration: '1s' } }).rateLimit).toEqual({ max: 1, durationMs: 1000 });
  });
});

describe('jumpHash', () => {
  // The reference implementation's published test vectors (key, buckets → bucket).
  it.each([
    [1n, 1, 0],
    [42n, 57, 43],
    [0xdead10ccn, 1, 0],
    [0xdead10ccn, 666, 361],
    [256n, 1024, 520],
  ])('jumpHash(%s, %i) = %i', (key, n, bucket) => {
    expect(jumpHash(key, n)).toBe(bucket);
  });
});

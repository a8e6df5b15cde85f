import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MomentCursor, normalizeIso } from '../../../src/sources/moments/moment-cursor.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';

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

const T = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('MomentCursor batch commit', () => {
  it('keeps the cursor in <keyBase>cursor, and a damaged id list reads as none', async () => {
    const cursor = new MomentCursor(redis.client(), 't:', 60_000);
    await cursor.commit('a', T(1));
    expect(await redis.client().hget('t:cursor', 'createdAt')).toBe(T(1));
    await redis.client().hset('t:cursor', 'ids', '{damaged');
    expect(await cursor.load()).toEqual({ createdAt: T(1), publicIds: [] });
  });

  it('moves to the newest instant of a batch, lists the ids at it, and marks every id seen', async () => {
    const cursor = new MomentCursor(redis.client(), 't:', 60_000);
    // Out of order on purpose: the newest instant wins, not the last element.
    await cursor.commitMany([
      { publicId: 'a', createdAt: T(1) },
      { publicId: 'c', createdAt: T(3) },
      { publicId: 'b', createdAt: T(2) },
      { publicId: 'd', createdAt: '2026-01-01T00:00:03Z' }, // same instant, other spelling
    ]);
    expect(await cursor.load()).toEqual({ createdAt: T(3), publicIds: ['c', 'd'] });
    expect(await cursor.seenMany(['a', 'b', 'c', 'd', 'e'])).toEqual([true, true, true, true, false]);
    expect(await redis.client().pttl('t:seen')).toBeGreaterThan(50_000);
  });

  it('never moves backwards, and merges ids committed at the same instant by another batch', async () => {
    const cursor = new MomentCursor(redis.client(), 't:', 60_000);
    await cursor.commitMany([{ publicId: 'x', createdAt: T(5) }]);
    await cursor.commitMany([{ publicId: 'old', createdAt: T(4) }]);
    expect(await cursor.load()).toEqual({ createdAt: T(5), publicIds: ['x'] });
    expect(await cursor.seen('old')).toBe(true);
    await cursor.commitMany([
      { publicId: 'y', createdAt: T(5) },
      { publicId: 'x', createdAt: T(5) },
    ]);
    expect(await cursor.load()).toEqual({ createdAt: T(5), publicIds: ['x', 'y'] });
    await cursor.commit('z', T(6));
    expect(await cursor.load()).toEqual({ createdAt: T(6), publicIds: ['z'] });
  });

  it('an empty batch and an empty seen check touch nothing', async () => {
    const cursor = new MomentCursor(redis.client(), 't:', 60_000);
    await cursor.commitMany([]);
    expect(await cursor.seenMany([])).toEqual([]);
    expect(await cursor.load()).toBeUndefined();
    expect(await redis.client().exists('t:seen')).toBe(0);
  });
});

describe('normalizeIso', () => {
  it('gives one text per instant, whatever the ISO form', () => {
    const forms = ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.000Z', '2026-03-01T11:00:00+01:00', '2026-03-01T10:00:00.0Z'];
    expect(new Set(forms.map(normalizeIso))).toEqual(new Set(['2026-03-01T10:00:00.000Z']));
  });

  it('keeps milliseconds and leaves what is not a date untouched', () => {
    expect(normalizeIso('2026-03-01T10:00:00.123456Z')).toBe('2026-03-01T10:00:00.123Z');
    expect(normalizeIso('not a date')).toBe('not a date');
  });

  it('normalises an expanded-year form that ends like the canonical one', () => {
    expect(normalizeIso('+002026-03-01T10:00:00.000Z')).toBe('2026-03-01T10:00:00.000Z');
  });
});

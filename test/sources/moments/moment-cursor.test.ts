import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../../src/redis/embedded-redis.js';
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

/** calls=N of one command in INFO commandstats (0 when it was never called since CONFIG RESETSTAT). */
async function callsOf(client: Redis, command: string): Promise<number> {
  const info = await client.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

describe('MomentCursor round trips', () => {
  it('checks a batch of ids with one ZMSCORE, and an empty batch sends no command at all', async () => {
    const client = redis.client();
    const cursor = new MomentCursor(client, 't:', 60_000);
    await cursor.commitMany([{ publicId: 'a', createdAt: T(1) }]);
    await client.config('RESETSTAT');
    expect(await cursor.seenMany(['a', 'b', 'c'])).toEqual([true, false, false]);
    expect(await cursor.seenMany(['b'])).toEqual([false]);
    await cursor.commitMany([]);
    expect(await callsOf(client, 'zmscore')).toBe(2);
    expect(await callsOf(client, 'zscore')).toBe(0);
    expect(await callsOf(client, 'eval')).toBe(0);
  });

  it('passes on any other Redis error, and keeps using ZMSCORE afterwards', async () => {
    const client = redis.client();
    await client.set('t:seen', 'not a sorted set');
    const cursor = new MomentCursor(client, 't:', 60_000);
    await expect(cursor.seenMany(['a'])).rejects.toThrow(/WRONGTYPE/);
    await client.del('t:seen');
    await client.config('RESETSTAT');
    expect(await cursor.seenMany(['a'])).toEqual([false]);
    expect(await callsOf(client, 'zmscore')).toBe(1);
    expect(await callsOf(client, 'zscore')).toBe(0);
  });
});

describe('MomentCursor on a Redis older than 6.2 (no ZMSCORE)', () => {
  // A real redis-server with ZMSCORE renamed away answers "unknown command", as 6.0 does.
  let dir: string;
  let old: EmbeddedRedis;
  let client: Redis;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mb-redis-old-'));
    const wrapper = join(dir, 'redis-server-without-zmscore');
    writeFileSync(wrapper, '#!/bin/sh\nexec redis-server "$@" --rename-command ZMSCORE ""\n');
    chmodSync(wrapper, 0o755);
    old = new EmbeddedRedis({ dataDir: join(dir, 'data'), binary: wrapper });
    await old.start();
    client = new Redis(old.url, { maxRetriesPerRequest: null }).on('error', () => undefined);
  });
  afterAll(async () => {
    client?.disconnect();
    await old?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('falls back to pipelined ZSCOREs with the same answers, and stops trying ZMSCORE', async () => {
    await expect(client.zmscore('t:seen', 'a')).rejects.toThrow(/unknown command/i);
    const cursor = new MomentCursor(client, 't:', 60_000);
    await cursor.commitMany([
      { publicId: 'a', createdAt: T(1) },
      { publicId: 'c', createdAt: T(2) },
    ]);
    await client.config('RESETSTAT');
    expect(await cursor.seenMany(['a', 'b', 'c'])).toEqual([true, false, true]);
    expect(await cursor.seen('b')).toBe(false);
    expect(await callsOf(client, 'zscore')).toBe(4);
    // The first call learnt that ZMSCORE is missing (one "unknown command"); the second went
    // straight to ZSCORE.
    expect(/^errorstat_ERR:count=(\d+)/m.exec(await client.info('errorstats'))?.[1]).toBe('1');
  });

  it('passes on an error of one pipelined ZSCORE instead of reading it as "not seen"', async () => {
    await client.set('t2:seen', 'not a sorted set');
    await expect(new MomentCursor(client, 't2:', 60_000).seenMany(['a'])).rejects.toThrow(/WRONGTYPE/);
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

  it('keeps a text already in toISOString form as it is, even an impossible calendar date', () => {
    // Date.parse would roll these over to 2 March and 2 January; the cursor keeps the engine's
    // own text rather than move a moment to another day (and skips the parse: ~25 ns vs ~750 ns).
    expect(normalizeIso('2026-02-30T00:00:00.000Z')).toBe('2026-02-30T00:00:00.000Z');
    expect(normalizeIso('2026-01-01T24:00:00.000Z')).toBe('2026-01-01T24:00:00.000Z');
    expect(normalizeIso('2026-02-30T00:00:00Z')).toBe('2026-03-02T00:00:00.000Z');
  });

  it('normalises an expanded-year form that ends like the canonical one', () => {
    expect(normalizeIso('+002026-03-01T10:00:00.000Z')).toBe('2026-03-01T10:00:00.000Z');
  });
});

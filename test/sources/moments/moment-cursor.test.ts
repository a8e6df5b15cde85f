import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { digestWindowSize } from '../../helpers/digest-window-size.js';
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
    expect(await redis.client().pttl('t:seenw')).toBeGreaterThan(50_000);
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
    expect(await redis.client().exists('t:seenw', 't:seen')).toBe(0);
  });
});

/** calls=N of one command in INFO commandstats (0 when it was never called since CONFIG RESETSTAT). */
async function callsOf(client: Redis, command: string): Promise<number> {
  const info = await client.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

describe('MomentCursor round trips', () => {
  it('checks a batch of ids with one EVAL, and an empty batch sends no command at all', async () => {
    const client = redis.client();
    const cursor = new MomentCursor(client, 't:', 60_000);
    await cursor.commitMany([{ publicId: 'a', createdAt: T(1) }]);
    await client.config('RESETSTAT');
    expect(await cursor.seenMany(['a', 'b', 'c'])).toEqual([true, false, false]);
    expect(await cursor.seenMany(['b'])).toEqual([false]);
    await cursor.commitMany([]);
    await cursor.seenMany([]);
    expect(await callsOf(client, 'eval')).toBe(2);
    expect(await callsOf(client, 'evalsha')).toBe(0);
  });

  it('passes on a Redis error (a damaged former seen set) instead of reading it as "not seen"', async () => {
    const client = redis.client();
    await client.set('t:seen', 'not a sorted set');
    const cursor = new MomentCursor(client, 't:', 60_000);
    await expect(cursor.seenMany(['a'])).rejects.toThrow(/WRONGTYPE/);
    await client.del('t:seen');
    expect(await cursor.seenMany(['a'])).toEqual([false]);
  });
});

describe('MomentCursor after an upgrade from the sorted-set layout', () => {
  it('still counts ids of the former seen set as seen while they are inside the window, and no longer writes it', async () => {
    const client = redis.client();
    const now = Date.now();
    // As the former COMMIT_SCRIPT left them: member = public id, score = when it was seen.
    await client.zadd('t:seen', now - 1000, 'recent', now - 120_000, 'stale');
    await client.pexpire('t:seen', 60_000);
    const cursor = new MomentCursor(client, 't:', 60_000);
    expect(await cursor.seenMany(['recent', 'stale', 'new'])).toEqual([true, false, false]);
    await cursor.commitMany([{ publicId: 'new', createdAt: T(1) }]);
    expect(await cursor.seenMany(['recent', 'new'])).toEqual([true, true]);
    expect(await client.zcard('t:seen')).toBe(2);
    expect(await digestWindowSize(client, 't:seenw')).toBe(1);
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

  it('needs no ZMSCORE: the window check uses only commands Redis has long had', async () => {
    await expect(client.zmscore('t:seen', 'a')).rejects.toThrow(/unknown command/i);
    const cursor = new MomentCursor(client, 't:', 60_000);
    await cursor.commitMany([
      { publicId: 'a', createdAt: T(1) },
      { publicId: 'c', createdAt: T(2) },
    ]);
    expect(await cursor.seenMany(['a', 'b', 'c'])).toEqual([true, false, true]);
    expect(await cursor.seen('b')).toBe(false);
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

import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUCKETS_PER_WINDOW, LISTPACK_ENTRIES } from '../../../src/redis/digest-window.js';
import { digestWindowSize } from '../../helpers/digest-window-size.js';
import { SeenWindow } from '../../../src/sources/shared/seen-window.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { ageWindow } from '../../helpers/window-clock.js';

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

const HOUR = 3_600_000;
const TTL = 12 * HOUR;
const SPAN = TTL / BUCKETS_PER_WINDOW;
const ids = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

async function shardKeys(client: Redis, dir: string): Promise<string[]> {
  return (await client.keys(`${dir}:*`)).sort();
}

/** Every shard key's encoding, counted. */
async function encodings(client: Redis, dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const key of await shardKeys(client, dir)) {
    const enc = String(await client.object('ENCODING', key));
    out[enc] = (out[enc] ?? 0) + 1;
  }
  return out;
}

async function markInBatches(window: SeenWindow, list: string[], size = 500): Promise<void> {
  for (let i = 0; i < list.length; i += size) await window.markMany(list.slice(i, i + size));
}

describe('SeenWindow (digest window)', () => {
  it('is exact across buckets: every id marked in the window is seen, no other id is', async () => {
    const client = redis.client();
    const window = new SeenWindow(client, 's:', TTL);
    const marked: string[] = [];
    for (let b = 0; b < 6; b++) {
      const batch = ids(`b${b}`, 400);
      await markInBatches(window, batch);
      marked.push(...batch);
      await ageWindow(client, window.key, SPAN); // the next mark opens a new bucket
    }
    const buckets = Object.keys(await client.hgetall(window.key)).filter((f) => f.startsWith('b'));
    expect(buckets.length).toBeGreaterThanOrEqual(6);
    expect((await window.seenMany(marked)).every(Boolean)).toBe(true);
    expect((await window.seenMany(ids('never', 2000))).some(Boolean)).toBe(false);
    expect(await digestWindowSize(client, window.key)).toBe(marked.length);
  });

  it('keeps an id for at least the window, also when it was added at the very end of a bucket, and forgets it after', async () => {
    const client = redis.client();
    const window = new SeenWindow(client, 's:', TTL);
    await window.markMany(['opens-the-bucket']);
    await ageWindow(client, window.key, SPAN - 60_000); // one minute before the bucket closes
    await window.markMany(['late']);
    expect(Object.keys(await client.hgetall(window.key)).filter((f) => f.startsWith('b'))).toHaveLength(1);
    await ageWindow(client, window.key, TTL - 60_000); // "late" was added a minute less than the window ago
    expect(await window.seenMany(['late', 'opens-the-bucket'])).toEqual([true, true]);
    await ageWindow(client, window.key, 2 * 60_000); // now a minute past the window for "late", past window + span for the bucket
    expect(await window.seenMany(['late', 'opens-the-bucket'])).toEqual([false, false]);
    expect(await shardKeys(client, window.key)).toEqual([]);
  });

  it('forgets expired buckets in its directory, which itself expires after its last bucket', async () => {
    const client = redis.client();
    const window = new SeenWindow(client, 's:', TTL);
    await window.markMany(['a']);
    await ageWindow(client, window.key, TTL + SPAN + 1);
    await window.markMany(['b']);
    const dir = await client.hgetall(window.key);
    expect(Object.keys(dir).filter((f) => f.startsWith('b'))).toHaveLength(1);
    expect(await window.seenMany(['a', 'b'])).toEqual([false, true]);
    const pttl = await client.pttl(window.key);
    expect(pttl).toBeGreaterThan(TTL + SPAN);
    expect(pttl).toBeLessThanOrEqual(TTL + 2 * SPAN);
  });

  it('at a low rate (a few ids per bucket) keeps one listpack key per bucket', async () => {
    const client = redis.client();
    const window = new SeenWindow(client, 's:', TTL);
    for (let b = 0; b < BUCKETS_PER_WINDOW; b++) {
      await window.markMany(ids(`low${b}`, 5));
      await ageWindow(client, window.key, SPAN);
    }
    expect(await encodings(client, window.key)).toEqual({ listpack: BUCKETS_PER_WINDOW });
    expect(await digestWindowSize(client, window.key)).toBe(5 * BUCKETS_PER_WINDOW);
  });

  it('at a high rate (50,000 ids at once) spreads them over shards that all stay listpacks, within 40 bytes per id', async () => {
    const client = redis.client();
    const window = new SeenWindow(client, 's:', TTL);
    const many = ids('high', 50_000);
    await markInBatches(window, many);
    const enc = await encodings(client, window.key);
    expect(Object.keys(enc)).toEqual(['listpack']);
    let bytes = 0;
    let fullest = 0;
    for (const key of await shardKeys(client, window.key)) {
      bytes += Number(await client.memory('USAGE', key, 'SAMPLES', '0'));
      fullest = Math.max(fullest, await client.hlen(key));
    }
    expect(fullest).toBeLessThanOrEqual(LISTPACK_ENTRIES);
    expect(bytes / many.length).toBeLessThan(40);
    expect((await window.seenMany(many.slice(0, 5000))).every(Boolean)).toBe(true);
  });

  it("honours the observer's former per-row keys until they expire", async () => {
    const client = redis.client();
    await client.set('o:seen:row-1', '1', 'PX', 60_000);
    const window = new SeenWindow(client, 'o:', TTL, { kind: 'keys', prefix: 'o:seen:' });
    expect(await window.seenMany(['row-1', 'row-2'])).toEqual([true, false]);
    await client.del('o:seen:row-1');
    expect(await window.seenMany(['row-1'])).toEqual([false]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionCounts } from '../../src/queue/partition-counts.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { until } from '../helpers/until.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('PartitionCounts', () => {
  it("knows the other processes' recent counts, drops those unused for the window, and refreshes in the background", async () => {
    let now = 1_000_000;
    const clock = () => now;
    const make = (count: number) => new PartitionCounts({ redis: redis.client(), key: 'pc:a', count, windowMs: 60_000, refreshMs: 10_000, now: clock });
    const four = make(4);
    expect(await four.recentOthers()).toEqual([]);
    now += 30_000;
    const eight = make(8);
    expect(await eight.recentOthers()).toEqual([4]);
    // The count-4 process has not looked again within refreshMs: its answer is from its first read …
    now += 5_000;
    expect(await four.recentOthers()).toEqual([]);
    // … and past refreshMs it re-reads in the background (the answer after that one includes 8).
    now += 10_000;
    expect(await four.recentOthers()).toEqual([]);
    await until(async () => (await four.recentOthers()).length > 0, 5_000, 'the background refresh');
    expect(await four.recentOthers()).toEqual([8]);
    // 4 last recorded at +45 s; 8 at +30 s. At +100 s, 8 is older than the window for a new reader.
    now = 1_000_000 + 100_000;
    expect(await make(2).recentOthers()).toEqual([4]);
    expect(await redis.client().pttl('pc:a')).toBeGreaterThan(0);
  });

  it('rejects when the first read fails, and tries again on the next call', async () => {
    const down = redis.client().duplicate();
    await down.quit();
    const counts = new PartitionCounts({ redis: down, key: 'pc:b', count: 2, windowMs: 60_000 });
    await expect(counts.recentOthers()).rejects.toThrow();
    await expect(counts.recentOthers()).rejects.toThrow();
  });
});

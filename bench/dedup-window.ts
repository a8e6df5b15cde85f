/**
 * bench/dedup-window: Redis CPU per id of the digest window (src/redis/digest-window.ts) next to
 * the former layout, same Redis, same run. A lookup checks every live bucket, so it is measured
 * with 1 live bucket (the first span after a start), 13 (a steady window: 12 buckets + the current
 * one) and 21 (after a ramp of early closes). Former layout: ZMSCORE on the seen sorted set, and
 * `SET … PX` of a BullMQ-style dedup key (what the add script did per delivery).
 * Redis CPU is `INFO cpu` (user + sys) around each phase, µs per id; batches of 500 ids.
 * Usage: tsx bench/dedup-window.ts [--ids 100000]
 */
import { windowDigest } from '../src/redis/digest-window.js';
import { SeenWindow } from '../src/sources/shared/seen-window.js';
import { ageWindow } from '../test/helpers/window-clock.js';
import { startBenchRedis } from './lib/bridge-rig.js';
import { flag, machine, printJson } from './lib/measure.js';

const IDS = flag('ids', 100_000);
const BATCH = 500;
const TTL = 86_400_000;
const SPAN = TTL / 12;

const redis = await startBenchRedis();
const c = redis.client;
const ids = (tag: string) => Array.from({ length: IDS }, (_, i) => `${tag}-${i}`);

/** Redis CPU µs per id of `fn` over the ids, in batches. */
async function cpuPerId(list: string[], fn: (batch: string[]) => Promise<unknown>): Promise<number> {
  const before = await redis.cpuMs();
  for (let i = 0; i < list.length; i += BATCH) await fn(list.slice(i, i + BATCH));
  return Math.round((((await redis.cpuMs()) - before) * 1000 * 10) / list.length) / 10;
}

try {
  const out: Record<string, number> = {};
  // Former layout.
  const marked = ids('m');
  out.legacyZaddPerId = await cpuPerId(marked, (b) => c.zadd('old:seen', ...b.flatMap((id) => [Date.now(), id])));
  out.legacyZmscorePerId = await cpuPerId(marked, (b) => c.zmscore('old:seen', ...b));
  out.legacyDedupKeySetPerId = await cpuPerId(marked, (b) => {
    const p = c.pipeline();
    for (const id of b) p.set(`old:de:${id}`, id, 'PX', TTL, 'NX');
    return p.exec();
  });
  await c.flushdb();
  // Digest window, by number of live buckets.
  const window = new SeenWindow(c, 'new:', TTL);
  out.windowMarkPerId = await cpuPerId(marked, (b) => window.markMany(b));
  let round = 0;
  for (const live of [1, 13, 21]) {
    while (Object.keys(await c.hgetall(window.key)).filter((f) => f.startsWith('b')).length < live) {
      round += 1;
      // Past 13, new buckets come from a ramp (early closes of full shards), not from time.
      if (live <= 13) await ageWindow(c, window.key, SPAN);
      const fresh = Array.from({ length: live > 13 ? 5000 : 1 }, (_, i) => `open-${round}-${i}`);
      for (let i = 0; i < fresh.length; i += BATCH) await window.markMany(fresh.slice(i, i + BATCH));
    }
    const buckets = Object.keys(await c.hgetall(window.key)).filter((f) => f.startsWith('b')).length;
    out[`windowLookup${buckets}BucketsPerId`] = await cpuPerId(ids('absent'), (b) => window.seenMany(b));
  }
  out.digestNodeUsPerId = (() => {
    const t0 = performance.now();
    for (let i = 0; i < IDS; i++) windowDigest(`d-${i}`);
    return Math.round(((performance.now() - t0) * 1000 * 100) / IDS) / 100;
  })();
  printJson({ bench: 'dedup-window', machine: machine(), ids: IDS, batch: BATCH, redisCpuUs: out });
} finally {
  await redis.stop();
}

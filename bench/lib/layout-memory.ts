import type { Redis } from 'ioredis';
import { deliveryId } from '../../src/queue/delivery-id.js';
import { digestWindowSize } from '../../test/helpers/digest-window-size.js';
import { SeenWindow } from '../../src/sources/shared/seen-window.js';

/**
 * Redis bytes per event of the 24 h dedup state, in the former layout and in the digest window,
 * measured in one run on one Redis by writing the same ids both ways (used_memory before and
 * after each, on an otherwise empty database): what an event costs in each layout, without the
 * rest of the pipeline. The compact claims are written with the same Lua (dw_add) as the queue's
 * claim script, under a queue-like key.
 */
export interface LayoutFigures {
  events: number;
  /** Moments: sorted set member (former) vs seen window. */
  momentSeen: { legacy: number; compact: number };
  /** Observer: one key per row (former) vs seen window. */
  observerSeen: { legacy: number; compact: number };
  /** Delivery claims: BullMQ `de:` key (former) vs claims window. */
  deliveryClaims: { legacy: number; compact: number };
  /** A moments event with one delivery: seen + claim. */
  perEvent: { legacy: number; compact: number };
  /** One id alone in a window (a near-empty bucket: the low-rate cost of a key). */
  loneIdCompactBytes: number;
  /**
   * The digest window in its steady state: ids written at a constant rate for one whole window
   * (`windowS`, short so the bench can run it), bytes per id still in the window at the end.
   * Bucket sizes follow the rate, so this is the figure for any window length at the same
   * ids per bucket; the burst figures above include the ramp of a cold start.
   */
  steady: { windowS: number; ratePerSec: number; ids: number; bytesPerId: number; buckets: number; shardKeys: number; nonListpackKeys: number };
}

const TTL_MS = 86_400_000;
const BATCH = 500;

async function usedMemory(c: Redis): Promise<number> {
  const info = await c.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/** Bytes per id that `write` adds to an empty database. */
async function bytesPer(c: Redis, count: number, write: () => Promise<void>): Promise<number> {
  await c.flushdb();
  const before = await usedMemory(c);
  await write();
  const after = await usedMemory(c);
  await c.flushdb();
  return Math.round(((after - before) / count) * 10) / 10;
}

async function inBatches(count: number, fn: (from: number, to: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i += BATCH) await fn(i, Math.min(count, i + BATCH));
}

/** Runs on `c` (use a database nothing else writes: it is flushed). */
export async function measureLayouts(c: Redis, events: number, windowS = 12): Promise<LayoutFigures> {
  const publicId = (i: number) => `mem-${i}`;
  const rowId = (i: number) => `callSnapshots:C-${i % 40}::${100000 + i}`;
  const delivery = (i: number) => deliveryId(`moments:moment:${publicId(i)}`, 'all-moments', 'sink');
  const now = Date.now();
  const momentLegacy = await bytesPer(c, events, () =>
    inBatches(events, async (from, to) => {
      const args: (string | number)[] = [];
      for (let i = from; i < to; i++) args.push(now, publicId(i));
      await c.zadd('mem:source:moments:seen', ...args);
      await c.pexpire('mem:source:moments:seen', TTL_MS);
    }),
  );
  const momentCompact = await bytesPer(c, events, () =>
    inBatches(events, (from, to) => new SeenWindow(c, 'mem:source:moments:', TTL_MS).markMany(Array.from({ length: to - from }, (_, k) => publicId(from + k)))),
  );
  const observerLegacy = await bytesPer(c, events, () =>
    inBatches(events, async (from, to) => {
      const p = c.pipeline();
      for (let i = from; i < to; i++) p.set(`mem:source:calls:seen:${rowId(i)}`, '1', 'PX', TTL_MS);
      await p.exec();
    }),
  );
  const observerCompact = await bytesPer(c, events, () =>
    inBatches(events, (from, to) => new SeenWindow(c, 'mem:source:calls:', TTL_MS).markMany(Array.from({ length: to - from }, (_, k) => rowId(from + k)))),
  );
  const claimsLegacy = await bytesPer(c, events, () =>
    inBatches(events, async (from, to) => {
      const p = c.pipeline();
      for (let i = from; i < to; i++) p.set(`bull:delivery.sink:de:${delivery(i)}`, delivery(i), 'PX', TTL_MS);
      await p.exec();
    }),
  );
  // SeenWindow's key is `<base>seenw`: base `bull:delivery.sink:clai` gives `bull:delivery.sink:claimsw`,
  // a key as long as the queue's `…:claims`.
  const claimsCompact = await bytesPer(c, events, () =>
    inBatches(events, (from, to) =>
      new SeenWindow(c, 'bull:delivery.sink:clai', TTL_MS).markMany(Array.from({ length: to - from }, (_, k) => delivery(from + k))),
    ),
  );
  const lone = await bytesPer(c, 1, () => new SeenWindow(c, 'mem:source:moments:', TTL_MS).markMany(['alone']));
  const round = (x: number) => Math.round(x * 10) / 10;
  const steady = await steadyWindow(c, events, windowS);
  return {
    events,
    momentSeen: { legacy: momentLegacy, compact: momentCompact },
    observerSeen: { legacy: observerLegacy, compact: observerCompact },
    deliveryClaims: { legacy: claimsLegacy, compact: claimsCompact },
    perEvent: { legacy: round(momentLegacy + claimsLegacy), compact: round(momentCompact + claimsCompact) },
    loneIdCompactBytes: lone,
    steady,
  };
}

/** Writes `events` ids at a constant rate over one window of `windowS` seconds; bytes per live id at the end. */
async function steadyWindow(c: Redis, events: number, windowS: number): Promise<LayoutFigures['steady']> {
  await c.flushdb();
  const before = await usedMemory(c);
  const window = new SeenWindow(c, 'mem:source:moments:', windowS * 1000);
  const batch = 100;
  const t0 = performance.now();
  for (let i = 0; i < events; i += batch) {
    const due = (i / events) * windowS * 1000;
    const wait = due - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await window.markMany(Array.from({ length: Math.min(batch, events - i) }, (_, k) => `steady-${i + k}`));
  }
  const ids = await digestWindowSize(c, window.key); // SCAN also drops keys past their expiry
  const keys = await c.keys(`${window.key}:*`);
  let nonListpack = 0;
  for (const key of keys) if (String(await c.object('ENCODING', key)) !== 'listpack') nonListpack++;
  const after = await usedMemory(c);
  const buckets = Object.keys(await c.hgetall(window.key)).filter((f) => f.startsWith('b')).length;
  await c.flushdb();
  return {
    windowS,
    ratePerSec: Math.round(events / windowS),
    ids,
    bytesPerId: Math.round(((after - before) / ids) * 10) / 10,
    buckets,
    shardKeys: keys.length,
    nonListpackKeys: nonListpack,
  };
}

import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { digestWindowSize } from '../../helpers/digest-window-size.js';
import type { BridgeEvent } from '../../../src/core/event.js';
import { createLogger } from '../../../src/core/log.js';
import { momentsSource } from '../../../src/sources/moments/index.js';
import type { Source, SourceContext } from '../../../src/sources/source.js';
import { simulatorSourceConfig, startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';

// The moments source's micro-batches through `emitBatch`: a burst is handed over in a few
// batches, once each, in order; a refused batch keeps the cursor and comes back by back-fill.

let redis: TestRedis;
let sim: MomentsSimulator;
let batches: BridgeEvent[][];
let logLines: string[];
let failBatches: boolean;
let slowBatchesMs: number;
let source: Source | undefined;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
  batches = [];
  logLines = [];
  failBatches = false;
  slowBatchesMs = 0;
  sim = await startMomentsSimulator({ connectionTimeoutMs: 2000, keepAliveIntervalMs: 300 });
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  await sim.stop();
});

function context(): SourceContext {
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString());
      cb();
    },
  });
  return {
    name: 'moments',
    redis: redis.client(),
    keyPrefix: 'mb:',
    logger: createLogger({ destination, level: 'debug', format: 'json' }),
    configDir: process.cwd(),
    async emit() {
      throw new Error('emit must not be used when emitBatch is there');
    },
    async emitBatch(events) {
      // A real hand-over takes a Redis round trip: yield so arrivals pile up behind it.
      await new Promise((r) => (slowBatchesMs ? setTimeout(r, slowBatchesMs) : setImmediate(r)));
      if (failBatches) throw new Error('redis unavailable (test)');
      batches.push([...events]);
    },
    async quarantine() {},
  };
}

async function startSource(overrides: Record<string, unknown> = {}): Promise<Source> {
  const config = momentsSource.configSchema.parse(
    simulatorSourceConfig(sim, { reconnect: { initialDelay: '50ms', maxDelay: '300ms' }, pageSize: 100, ...overrides }),
  );
  source = momentsSource.create(config, context());
  await source.start();
  await vi.waitFor(() => expect(source!.state().status).toBe('connected'));
  return source;
}

const emittedIds = () => batches.flat().map((e) => e.id);

describe('moments source batches', () => {
  it('a burst of 1,000 live moments (with repeats) arrives exactly once, in createdAt order, in a few batches', async () => {
    await startSource();
    const created: string[] = [];
    const repeats: Parameters<typeof sim.control.createMoment>[0][] = [];
    for (let i = 0; i < 1000; i++) {
      const m = sim.control.createMoment({ athleteId: i % 13 });
      created.push(m.publicId);
      // Every 50th moment is published twice (same publicId) a few moments later.
      if (i % 50 === 0) repeats.push({ publicId: m.publicId, createdAt: m.createdAt, athleteId: m.athleteId });
      if (i % 50 === 3) for (const r of repeats.splice(0)) sim.control.createMoment(r);
    }
    await vi.waitFor(() => expect(emittedIds()).toHaveLength(1000), { timeout: 15_000, interval: 20 });
    await new Promise((r) => setTimeout(r, 200)); // nothing late or twice
    expect(emittedIds()).toEqual(created.map((id) => `moments:moment:${id}`));
    const times = batches.flat().map((e) => e.time);
    expect([...times].sort()).toEqual(times);
    // Batched, not one at a time, and never above the cap.
    expect(batches.length).toBeLessThan(500);
    expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(500);
    // One commit per batch: every id seen, the cursor on the newest.
    expect(await digestWindowSize(redis.client(), 'mb:source:moments:seenw')).toBe(1000);
    expect(await redis.client().hget('mb:source:moments:cursor', 'createdAt')).toBe(times.at(-1));
  });

  it('a refused batch leaves the cursor where it was; its moments are delivered once, in order, when the pipeline is back', async () => {
    await startSource();
    const first = sim.control.createMoment();
    await vi.waitFor(() => expect(emittedIds()).toHaveLength(1));
    failBatches = true;
    const during = Array.from({ length: 40 }, (_, i) => sim.control.createMoment({ athleteId: i }).publicId);
    await vi.waitFor(() => expect(logLines.join('')).toMatch(/could not hand a moment to the pipeline, will back-fill/));
    // Let retries fail a few times: the cursor must not move past any refused moment.
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.client().hgetall('mb:source:moments:cursor')).toMatchObject({ createdAt: first.createdAt, ids: JSON.stringify([first.publicId]) });
    expect(await digestWindowSize(redis.client(), 'mb:source:moments:seenw')).toBe(1);
    failBatches = false;
    await vi.waitFor(() => expect(emittedIds()).toHaveLength(41), { timeout: 8000, interval: 20 });
    await new Promise((r) => setTimeout(r, 200));
    expect(emittedIds()).toEqual([first.publicId, ...during].map((id) => `moments:moment:${id}`));
    expect(await digestWindowSize(redis.client(), 'mb:source:moments:seenw')).toBe(41);
  });

  it('a burst bigger than maxLiveBacklog is not held in memory: the source back-fills it instead, once each, in order', async () => {
    await startSource({ maxLiveBacklog: 20 });
    slowBatchesMs = 30; // the pipeline is slower than the upstream
    const created = Array.from({ length: 300 }, (_, i) => sim.control.createMoment({ athleteId: i % 7 }).publicId);
    await vi.waitFor(() => expect(emittedIds()).toHaveLength(300), { timeout: 20_000, interval: 20 });
    await new Promise((r) => setTimeout(r, 200));
    expect(emittedIds()).toEqual(created.map((id) => `moments:moment:${id}`));
    expect(logLines.join('')).toMatch(/more than 20 live moments waiting; switching to back-fill/);
  });
});

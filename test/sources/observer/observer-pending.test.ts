import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import { ObserverSource } from '../../../src/sources/observer/observer-source.js';
import { PendingEvents } from '../../../src/sources/observer/pending-events.js';
import { observerSourceConfigSchema } from '../../../src/sources/observer/source-config.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { harness, metricValue, waitFor } from './source-harness.js';

let redis: TestRedis;
let sim: RunningObserverSimulator | undefined;
let source: ObserverSource | undefined;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  await sim?.stop();
  sim = undefined;
});

describe('PendingEvents', () => {
  it('retries a refused item with growing delays until it is taken, in order with the rest', async () => {
    const attempts: number[] = [];
    const taken: string[] = [];
    let refuse = 3;
    const p = new PendingEvents<string>({
      initialDelayMs: 20,
      handle: async (v) => {
        if (v === 'a' && refuse-- > 0) {
          attempts.push(Date.now());
          return false;
        }
        taken.push(v);
        return true;
      },
    });
    p.add('a', { droppable: false });
    p.add('b', { droppable: false });
    await waitFor(() => taken.length === 2, 'both taken');
    expect(taken).toEqual(['b', 'a']); // b is not held up behind a's retries
    expect(attempts).toHaveLength(3);
    await p.stop();
  });

  it('lets a burst into a healthy pipeline through whole', async () => {
    const taken: number[] = [];
    const p = new PendingEvents<number>({ cap: 3, handle: async (v) => (taken.push(v), true), onDrop: () => expect.fail('nothing may be dropped') });
    for (let i = 0; i < 50; i++) p.add(i, { droppable: true });
    await waitFor(() => taken.length === 50, 'all 50 taken');
    expect(p.dropped).toBe(0);
    await p.stop();
  });

  it('over the cap, while the pipeline refuses, drops the oldest droppable item only, and says which', async () => {
    const dropped: string[] = [];
    let open = false;
    const p = new PendingEvents<string>({ cap: 3, initialDelayMs: 10_000, handle: async () => open, onDrop: (v) => dropped.push(v) });
    p.add('summary', { droppable: false });
    await new Promise((r) => setTimeout(r, 20)); // refused: the pipeline is blocked now
    expect(p.blocked).toBe(true);
    // r1 goes into hand at once; r2 and r3 are the oldest waiting when the cap is hit.
    for (const v of ['r1', 'r2', 'r3', 'r4']) p.add(v, { droppable: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(dropped).toEqual(['r2', 'r3']);
    expect(p.size).toBe(3); // summary, r1, r4: the undroppable summary is kept
    expect(p.dropped).toBe(2);
    open = true;
    await p.stop();
  });
});

describe('observer source with more rows waiting than maxPendingEvents', () => {
  it('drops the oldest from memory while the pipeline refuses, then re-reads the frame: every row arrives once', async () => {
    await redis.flush();
    sim = await startObserverSimulator({ accessToken: 'tok' });
    sim.control.startCall({ callId: 'P', clients: 1 });
    const config = observerSourceConfigSchema.parse({ type: 'observer', url: sim.url, accessToken: 'tok', frames: [{ callSnapshots: { callId: 'P' } }] });
    const h = harness('pending1', redis.client());
    let down = true;
    const emit = h.ctx.emit;
    h.ctx.emit = async (event) => {
      if (down) throw new Error('Redis is down (test)');
      await emit(event);
    };
    source = new ObserverSource(config, h.ctx, { maxPendingEvents: 20, retryInitialDelayMs: 50 });
    await source.start();
    await waitFor(() => source!.openFrames().includes('callSnapshots:P'), 'frame P open');
    const produced = [sim.control.pushRow({ kind: 'callSnapshots', callId: 'P' })];
    await waitFor(() => h.logs.some((l) => String(l.msg).includes('could not hand a row')), 'the first row refused');
    for (let i = 0; i < 59; i++) produced.push(sim.control.pushRow({ kind: 'callSnapshots', callId: 'P' }));
    await waitFor(async () => (await metricValue('mb_observer_pending_dropped_total', { source: 'pending1' })) >= 30, 'rows dropped over the cap');
    expect(await metricValue('mb_observer_pending_events', { source: 'pending1' })).toBeLessThanOrEqual(20);
    expect(h.logs.filter((l) => String(l.msg).includes('dropping the oldest from memory'))).toHaveLength(1);

    down = false;
    const ids = () => new Set(h.events.filter((e) => e.kind === 'observer.row').map((e) => e.id));
    await waitFor(() => ids().size === produced.length, 'all 60 rows emitted', 15_000);
    expect([...ids()].sort()).toEqual(produced.map((r) => `pending1:observer.row:callSnapshots:P::${String(r.id)}`).sort());
    expect(h.events.filter((e) => e.kind === 'observer.row')).toHaveLength(produced.length);
    expect(h.logs.some((l) => l.msg === 'observer: re-reading a frame whose rows were dropped from memory')).toBe(true);
  });
});

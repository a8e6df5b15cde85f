import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SeenWindow } from '../../../src/sources/shared/seen-window.js';
import type { BridgeEvent } from '../../../src/core/event.js';
import { startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import { ObserverSource } from '../../../src/sources/observer/observer-source.js';
import { observerSourceConfigSchema } from '../../../src/sources/observer/source-config.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { harness, metricValue, waitFor, type Harness } from './source-harness.js';

/**
 * The pipeline refusing a row (Redis down, a queue error) must never cost the row: it is retried
 * until taken and emitted once, it is not marked seen before it was taken, and a row still refused
 * when the source stops comes back on the next start. The moments source has the same guarantee
 * for its batches (test/sources/moments/moment-batches.test.ts).
 */

let redis: TestRedis;
let sim: RunningObserverSimulator | undefined;
const sources: ObserverSource[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
  await sim?.stop();
  sim = undefined;
});

const CALL = 'R';

async function startSource(h: Harness): Promise<ObserverSource> {
  const config = observerSourceConfigSchema.parse({ type: 'observer', url: sim!.url, accessToken: 'tok', frames: [{ callSnapshots: { callId: CALL } }] });
  const source = new ObserverSource(config, h.ctx, { retryInitialDelayMs: 20 });
  sources.push(source);
  await source.start();
  await waitFor(() => source.openFrames().includes(`callSnapshots:${CALL}`), `frame ${CALL} open`);
  return source;
}

/** The harness's emit, refusing row events while `refuse(event)` says so. */
function refusing(h: Harness, refuse: (event: BridgeEvent) => boolean): void {
  const emit = h.ctx.emit;
  h.ctx.emit = async (event) => {
    if (event.kind === 'observer.row' && refuse(event)) throw new Error('the pipeline refuses (test)');
    await emit(event);
  };
}

const rowIds = (h: Harness) => h.events.filter((e) => e.kind === 'observer.row').map((e) => e.id);

describe('an Observer row the pipeline refuses', () => {
  it('is retried until taken: emitted once, never quarantined, not marked seen while refused; the rows after it go on', async () => {
    await redis.flush();
    sim = await startObserverSimulator({ accessToken: 'tok' });
    sim.control.startCall({ callId: CALL, clients: 1 });
    const name = 'refused1';
    const h = harness(name, redis.client());
    const seenWindow = new SeenWindow(redis.client(), `mbtest:source:${name}:`, 86_400_000);
    const seen = async (id: string) => ((await seenWindow.seenMany([`callSnapshots:${CALL}::${id}`]))[0] ? 1 : 0);
    const seenWhileRefused: number[] = [];
    let refusals = 3;
    const first = { id: '' }; // the row to refuse, known once it is pushed
    refusing(h, (event) => {
      if (event.id !== first.id || refusals === 0) return false;
      refusals -= 1;
      return true;
    });
    await startSource(h);

    const r1 = sim.control.pushRow({ kind: 'callSnapshots', callId: CALL });
    first.id = `${name}:observer.row:callSnapshots:${CALL}::${String(r1.id)}`;
    await waitFor(() => refusals < 3, 'the first row refused once');
    seenWhileRefused.push(await seen(String(r1.id)));
    const later = [sim.control.pushRow({ kind: 'callSnapshots', callId: CALL }), sim.control.pushRow({ kind: 'callSnapshots', callId: CALL })];
    const produced = [r1, ...later].map((r) => `${name}:observer.row:callSnapshots:${CALL}::${String(r.id)}`);

    await waitFor(() => produced.every((id) => rowIds(h).includes(id)), 'all three rows emitted');
    await new Promise((r) => setTimeout(r, 100)); // room for a stray second emission
    expect(refusals).toBe(0);
    expect(rowIds(h).sort()).toEqual([...produced].sort()); // each exactly once
    expect(seenWhileRefused).toEqual([0]);
    expect(await seen(String(r1.id))).toBe(1);
    expect(h.quarantined).toEqual([]);
    expect(await metricValue('mb_observer_emit_failures_total', { source: name })).toBe(3);
    expect(h.logs.filter((l) => l.msg === 'observer: could not hand a row to the pipeline; retrying')).toHaveLength(3);
  });

  it('still refused when the source stops, it is emitted by the next start (the frame is read again)', async () => {
    await redis.flush();
    sim = await startObserverSimulator({ accessToken: 'tok' });
    sim.control.startCall({ callId: CALL, clients: 1 });
    const name = 'refused2';
    const down = harness(name, redis.client());
    let refused = 0;
    refusing(down, () => (refused += 1) > 0);
    const before = await startSource(down);
    const rows = [sim.control.pushRow({ kind: 'callSnapshots', callId: CALL }), sim.control.pushRow({ kind: 'callSnapshots', callId: CALL })];
    await waitFor(() => refused >= 2, 'both rows refused');
    await before.stop();
    expect(rowIds(down)).toEqual([]);

    const up = harness(name, redis.client());
    await startSource(up);
    const produced = rows.map((r) => `${name}:observer.row:callSnapshots:${CALL}::${String(r.id)}`);
    await waitFor(() => produced.every((id) => rowIds(up).includes(id)), 'both rows emitted after the restart');
    expect(rowIds(up).sort()).toEqual([...produced].sort());
    expect(up.quarantined).toEqual([]);
  });
});

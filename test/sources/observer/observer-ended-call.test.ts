import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import { ObserverSource } from '../../../src/sources/observer/observer-source.js';
import { observerSourceConfigSchema } from '../../../src/sources/observer/source-config.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { harness, waitFor } from './source-harness.js';

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

describe('observer source: a call that ends while the bridge is away', () => {
  it('reads the ended call’s frames once more, so rows published between the drop and the end are emitted', async () => {
    await redis.flush();
    sim = await startObserverSimulator({ accessToken: 'tok' });
    sim.control.startCall({ callId: 'E', clients: 1 });
    sim.control.startCall({ callId: 'K', clients: 1 });
    const config = observerSourceConfigSchema.parse({
      type: 'observer',
      url: sim.url,
      accessToken: 'tok',
      frames: [{ ongoingCalls: { pollEvery: '50ms', frames: ['callSnapshots', 'clientSnapshots'] } }],
      reconnect: { initialDelay: '20ms', maxDelay: '100ms' },
    });
    const h = harness('ended1', redis.client());
    source = new ObserverSource(config, h.ctx);
    await source.start();
    await waitFor(() => source!.openFrames().length === 4, 'frames of E and K');

    sim.control.refuseConnections(true);
    sim.control.dropSockets();
    await waitFor(() => source!.state().status === 'reconnecting', 'the drop noticed');
    const missed = sim.control.snapshot('E'); // one call row + one client row, while away
    sim.control.endCall('E');
    sim.control.refuseConnections(false);

    await waitFor(() => h.events.some((e) => e.id === 'ended1:observer.call.ended:E'), 'call E ended');
    const rowIds = new Set(h.events.filter((e) => e.kind === 'observer.row').map((e) => e.id));
    expect(missed).toHaveLength(2);
    for (const row of missed) expect([...rowIds].some((id) => id.endsWith(`:${String(row.id)}`))).toBe(true);
    // The drain frames are closed again; only K's frames stay open.
    await waitFor(() => sim!.control.state().frames.length === 2, 'only K followed');
    expect(source.openFrames().sort()).toEqual(['callSnapshots:K', 'clientSnapshots:K:K-c1']);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import { ObserverSource } from '../../../src/sources/observer/observer-source.js';
import { observerSourceConfigSchema } from '../../../src/sources/observer/source-config.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { harness, metricValue, waitFor, type Harness } from './source-harness.js';

/** Limits at the door of the built-in client: message size, and the log volume of a broken server. */

let redis: TestRedis;
let sim: RunningObserverSimulator;
let source: ObserverSource | undefined;
let seq = 0;

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
});

async function setup(extra: Record<string, unknown> = {}): Promise<{ h: Harness; name: string }> {
  await redis.flush();
  sim = await startObserverSimulator({ accessToken: 'tok' });
  sim.control.startCall({ callId: 'L', clients: 1 });
  const name = `limits${++seq}`;
  const config = observerSourceConfigSchema.parse({
    type: 'observer',
    url: sim.url,
    accessToken: 'tok',
    frames: [{ callSnapshots: { callId: 'L' } }],
    reconnect: { initialDelay: '20ms', maxDelay: '100ms' },
    ...extra,
  });
  const h = harness(name, redis.client());
  source = new ObserverSource(config, h.ctx);
  await source.start();
  await waitFor(() => source!.openFrames().includes('callSnapshots:L'), 'frame L open');
  return { h, name };
}

describe('observer source limits', () => {
  it('defaults maxMessageBytes to 16 MiB', () => {
    expect(observerSourceConfigSchema.parse({ type: 'observer', url: 'ws://x', accessToken: 't' }).maxMessageBytes).toBe(16 * 1024 * 1024);
  });

  it('a message over maxMessageBytes drops the connection with a clear log and a metric; the source reconnects and goes on', async () => {
    const { h, name } = await setup({ maxMessageBytes: 64 * 1024 });
    // Under the limit: taken as any row.
    expect(sim.control.sendOversized(60 * 1024)).toBe(1);
    await waitFor(() => h.events.some((e) => String(e.id).includes(':big-')), 'the 60 KiB row as an event');
    const reconnects = await metricValue('mb_observer_reconnects_total', { source: name });

    expect(sim.control.sendOversized(100 * 1024)).toBe(1);
    await waitFor(async () => (await metricValue('mb_observer_reconnects_total', { source: name })) === reconnects + 1, 'a reconnect');
    expect(await metricValue('mb_observer_oversized_messages_total', { source: name })).toBe(1);
    const line = h.logs.find((l) => String(l.msg).includes('over maxMessageBytes'));
    expect(line).toMatchObject({ level: 50, limitBytes: 65536, source: name });
    expect(String(line!.msg)).toMatch(/connection was dropped and is re-opened — raise maxMessageBytes/);
    expect(h.logs.some((l) => l.msg === 'observer: connection lost, reconnecting' && String(l.reason).includes('exceeded maxMessageBytes (65536 bytes)'))).toBe(
      true,
    );
    // The big row itself never became an event; the frame is re-opened and later rows flow.
    expect(h.events.filter((e) => String(e.id).includes(':big-'))).toHaveLength(1);
    await waitFor(() => source!.openFrames().includes('callSnapshots:L'), 'frame L re-opened');
    const row = sim.control.pushRow({ kind: 'callSnapshots', callId: 'L' });
    await waitFor(() => h.events.some((e) => String(e.id).endsWith(`:${String(row.id)}`)), 'a row after the reconnect');
  });

  it('5,000 malformed messages are all counted but logged ten times a minute', async () => {
    const { h, name } = await setup();
    const logged = () => h.logs.filter((l) => String(l.msg).startsWith('observer: skipped a malformed message'));
    for (let i = 0; i < 5000; i++) {
      sim.control.sendMalformed(i % 2 ? 'invalid-json' : 'unknown-type');
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    await waitFor(async () => (await metricValue('mb_observer_malformed_frames_total', { source: name })) === 5000, 'all 5,000 counted', 20_000);
    expect(logged()).toHaveLength(10);
    expect(String(logged().at(-1)!.msg)).toMatch(/mb_observer_malformed_frames_total counts every one/);
    expect(logged()[0]).toMatchObject({ level: 40, reason: expect.stringMatching(/unexpected message shape|not JSON/), preview: expect.any(String) });
    // The connection stayed up through all of it.
    expect(await metricValue('mb_observer_reconnects_total', { source: name })).toBe(0);
    expect(source!.state().status).toBe('connected');
    // Stopping writes the one summary line for the 4,990 left out.
    await source!.stop();
    const summary = h.logs.filter((l) => /more ".*:malformed" log lines suppressed/.test(String(l.msg)));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ suppressed: 4990 });
  });
});

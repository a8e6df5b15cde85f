import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import { ObserverSource } from '../../../src/sources/observer/observer-source.js';
import { observerRowSummary } from '../../../src/sources/observer/row-summary.js';
import { observerSourceConfigSchema } from '../../../src/sources/observer/source-config.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { harness, waitFor } from './source-harness.js';

// The Observer source describes each row for people (BridgeEvent.summary), so connectors' default
// layouts need not know what a row looks like.

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
  await sim?.stop();
});

describe('observer row summary', () => {
  it('titles a row by its source and lists its non-empty columns under their upstream names', () => {
    const event = {
      id: 'calls:observer.row:r1',
      source: 'calls',
      kind: 'observer.row',
      time: '2025-06-01T12:01:00.000Z',
      data: { callId: 'c9', roomId: null, rttMs: 41.5 },
    };
    expect(observerRowSummary(event)).toEqual({
      title: 'Observer: calls',
      headline: 'Observer row from calls',
      fields: [
        { label: 'callId', value: 'c9' },
        { label: 'rttMs', value: 41.5 },
      ],
      context: ['observer.row', 'calls:observer.row:r1', '2025-06-01T12:01:00.000Z'],
    });
  });

  it('is filled in on every row event the source emits', async () => {
    await redis.flush();
    sim = await startObserverSimulator({ accessToken: 'tok-observer-test' });
    const config = observerSourceConfigSchema.parse({
      type: 'observer',
      url: sim.url,
      accessToken: 'tok-observer-test',
      frames: [{ ongoingCalls: { pollEvery: '50ms', frames: ['callSnapshots'] } }],
      requestTimeout: '2s',
      reconnect: { initialDelay: '20ms', maxDelay: '100ms' },
    });
    const h = harness('calls-summary', redis.client());
    source = new ObserverSource(config, h.ctx);
    await source.start();
    sim.control.startCall({ callId: 'A', clients: ['a1'] });
    sim.control.snapshot('A');
    const row = (await waitFor(() => h.events.find((e) => e.kind === 'observer.row'), 'a row event'))!;
    const { summary, ...bare } = row;
    expect(summary).toEqual(observerRowSummary(bare));
    expect(summary!.fields!.map((f) => f.label)).toContain('callId');
  });
});

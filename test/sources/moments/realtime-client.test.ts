import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger, type Logger } from '../../../src/core/log.js';
import type { MomentsConnectionState } from '../../../src/sources/moments/moments-api.js';
import { MomentsClient } from '../../../src/sources/moments/moments-client.js';
import type { MomentsRealtimeError } from '../../../src/sources/moments/moments-errors.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';

const CONNECTION_TIMEOUT_MS = 1000;
let sim: MomentsSimulator;
let logLines: string[] = [];
const clients: MomentsClient[] = [];

function captureLogger(): Logger {
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString());
      cb();
    },
  });
  return createLogger({ destination, level: 'debug', format: 'json' });
}

async function connectedClient(options: { realtimeAuth?: 'subprotocol' | 'query' } = {}) {
  const c = new MomentsClient({
    cognitoEndpoint: sim.cognitoEndpoint,
    clientId: 'sim-client',
    graphqlUrl: sim.graphqlUrl,
    realtimeAuth: options.realtimeAuth,
    logger: captureLogger(),
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  clients.push(c);
  const states: MomentsConnectionState[] = [];
  c.onConnectionStateChange((s) => states.push(s));
  const protocolErrors: MomentsRealtimeError[] = [];
  c.realtime.on('protocolError', (e) => protocolErrors.push(e));
  await c.login('demo', 'demo-password');
  const moments: Array<Record<string, unknown>> = [];
  c.onMoments((m) => moments.push(m));
  const subscribed = () => states.filter((s) => s.status === 'subscribed').length;
  return { c, states, moments, protocolErrors, subscribed };
}

beforeAll(async () => {
  sim = await startMomentsSimulator({ connectionTimeoutMs: CONNECTION_TIMEOUT_MS, keepAliveIntervalMs: 200 });
});
afterEach(async () => {
  sim.control.resumeKeepAlives();
  await Promise.all(clients.splice(0).map((c) => c.close()));
  logLines = [];
});
afterAll(async () => {
  await sim.stop();
});

describe('AppSync real-time client', () => {
  it.each(['subprotocol', 'query'] as const)('subscribes and receives data (auth via %s)', async (realtimeAuth) => {
    const { moments, subscribed } = await connectedClient({ realtimeAuth });
    await vi.waitFor(() => expect(subscribed()).toBe(1));
    const created = sim.control.createMoment({ athleteId: 9 });
    await vi.waitFor(() => expect(moments).toHaveLength(1));
    expect(moments[0]).toMatchObject({ publicId: created.publicId, athleteId: 9, eventId: 7, matches: [{ metric: 'heartrate' }] });
  });

  it('runs several subscriptions on one socket', async () => {
    const { c, subscribed } = await connectedClient();
    const triggers: unknown[] = [];
    const updates: unknown[] = [];
    c.onTriggerCreated((t) => triggers.push(t));
    c.onTriggerUpdated((t) => updates.push(t));
    await vi.waitFor(() => expect(subscribed()).toBe(1));
    expect(sim.control.stats()).toMatchObject({ openSockets: 1, activeSubscriptions: 3 });
    const t = sim.control.createTrigger({ name: 'Power > 400 W' });
    sim.control.updateTrigger(t.publicId, { isActive: 0 });
    await vi.waitFor(() => expect(updates).toHaveLength(1));
    expect(triggers).toMatchObject([{ publicId: t.publicId, isActive: 1 }]);
    expect(updates).toMatchObject([{ publicId: t.publicId, isActive: 0 }]);
  });

  it('detects keep-alive loss within connectionTimeoutMs and recovers', async () => {
    const { states, moments, subscribed } = await connectedClient();
    await vi.waitFor(() => expect(subscribed()).toBe(1));
    sim.control.pauseKeepAlives();
    const pausedAt = Date.now();
    await vi.waitFor(() => expect(states.some((s) => s.status === 'reconnecting')).toBe(true), { timeout: 3000, interval: 10 });
    const detectedAfter = Date.now() - pausedAt;
    // The last ka came at most one ka interval (200 ms) before the pause, so detection is due by
    // connectionTimeoutMs after the pause; the extra 300 ms only absorbs timer lag on a busy CI box.
    expect(detectedAfter).toBeLessThanOrEqual(CONNECTION_TIMEOUT_MS + 300);
    expect(detectedAfter).toBeGreaterThanOrEqual(CONNECTION_TIMEOUT_MS - 250);
    expect(logLines.join('')).toMatch(/no keep-alive within 1000 ms, reconnecting/);
    sim.control.resumeKeepAlives();
    await vi.waitFor(() => expect(subscribed()).toBe(2), { timeout: 3000 });
    sim.control.createMoment();
    await vi.waitFor(() => expect(moments).toHaveLength(1));
  });

  it('server drop → reconnect with backoff → re-subscribe, with a fresh token when the old one expired', async () => {
    const { c, states, moments, subscribed } = await connectedClient();
    await vi.waitFor(() => expect(subscribed()).toBe(1));
    const s0 = sim.control.stats();
    sim.control.expireTokens();
    expect(sim.control.dropSockets()).toBe(1);
    await vi.waitFor(() => expect(subscribed()).toBe(2), { timeout: 3000 });
    const s1 = sim.control.stats();
    const reconnecting = states.filter((s) => s.status === 'reconnecting');
    expect(reconnecting[0]).toMatchObject({ attempt: 1, nextRetryInMs: expect.any(Number) });
    expect(states.at(-1)).toMatchObject({ status: 'subscribed', reconnect: true });
    expect(s1.startsReceived - s0.startsReceived).toBe(1);
    expect(s1.refreshLogins).toBeGreaterThan(s0.refreshLogins);
    sim.control.createMoment({ athleteId: 4242 });
    await vi.waitFor(() => expect(moments).toMatchObject([{ athleteId: 4242 }]));
    expect(c.realtime.state().status).toBe('connected');
  });

  it('keeps retrying while the endpoint refuses, with growing capped delays', async () => {
    const { states, subscribed } = await connectedClient();
    await vi.waitFor(() => expect(subscribed()).toBe(1));
    sim.control.refuseRealtime(true);
    sim.control.dropSockets();
    await vi.waitFor(() => expect(states.filter((s) => s.status === 'reconnecting').length).toBeGreaterThanOrEqual(4), { timeout: 3000 });
    sim.control.refuseRealtime(false);
    await vi.waitFor(() => expect(subscribed()).toBe(2), { timeout: 3000 });
    const attempts = states.flatMap((s) => (s.status === 'reconnecting' ? [s] : []));
    expect(attempts.map((s) => s.attempt).slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(attempts.every((s) => s.nextRetryInMs <= 200)).toBe(true);
    expect(attempts[1]!.lastError).toMatch(/HTTP 503/);
  });
});

describe('protocol errors are logged and survived', () => {
  it('an unknown subscription field is refused clearly; the other subscriptions keep working', async () => {
    const { c, moments, protocolErrors, subscribed } = await connectedClient();
    const refused: MomentsRealtimeError[] = [];
    c.realtime.subscribe('subscription { onDeleteEverything { publicId } }', {}, { next: () => undefined, error: (e) => refused.push(e) });
    await vi.waitFor(() => expect(subscribed()).toBe(1));
    expect(refused).toHaveLength(1);
    expect(refused[0]!.message).toMatch(
      /refused: ValidationError: Cannot query field "onDeleteEverything" on type "Subscription".*check the subscription documents/,
    );
    expect(protocolErrors.map((e) => e.code)).toContain('moments_realtime_subscription_error');
    expect(logLines.join('')).toMatch(/onDeleteEverything/);
    sim.control.createMoment();
    await vi.waitFor(() => expect(moments).toHaveLength(1));
  });

  it('a malformed JSON frame is logged and ignored', async () => {
    const { moments, protocolErrors, subscribed } = await connectedClient();
    await vi.waitFor(() => expect(subscribed()).toBe(1));
    sim.control.sendRaw('{"type": "data", broken');
    sim.control.sendRaw('"just a string"');
    sim.control.sendRaw('{"type":"surprise"}');
    await vi.waitFor(() => expect(protocolErrors).toHaveLength(3));
    expect(protocolErrors.map((e) => e.code)).toEqual([
      'moments_realtime_malformed_frame',
      'moments_realtime_malformed_frame',
      'moments_realtime_unknown_frame',
    ]);
    expect(logLines.join('')).toMatch(/ignored a frame that is not a JSON object/);
    sim.control.createMoment();
    await vi.waitFor(() => expect(moments).toHaveLength(1));
    expect(sim.control.stats().realtimeConnections).toBeGreaterThan(0);
  });

  it('connection_error is logged, then the client reconnects and re-subscribes', async () => {
    const { moments, protocolErrors, subscribed } = await connectedClient();
    await vi.waitFor(() => expect(subscribed()).toBe(1));
    sim.control.sendConnectionError('LimitExceededError');
    await vi.waitFor(() => expect(subscribed()).toBe(2), { timeout: 3000 });
    expect(protocolErrors.map((e) => e.message)).toEqual([
      expect.stringMatching(/connection_error: LimitExceededError: Simulated connection error; reconnecting/),
    ]);
    expect(logLines.join('')).toMatch(/connection_error: LimitExceededError/);
    sim.control.createMoment();
    await vi.waitFor(() => expect(moments).toHaveLength(1));
  });
});

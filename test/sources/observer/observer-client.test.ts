import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import type { DataFrame } from '../../../src/sources/observer/data-frame.js';
import { ObserverClient } from '../../../src/sources/observer/observer-client.js';
import { ObserverError } from '../../../src/sources/observer/observer-errors.js';
import type { MalformedMessage } from '../../../src/sources/observer/observer-protocol.js';
import { waitFor } from './source-harness.js';

let sim: RunningObserverSimulator;
const clients: ObserverClient[] = [];

beforeEach(async () => {
  sim = await startObserverSimulator({ accessToken: 'client-test-token' });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await sim.stop();
});

async function connected(options: Partial<ConstructorParameters<typeof ObserverClient>[0]> = {}): Promise<ObserverClient> {
  const client = new ObserverClient({ url: sim.url, getAccessToken: () => 'client-test-token', requestTimeoutMs: 1_000, ...options });
  clients.push(client);
  await client.connect();
  return client;
}

describe('ObserverClient', () => {
  it('authenticates with the token from getAccessToken() and answers the documented queries', async () => {
    let tokenCalls = 0;
    sim.control.startCall({ callId: 'k1', roomId: 'lobby', clients: ['u1', 'u2'] });
    const client = await connected({ getAccessToken: async () => (tokenCalls++, 'client-test-token') });
    expect(tokenCalls).toBe(1);
    expect(client.connected).toBe(true);
    expect(await client.fetchOngoingCalls()).toEqual([
      expect.objectContaining({
        callId: 'k1',
        roomId: 'lobby',
        clients: [expect.objectContaining({ clientId: 'u1' }), expect.objectContaining({ clientId: 'u2' })],
      }),
    ]);
    expect(await client.findCalls({ roomId: 'lobby' })).toEqual([expect.objectContaining({ callId: 'k1' })]);
    expect(await client.findCalls({ roomId: 'elsewhere' })).toEqual([]);
    sim.control.snapshot();
    expect(await client.getSummaryStats({ window: '1m' })).toMatchObject({
      ongoingCalls: 1,
      clients: 2,
      avgRttMs: expect.any(Number),
      params: { window: '1m' },
    });
  });

  it('rejects a bad token with observer_unauthorized', async () => {
    const client = new ObserverClient({ url: sim.url, getAccessToken: () => 'wrong-token-here' });
    clients.push(client);
    await expect(client.connect()).rejects.toMatchObject({ code: 'observer_unauthorized', isAuthFailure: true });
  });

  it('reports a refused upgrade with the HTTP status', async () => {
    sim.control.refuseConnections(true, 503);
    const client = new ObserverClient({ url: sim.url, getAccessToken: () => 'client-test-token' });
    clients.push(client);
    await expect(client.connect()).rejects.toMatchObject({ code: 'observer_connect_failed', message: expect.stringContaining('HTTP 503') });
  });

  it('turns error answers into ObserverError with the server code, and times out requests without losing the connection', async () => {
    const client = await connected({ requestTimeoutMs: 200 });
    await expect(client.createCallSnapshotsFrame('nope')).rejects.toMatchObject({ code: 'observer_not_found', method: 'createFrame' });
    sim.control.failRequests({ method: 'fetchOngoingCalls', code: 'internal', message: 'db down', count: 1 });
    await expect(client.fetchOngoingCalls()).rejects.toThrow(/Observer rejected fetchOngoingCalls: db down \(internal\)/);
    sim.control.delayRequests({ method: 'fetchOngoingCalls', ms: 600, count: 1 });
    const err = await client.fetchOngoingCalls().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObserverError);
    expect(err).toMatchObject({ code: 'observer_timeout', message: expect.stringMatching(/fetchOngoingCalls \(requestId \d+\) got no answer within 200 ms/) });
    expect(await client.fetchOngoingCalls()).toEqual([]);
    expect(client.connected).toBe(true);
  });

  it('frames: update() pulls rows once, pushes arrive as newrow, sort orders iteration, the server closes frames of ended calls', async () => {
    sim.control.startCall({ callId: 'k2', clients: 1 });
    const early = [
      sim.control.pushRow({ kind: 'callSnapshots', callId: 'k2', row: { timestamp: 3000 } }),
      sim.control.pushRow({ kind: 'callSnapshots', callId: 'k2', row: { timestamp: 1000 } }),
    ];
    const client = await connected({ sort: (a, b) => Number(a.timestamp) - Number(b.timestamp) });
    const frame: DataFrame = await client.createCallSnapshotsFrame('k2');
    const seen: unknown[] = [];
    frame.on('newrow', (row) => seen.push(row.id));
    expect((await frame.update()).map((r) => r.id)).toEqual([early[1]!.id, early[0]!.id]);
    expect(await frame.update()).toEqual([]);
    const live = sim.control.pushRow({ kind: 'callSnapshots', callId: 'k2', row: { timestamp: 2000 } });
    await waitFor(() => seen.length === 3, 'pushed row');
    const iterated: unknown[] = [];
    for await (const row of frame) iterated.push(row.timestamp);
    expect(iterated).toEqual([1000, 2000, 3000]);
    expect(seen).toEqual([early[1]!.id, early[0]!.id, live.id]);

    const reasons: string[] = [];
    frame.on('close', (r) => reasons.push(r));
    sim.control.endCall('k2');
    await waitFor(() => reasons.length === 1, 'close event');
    expect(reasons).toEqual(['call ended']);
    expect(frame.closed).toBe(true);
  });

  it('close() of a frame tells the server; database frames honour conditions and updateOnCreate', async () => {
    sim.control.pushRow({ kind: 'database', resource: 'alerts', row: { id: 'a', level: 'warn' } });
    sim.control.pushRow({ kind: 'database', resource: 'alerts', row: { id: 'b', level: 'info' } });
    const client = await connected();
    const frame = await client.createDatabaseFrame('alerts', { level: 'warn' }, true);
    expect(frame.toArray().map((r) => r.id)).toEqual(['a']);
    expect(sim.control.state().frames).toHaveLength(1);
    await frame.close();
    await waitFor(() => sim.control.state().frames.length === 0, 'frame closed on the server');
  });

  it('a malformed message is reported as an event, not an exception', async () => {
    const client = await connected();
    const malformed: MalformedMessage[] = [];
    client.on('malformed', (m) => malformed.push(m));
    sim.control.sendMalformed('invalid-json');
    sim.control.sendMalformed('unknown-type');
    await waitFor(() => malformed.length === 2, 'two malformed events');
    expect(malformed[0]).toMatchObject({ reason: expect.stringMatching(/^not JSON/), preview: '{"type":"frame","frameId":' });
    expect(malformed[1]!.reason).toMatch(/^unexpected message shape/);
    expect(await client.fetchOngoingCalls()).toEqual([]);
  });

  it('a dead connection (no pong) is detected by the ping and ends in close; pending requests fail as disconnected', async () => {
    const client = await connected({ pingIntervalMs: 50, requestTimeoutMs: 5_000 });
    const closes: Array<{ byClient: boolean }> = [];
    client.on('close', (info) => closes.push(info));
    sim.control.mutePongs(true);
    sim.control.delayRequests({ method: 'fetchOngoingCalls', ms: 3_000 });
    const pending = client.fetchOngoingCalls().catch((e: unknown) => e);
    await waitFor(() => closes.length === 1, 'close after missing pongs');
    expect(closes[0]!.byClient).toBe(false);
    expect(await pending).toMatchObject({ code: 'observer_disconnected' });
    await expect(client.fetchOngoingCalls()).rejects.toMatchObject({ code: 'observer_disconnected' });
  });

  it('refuses a non-WebSocket url at construction', () => {
    expect(() => new ObserverClient({ url: 'http://example.com', getAccessToken: () => 'x' })).toThrow(/must start with ws:\/\/ or wss:\/\//);
  });
});

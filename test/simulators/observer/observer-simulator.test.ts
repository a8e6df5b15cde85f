import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../../../src/core/log.js';
import { runObserverSimulator, startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import { ClientStatsWalk, seededRandom } from '../../../simulators/observer/webrtc-stats.js';
import { OBSERVER_SUBPROTOCOL, decodeServerMessage, encodeClientMessage, type DecodedServerMessage } from '../../../src/sources/observer/observer-protocol.js';
import { identifyRow } from '../../../src/sources/observer/row-identity.js';

let sim: RunningObserverSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function post(path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sim!.controlUrl}/${path}`, {
    method: 'POST',
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** A raw protocol session: every decoded server message lands in `messages`. */
async function rawSession(): Promise<{ ws: WebSocket; messages: DecodedServerMessage[]; closed: Promise<number> }> {
  const ws = new WebSocket(sim!.url, [OBSERVER_SUBPROTOCOL]);
  const messages: DecodedServerMessage[] = [];
  ws.on('message', (d) => {
    const m = decodeServerMessage(d.toString());
    if (!('reason' in m && 'preview' in m)) messages.push(m as DecodedServerMessage);
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  return { ws, messages, closed };
}

async function until<T>(f: () => T | undefined): Promise<T> {
  for (let i = 0; i < 250; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met');
}

describe('observer simulator', () => {
  it('serves the protocol: authenticate first, errors with codes, frames with pushed rows', async () => {
    sim = await startObserverSimulator({ accessToken: 'sim-secret' });
    const { ws, messages } = await rawSession();
    expect(ws.protocol).toBe(OBSERVER_SUBPROTOCOL);
    const send = (requestId: string, method: string, params: Record<string, unknown> = {}) =>
      ws.send(encodeClientMessage({ type: 'request', requestId, method, params }));
    const answer = (id: string) => until(() => messages.find((m) => 'requestId' in m && m.requestId === id));

    send('1', 'fetchOngoingCalls');
    expect(await answer('1')).toMatchObject({ type: 'error', error: { code: 'unauthenticated' } });
    send('2', 'authenticate', { accessToken: 'sim-secret' });
    expect(await answer('2')).toMatchObject({ type: 'response', result: { sessionId: expect.any(String), pingIntervalMs: 15_000 } });
    send('3', 'noSuchMethod');
    expect(await answer('3')).toMatchObject({ type: 'error', error: { code: 'unknown_method' } });
    send('4', 'createFrame', { kind: 'callSnapshots' });
    expect(await answer('4')).toMatchObject({ type: 'error', error: { code: 'bad_request' } });

    sim.control.startCall({ callId: 'q', clients: ['x'] });
    send('5', 'createFrame', { kind: 'clientSnapshots', callId: 'q', clientId: 'x' });
    const created = (await answer('5')) as { result: { frameId: string } };
    const [row] = sim.control.snapshot('q').filter((r) => r.clientId === 'x');
    const pushed = await until(() => messages.find((m) => m.type === 'frame' && m.event === 'newrow'));
    expect(pushed).toEqual({ type: 'frame', frameId: created.result.frameId, event: 'newrow', row });
    ws.send(encodeClientMessage({ type: 'ping', nonce: 'n1' }));
    expect(await until(() => messages.find((m) => m.type === 'pong'))).toEqual({ type: 'pong', nonce: 'n1' });
    ws.close();
  });

  it('closes a session whose token is wrong with 4401', async () => {
    sim = await startObserverSimulator({ accessToken: 'sim-secret' });
    const { ws, messages, closed } = await rawSession();
    ws.send(encodeClientMessage({ type: 'request', requestId: 'a', method: 'authenticate', params: { accessToken: 'nope' } }));
    expect(await closed).toBe(4401);
    expect(messages[0]).toMatchObject({ type: 'error', requestId: 'a', error: { code: 'unauthorized' } });
  });

  it('has an HTTP control API', async () => {
    sim = await startObserverSimulator();
    const started = await post('start-call', { callId: 'h1', clients: 2 });
    expect(started).toMatchObject({ status: 200, json: { callId: 'h1', clients: [{ clientId: 'h1-c1' }, { clientId: 'h1-c2' }] } });
    const snap = await post('snapshot', { callId: 'h1' });
    expect(snap.json.rows).toHaveLength(3);
    expect((await post('push-row', { kind: 'database', resource: 'r', row: { id: 'z' } })).json).toMatchObject({ id: 'z' });
    expect((await post('refuse-connections', { refuse: true, status: 502 })).status).toBe(200);
    const refused = await new Promise<number>((r) =>
      new WebSocket(sim!.url, [OBSERVER_SUBPROTOCOL]).on('unexpected-response', (_q, res) => r(res.statusCode ?? 0)).on('error', () => undefined),
    );
    expect(refused).toBe(502);
    await post('clear-faults');
    expect((await post('end-call', { callId: 'h1' })).json).toEqual({ ended: true });
    const state = await fetch(`${sim.controlUrl}/state`).then((r) => r.json());
    expect(state).toMatchObject({ connections: 0, calls: [] });
    expect(await post('no-such-action')).toMatchObject({ status: 400, json: { error: expect.stringContaining('unknown control action') } });
    expect(await post('start-call', '{oops')).toMatchObject({ status: 400, json: { error: expect.stringContaining('not JSON') } });
    expect(await post('start-call', { callId: 'h2' }).then(() => post('start-call', { callId: 'h2' }))).toMatchObject({
      status: 400,
      json: { error: 'call h2 is already ongoing' },
    });
  });

  it('snapshot rows carry plausible WebRTC stats and are usable by the source', async () => {
    sim = await startObserverSimulator({ seed: 7 });
    sim.control.startCall({ callId: 's', clients: 3 });
    const rows = sim.control.snapshot();
    expect(identifyRow({ kind: 'callSnapshots', callId: 's', discovered: true }, rows[0])).toMatchObject({ ok: true, timeFromRow: true });
    for (const row of rows.slice(1)) {
      expect(identifyRow({ kind: 'clientSnapshots', callId: 's', clientId: String(row.clientId), discovered: true }, row)).toMatchObject({
        ok: true,
        timeFromRow: true,
      });
      expect(row).toMatchObject({ id: expect.any(String), timestamp: expect.any(Number), rttMs: expect.any(Number), packetLoss: expect.any(Number) });
    }
    const walk = new ClientStatsWalk(seededRandom(3));
    let prevReceived = 0;
    for (let i = 0; i < 500; i++) {
      const s = walk.next(1000);
      expect(s.rttMs).toBeGreaterThanOrEqual(15);
      expect(s.rttMs).toBeLessThanOrEqual(600);
      expect(s.packetLoss).toBeGreaterThanOrEqual(0);
      expect(s.packetLoss).toBeLessThanOrEqual(0.25);
      expect(s.jitterMs).toBeLessThanOrEqual(80);
      expect(s.inboundBitrate).toBeGreaterThanOrEqual(80_000);
      expect(s.inboundBitrate).toBeLessThanOrEqual(2_500_000);
      expect(s.packetsReceived).toBeGreaterThan(prevReceived);
      prevReceived = s.packetsReceived;
    }
  });

  it('runObserverSimulator seeds calls, logs its url and stops on abort', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ format: 'json', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
    const abort = new AbortController();
    const done = runObserverSimulator({ calls: 2, clientsPerCall: 1, churnEvery: 0, snapshotEvery: 60_000, signal: abort.signal, logger });
    const listening = await until(() => lines.find((l) => l.msg === 'observer simulator listening'));
    const state = await fetch(`${String(listening.control)}/state`).then((r) => r.json() as Promise<any>);
    expect(state.calls).toHaveLength(2);
    abort.abort();
    await done;
    expect(lines.at(-1)).toMatchObject({ msg: 'observer simulator stopped' });
  });
});

import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger, type Logger } from '../../../../src/core/log.js';
import { registry } from '../../../../src/core/metrics.js';
import { RealtimeClient } from '../../../../src/sources/moments/appsync/realtime-client.js';
import type { RealtimeClientOptions, RealtimeState } from '../../../../src/sources/moments/appsync/realtime-options.js';

/**
 * A small hostile AppSync real-time peer: it speaks just enough of the protocol to be connected
 * to, and sends whatever the test tells it to (absurd ack values, unknown frames, huge messages).
 */
interface HostileBehaviour {
  /** The `connection_ack` payload. */
  ack?: Record<string, unknown>;
  /** Send `ka` this often after the ack (0: never). */
  kaEveryMs?: number;
  /** Close the socket this long after the ack (undefined: keep it). */
  closeAfterAckMs?: number;
  /** Answer each `start` with `start_ack`. @defaultValue true */
  startAck?: boolean;
}

interface HostilePeer {
  url: string;
  connections: number;
  sockets: WebSocket[];
  behave(b: HostileBehaviour): void;
  close(): Promise<void>;
}

async function hostilePeer(initial: HostileBehaviour): Promise<HostilePeer> {
  let behaviour = initial;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('graphql-ws') ? 'graphql-ws' : false) });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const peer: HostilePeer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql/realtime`,
    connections: 0,
    sockets: [],
    behave: (b) => (behaviour = b),
    close: async () => {
      for (const s of wss.clients) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on('connection', (socket) => {
    peer.connections++;
    peer.sockets.push(socket);
    const timers: NodeJS.Timeout[] = [];
    socket.on('close', () => timers.forEach((t) => clearInterval(t)));
    socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { type: string; id?: string };
      const b = behaviour;
      if (frame.type === 'connection_init') {
        socket.send(JSON.stringify({ type: 'connection_ack', payload: b.ack ?? { connectionTimeoutMs: 300_000 } }));
        if (b.kaEveryMs) timers.push(setInterval(() => socket.send('{"type":"ka"}'), b.kaEveryMs));
        if (b.closeAfterAckMs !== undefined) timers.push(setTimeout(() => socket.close(1011, 'hostile'), b.closeAfterAckMs));
      }
      if (frame.type === 'start' && b.startAck !== false) socket.send(JSON.stringify({ type: 'start_ack', id: frame.id }));
    });
  });
  return peer;
}

const peers: HostilePeer[] = [];
const clients: RealtimeClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger({ destination, level: 'debug', format: 'json' }), lines };
}

function client(peer: HostilePeer, logger: Logger, extra: Partial<RealtimeClientOptions> = {}): { c: RealtimeClient; states: RealtimeState[] } {
  const c = new RealtimeClient({
    url: peer.url,
    host: 'example.test',
    token: async () => 't',
    refreshToken: async () => 't',
    logger,
    initialDelayMs: 50,
    maxDelayMs: 2_000,
    ...extra,
  });
  const states: RealtimeState[] = [];
  c.on('state', (s) => states.push(s));
  clients.push(c);
  c.start();
  return { c, states };
}

async function counterValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AppSync real-time client against a hostile peer', () => {
  it.each([
    { sent: 1e12, used: 600_000, logged: /connectionTimeoutMs 1000000000000 is outside 1000…600000 ms; using 600000 ms/ },
    { sent: -5, used: 1_000, logged: /connectionTimeoutMs -5 is outside 1000…600000 ms; using 1000 ms/ },
    { sent: 'abc', used: 300_000, logged: /connectionTimeoutMs \\"abc\\" is not a number; using AppSync's 300000 ms/ },
  ])('an ack with connectionTimeoutMs $sent gives one connection with a $used ms watchdog, no storm', async ({ sent, used, logged }) => {
    const peer = await hostilePeer({ ack: { connectionTimeoutMs: sent }, kaEveryMs: 200 });
    peers.push(peer);
    const { logger, lines } = capture();
    const { c } = client(peer, logger);
    await sleep(3_000);
    expect(peer.connections).toBe(1);
    expect(c.state().status).toBe('connected');
    expect(c.keepAliveTimeoutMs()).toBe(used);
    const clampLines = lines.filter((l) => l.includes('connectionTimeoutMs'));
    expect(clampLines).toHaveLength(1);
    expect(clampLines[0]).toMatch(logged);
  });

  it('a peer that acks and drops at once meets a growing backoff: the ack alone does not reset it', async () => {
    const peer = await hostilePeer({ closeAfterAckMs: 0 });
    peers.push(peer);
    const { states } = client(peer, capture().logger, { initialDelayMs: 100, random: () => 1 });
    await sleep(3_000);
    // Delays 100, 200, 400, 800, 1600 ms: about 5 connections in 3 s (resetting on every ack gave ~30).
    expect(peer.connections).toBeGreaterThanOrEqual(3);
    expect(peer.connections).toBeLessThanOrEqual(7);
    const attempts = states.flatMap((s) => (s.status === 'reconnecting' ? [s.attempt] : []));
    expect(attempts.slice(0, 4)).toEqual([1, 2, 3, 4]);
  });

  it('a connection that stayed up for stableAfterMs resets the backoff', async () => {
    const peer = await hostilePeer({ kaEveryMs: 100 });
    peers.push(peer);
    const { c, states } = client(peer, capture().logger, { initialDelayMs: 100, random: () => 1, stableAfterMs: 300 });
    await vi.waitFor(() => expect(c.state().status).toBe('connected'));
    // Two quick drops: the backoff grows.
    peer.behave({ closeAfterAckMs: 0 });
    peer.sockets.at(-1)!.close();
    await vi.waitFor(() => expect(states.filter((s) => s.status === 'reconnecting').length).toBeGreaterThanOrEqual(2), { timeout: 3_000 });
    // Then a connection that holds past stableAfterMs: the next drop starts over at attempt 1.
    peer.behave({ kaEveryMs: 100 });
    await vi.waitFor(() => expect(c.state().status).toBe('connected'), { timeout: 3_000 });
    await sleep(500);
    const before = states.length;
    peer.sockets.at(-1)!.close();
    await vi.waitFor(() => expect(states.slice(before).some((s) => s.status === 'reconnecting')).toBe(true));
    expect(states.slice(before).find((s) => s.status === 'reconnecting')).toMatchObject({ attempt: 1, nextRetryInMs: 100 });
  });

  it('unknown frame types and frames for unknown subscription ids are counted and ignored, without a reconnect', async () => {
    const peer = await hostilePeer({ kaEveryMs: 200 });
    peers.push(peer);
    const { logger, lines } = capture();
    const { c } = client(peer, logger);
    const got: unknown[] = [];
    c.subscribe('subscription { onCreateMoment { publicId } }', {}, { next: (d) => got.push(d) });
    await vi.waitFor(() => expect(c.state().status).toBe('connected'));
    const unknownType = await counterValue('mb_moments_realtime_protocol_errors_total', { kind: 'unknown_type' });
    const unknownSub = await counterValue('mb_moments_realtime_protocol_errors_total', { kind: 'unknown_subscription' });
    const socket = peer.sockets[0]!;
    for (let i = 0; i < 50; i++) socket.send(JSON.stringify({ type: `surprise-${i}` }));
    socket.send(JSON.stringify({ type: 'start_ack', id: 'nope' }));
    socket.send(JSON.stringify({ type: 'data', id: 'nope', payload: { data: { onCreateMoment: { publicId: 'x' } } } }));
    socket.send(JSON.stringify({ type: 'error', id: 'nope', payload: { errors: 'not a list' } }));
    socket.send(JSON.stringify({ type: 'error', payload: { errors: 'not a list' } }));
    socket.send(JSON.stringify({ type: 'connection_error', payload: { errors: [null] } }));
    await vi.waitFor(async () =>
      expect(await counterValue('mb_moments_realtime_protocol_errors_total', { kind: 'unknown_subscription' })).toBe(unknownSub + 3),
    );
    expect(await counterValue('mb_moments_realtime_protocol_errors_total', { kind: 'unknown_type' })).toBe(unknownType + 50);
    // One warning for the 50 unknown types, not 50.
    expect(lines.filter((l) => l.includes('"level":40') && l.includes('unknown type')).length).toBe(1);
    expect(got).toEqual([]);
    // The connection_error (with a null error entry) is the only thing that reconnects.
    await vi.waitFor(() => expect(peer.connections).toBe(2));
    await sleep(300);
    expect(peer.connections).toBe(2);
  });

  it('an oversized message drops the connection with a clear log, is counted, and the client reconnects', async () => {
    const peer = await hostilePeer({ kaEveryMs: 200 });
    peers.push(peer);
    const { logger, lines } = capture();
    const { c } = client(peer, logger, { maxMessageBytes: 64 * 1024 });
    await vi.waitFor(() => expect(c.state().status).toBe('connected'));
    const before = await counterValue('mb_moments_realtime_protocol_errors_total', { kind: 'oversized_frame' });
    peer.sockets[0]!.send(JSON.stringify({ type: 'data', id: 'sub-1', payload: { data: { blob: 'x'.repeat(100 * 1024) } } }));
    await vi.waitFor(() => expect(peer.connections).toBe(2), { timeout: 3_000 });
    await vi.waitFor(() => expect(c.state().status).toBe('connected'));
    expect(await counterValue('mb_moments_realtime_protocol_errors_total', { kind: 'oversized_frame' })).toBe(before + 1);
    expect(lines.join('')).toMatch(/a message larger than 65536 bytes \(maxMessageBytes\); dropped the connection and reconnecting/);
  });
});

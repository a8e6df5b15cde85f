import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../src/log.js';
import { silentLogger } from '../../src/log.js';
import {
  CLOSE_CODES,
  MalformedMessage,
  OBSERVER_SUBPROTOCOL,
  createFrameParams,
  decodeClientMessage,
  encodeServerMessage,
  type ServerMessage,
} from '../../src/sources/observer/observer-protocol.js';
import { ADMIN_METHODS, AdminRequestError, adminControl, answerAdminRequest, type SimAdmin, type SimAdminOptions } from './sim-admin.js';
import { SimStore, type SimCall, type SimClient } from './sim-store.js';
import { ClientStatsWalk, seededRandom } from './webrtc-stats.js';

type Row = Record<string, unknown>;

export interface ObserverSimulatorOptions {
  /** Port on `host`. @defaultValue 0 (a free port) */
  port?: number;
  /** @defaultValue `127.0.0.1` */
  host?: string;
  /** The token clients must send in `authenticate`. @defaultValue `sim-token` */
  accessToken?: string;
  /** Emit a snapshot round (one call row + one row per client) this often, ms; 0 = only on `snapshot()`. @defaultValue 0 */
  snapshotEvery?: number;
  /** Rows kept per call, client or database resource (oldest dropped). @defaultValue 1000 */
  maxRowsPerStream?: number;
  /** Seed of the stats generator. @defaultValue 1 */
  seed?: number;
  /** Ping interval the simulator suggests in its `authenticate` answer, ms. @defaultValue 15000 */
  pingIntervalMs?: number;
  /** Workers and servers present at start (all healthy); ignored with `store`. @defaultValue 2 workers, 1 server */
  admin?: SimAdminOptions;
  /**
   * Calls, rows, row sequence and admin state to continue from — `previous.store` of a stopped
   * simulator, to restart the service on the same port without losing its data. @defaultValue a new, empty store
   */
  store?: SimStore;
  logger?: Logger;
}

export type { SimCall, SimClient };

export type MalformedKind = 'invalid-json' | 'unknown-type' | 'unknown-frame' | 'invalid-row' | 'binary';

interface Fault {
  method: string | undefined;
  remaining: number;
  delayMs?: number;
  error?: { code: string; message: string };
}

interface SessionFrame {
  frameId: string;
  kind: 'callSnapshots' | 'clientSnapshots' | 'database';
  stream: string;
  callId?: string;
  conditions: Record<string, unknown>;
}

interface Session {
  id: string;
  ws: WebSocket;
  authenticated: boolean;
  frames: Map<string, SessionFrame>;
}

export interface SimulatorState {
  connections: number;
  authenticated: number;
  frames: Array<{ session: string; frameId: string; kind: string; stream: string }>;
  calls: SimCall[];
  requests: Record<string, number>;
  /** requestId of the last request received (shows which client implementation is talking). */
  lastRequestId: string | undefined;
}

function streamKey(kind: string, a: string, b?: string): string {
  return b === undefined ? `${kind}:${a}` : `${kind}:${a}:${b}`;
}

/**
 * Control of a running simulator: the same operations in-process (tests) and over HTTP
 * (`POST /_control/<kebab-case name>` with a JSON body; `GET /_control/state`).
 */
export interface ObserverSimulatorControl {
  startCall(options?: { callId?: string; roomId?: string; clients?: number | string[] }): SimCall;
  endCall(callId: string): boolean;
  addClient(callId: string, clientId?: string): SimClient;
  removeClient(callId: string, clientId: string): boolean;
  /** One snapshot round for one call (or all ongoing calls); returns the rows pushed. */
  snapshot(callId?: string): Row[];
  /** Appends one row (defaults filled in) and pushes it to every matching frame. */
  pushRow(options: { kind: 'callSnapshots' | 'clientSnapshots' | 'database'; callId?: string; clientId?: string; resource?: string; row?: Row }): Row;
  /** Terminates every client socket; returns how many. */
  dropSockets(): number;
  /** While on, WebSocket upgrades are answered with `status` (default 503). */
  refuseConnections(on: boolean, status?: number): void;
  /** Delays the answers to the next `count` requests of `method` (any but authenticate when unset). */
  delayRequests(options: { method?: string; ms: number; count?: number }): void;
  /** Answers the next `count` requests of `method` with an error. */
  failRequests(options: { method?: string; code: string; message?: string; count?: number }): void;
  /** Stops answering pings (the connection looks alive to TCP but is dead to the protocol). */
  mutePongs(on: boolean): void;
  clearFaults(): void;
  /** Sends one malformed message to every authenticated session; returns how many got it. */
  sendMalformed(kind: MalformedKind): number;
  /** Sends one well-formed `newrow` notification of about `bytes` bytes to every authenticated session (message size limits). */
  sendOversized(bytes: number): number;
  setAccessToken(token: string): void;
  state(): SimulatorState;
  /** Workers, servers and jobs (the ObserverAdminClient side): take a worker down, fail a job, … */
  readonly admin: SimAdmin;
}

/**
 * A local Observer service speaking docs/observer-protocol.md: calls, clients, snapshot rows with
 * WebRTC-like stats, database resources, and a control API for tests and demos.
 */
export class ObserverSimulator implements ObserverSimulatorControl {
  private readonly options: Required<Omit<ObserverSimulatorOptions, 'logger' | 'admin' | 'store'>>;
  /** Everything but the sockets: hand it to a new simulator to restart over the same data. */
  readonly store: SimStore;
  readonly admin: SimAdmin;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly sessions = new Set<Session>();
  private readonly requestCounts: Record<string, number> = {};
  private lastRequestId: string | undefined;
  private faults: Fault[] = [];
  private refusing: { status: number } | undefined;
  private pongsMuted = false;
  private accessToken: string;
  private lastSnapshotAt = Date.now();
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(options: ObserverSimulatorOptions = {}) {
    this.options = {
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      accessToken: options.accessToken ?? 'sim-token',
      snapshotEvery: options.snapshotEvery ?? 0,
      maxRowsPerStream: options.maxRowsPerStream ?? 1000,
      seed: options.seed ?? 1,
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
    };
    this.accessToken = this.options.accessToken;
    this.logger = options.logger ?? silentLogger();
    this.random = seededRandom(this.options.seed);
    this.store = options.store ?? new SimStore(options.admin);
    this.admin = this.store.admin;
  }

  get url(): string {
    const addr = this.http?.address() as AddressInfo | null | undefined;
    if (!addr) throw new Error('the Observer simulator is not listening; call start() first');
    return `ws://${this.options.host}:${addr.port}`;
  }

  /** Base URL of the HTTP control API. */
  get controlUrl(): string {
    return `${this.url.replace(/^ws/, 'http')}/_control`;
  }

  async start(): Promise<void> {
    const http = createServer((req, res) => void this.onHttp(req, res));
    this.http = http;
    this.wss = new WebSocketServer({
      server: http,
      handleProtocols: (protocols) => (protocols.has(OBSERVER_SUBPROTOCOL) ? OBSERVER_SUBPROTOCOL : false),
      verifyClient: (_info, cb) => (this.refusing ? cb(false, this.refusing.status, 'refusing connections (simulator control)') : cb(true)),
    });
    this.wss.on('connection', (ws) => this.onConnection(ws));
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.options.port, this.options.host, () => resolve());
    });
    if (this.options.snapshotEvery > 0) {
      this.ticker = setInterval(() => this.snapshot(), this.options.snapshotEvery);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    for (const s of this.sessions) s.ws.terminate();
    this.sessions.clear();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => {
      if (!this.http) return resolve();
      this.http.closeAllConnections();
      this.http.close(() => resolve());
    });
  }

  // ---- control ---------------------------------------------------------------------------------

  startCall(options: { callId?: string; roomId?: string; clients?: number | string[] } = {}): SimCall {
    const callId = options.callId ?? `call-${randomUUID().slice(0, 8)}`;
    if (this.store.calls.has(callId)) throw new Error(`call ${callId} is already ongoing`);
    const call: SimCall = { callId, roomId: options.roomId ?? `room-${callId}`, startedAt: Date.now(), clients: [] };
    this.store.calls.set(callId, call);
    const clients = options.clients ?? 2;
    const ids = typeof clients === 'number' ? Array.from({ length: clients }, (_, i) => `${callId}-c${i + 1}`) : clients;
    for (const id of ids) this.addClient(callId, id);
    this.logger.info({ callId, clients: ids.length }, 'observer simulator: call started');
    return call;
  }

  endCall(callId: string): boolean {
    const call = this.store.calls.get(callId);
    if (!call) return false;
    this.store.calls.delete(callId);
    call.endedAt = Date.now();
    this.store.endedCalls.push(call);
    if (this.store.endedCalls.length > 1000) this.store.endedCalls.shift();
    // Frames of an ended call get no more rows: the service closes them.
    for (const session of this.sessions) {
      for (const frame of session.frames.values()) {
        if (frame.callId === callId) {
          session.frames.delete(frame.frameId);
          this.send(session, { type: 'frame', frameId: frame.frameId, event: 'close', reason: 'call ended' });
        }
      }
    }
    this.logger.info({ callId }, 'observer simulator: call ended');
    return true;
  }

  addClient(callId: string, clientId?: string): SimClient {
    const call = this.requireCall(callId);
    const client: SimClient = { clientId: clientId ?? `${callId}-c${call.clients.length + 1}`, userId: `user-${Math.floor(this.random() * 10_000)}`, joinedAt: Date.now() };
    call.clients.push(client);
    this.store.walks.set(streamKey('clientSnapshots', callId, client.clientId), new ClientStatsWalk(this.random));
    return client;
  }

  removeClient(callId: string, clientId: string): boolean {
    const call = this.requireCall(callId);
    const before = call.clients.length;
    call.clients = call.clients.filter((c) => c.clientId !== clientId);
    return call.clients.length < before;
  }

  snapshot(callId?: string): Row[] {
    const now = Date.now();
    const elapsed = Math.max(1, now - this.lastSnapshotAt);
    this.lastSnapshotAt = now;
    const calls = callId ? [this.requireCall(callId)] : [...this.store.calls.values()];
    const rows: Row[] = [];
    for (const call of calls) {
      const clientRows = call.clients.map((c) => this.pushRow({ kind: 'clientSnapshots', callId: call.callId, clientId: c.clientId, row: { timestamp: now } }));
      const avg = (field: string) => (clientRows.length ? clientRows.reduce((s, r) => s + Number(r[field] ?? 0), 0) / clientRows.length : 0);
      rows.push(
        this.pushRow({
          kind: 'callSnapshots',
          callId: call.callId,
          row: {
            timestamp: now,
            clientsCount: call.clients.length,
            avgRttMs: Number(avg('rttMs').toFixed(1)),
            avgJitterMs: Number(avg('jitterMs').toFixed(1)),
            avgPacketLoss: Number(avg('packetLoss').toFixed(4)),
            totalBitrate: clientRows.reduce((s, r) => s + Number(r.inboundBitrate ?? 0) + Number(r.outboundBitrate ?? 0), 0),
            sampleIntervalMs: elapsed,
          },
        }),
        ...clientRows,
      );
    }
    return rows;
  }

  pushRow(options: { kind: 'callSnapshots' | 'clientSnapshots' | 'database'; callId?: string; clientId?: string; resource?: string; row?: Row }): Row {
    const seq = this.store.nextSeq();
    let stream: string;
    let row: Row;
    if (options.kind === 'database') {
      if (!options.resource) throw new Error('pushRow kind database needs "resource"');
      stream = streamKey('database', options.resource);
      row = { id: `${options.resource}-${seq}`, seq, timestamp: Date.now(), ...options.row };
    } else {
      const call = this.store.calls.get(options.callId ?? '') ?? this.store.endedCalls.find((c) => c.callId === options.callId);
      if (!call) throw new Error(`unknown call "${options.callId}"`);
      if (options.kind === 'callSnapshots') {
        stream = streamKey('callSnapshots', call.callId);
        row = { id: `${call.callId}-s${seq}`, seq, callId: call.callId, roomId: call.roomId, timestamp: Date.now(), clientsCount: call.clients.length, ...options.row };
      } else {
        const client = call.clients.find((c) => c.clientId === options.clientId);
        if (!client) throw new Error(`unknown client "${options.clientId}" in call ${call.callId}`);
        stream = streamKey('clientSnapshots', call.callId, client.clientId);
        let walk = this.store.walks.get(stream);
        if (!walk) this.store.walks.set(stream, (walk = new ClientStatsWalk(this.random)));
        row = { id: `${client.clientId}-s${seq}`, seq, callId: call.callId, clientId: client.clientId, userId: client.userId, timestamp: Date.now(), ...walk.next(this.options.snapshotEvery || 1000), ...options.row };
      }
    }
    const rows = this.store.streams.get(stream) ?? [];
    rows.push(row);
    if (rows.length > this.options.maxRowsPerStream) rows.shift();
    this.store.streams.set(stream, rows);
    for (const session of this.sessions) {
      for (const frame of session.frames.values()) {
        if (frame.stream === stream && matches(row, frame.conditions)) this.send(session, { type: 'frame', frameId: frame.frameId, event: 'newrow', row });
      }
    }
    return row;
  }

  dropSockets(): number {
    const n = this.sessions.size;
    for (const s of this.sessions) s.ws.terminate();
    return n;
  }

  refuseConnections(on: boolean, status = 503): void {
    this.refusing = on ? { status } : undefined;
  }

  delayRequests(options: { method?: string; ms: number; count?: number }): void {
    this.faults.push({ method: options.method, remaining: options.count ?? Number.POSITIVE_INFINITY, delayMs: options.ms });
  }

  failRequests(options: { method?: string; code: string; message?: string; count?: number }): void {
    this.faults.push({ method: options.method, remaining: options.count ?? Number.POSITIVE_INFINITY, error: { code: options.code, message: options.message ?? `simulated ${options.code}` } });
  }

  mutePongs(on: boolean): void {
    this.pongsMuted = on;
  }

  clearFaults(): void {
    this.faults = [];
    this.pongsMuted = false;
    this.refusing = undefined;
  }

  sendMalformed(kind: MalformedKind): number {
    let n = 0;
    for (const session of this.sessions) {
      if (!session.authenticated) continue;
      const frameId = session.frames.keys().next().value ?? 'f-none';
      const payloads: Record<MalformedKind, string | Buffer> = {
        'invalid-json': '{"type":"frame","frameId":',
        'unknown-type': JSON.stringify({ type: 'surprise', hello: 'world' }),
        'unknown-frame': JSON.stringify({ type: 'frame', frameId: 'f-unknown', event: 'newrow', row: { id: 'x' } }),
        // A well-formed message whose row breaks the row schema: the source quarantines it.
        'invalid-row': JSON.stringify({ type: 'frame', frameId, event: 'newrow', row: { id: `bad-${this.store.nextSeq()}`, callId: 42, timestamp: 'yesterday' } }),
        binary: Buffer.from([0xff, 0xfe, 0x00, 0x01]),
      };
      session.ws.send(payloads[kind]);
      n += 1;
    }
    return n;
  }

  sendOversized(bytes: number): number {
    let n = 0;
    for (const session of this.sessions) {
      if (!session.authenticated) continue;
      const frameId = session.frames.keys().next().value ?? 'f-none';
      this.send(session, { type: 'frame', frameId, event: 'newrow', row: { id: `big-${this.store.nextSeq()}`, blob: 'x'.repeat(Math.max(0, bytes)) } });
      n += 1;
    }
    return n;
  }

  setAccessToken(token: string): void {
    this.accessToken = token;
  }

  state(): SimulatorState {
    return {
      connections: this.sessions.size,
      authenticated: [...this.sessions].filter((s) => s.authenticated).length,
      frames: [...this.sessions].flatMap((s) => [...s.frames.values()].map((f) => ({ session: s.id, frameId: f.frameId, kind: f.kind, stream: f.stream }))),
      calls: [...this.store.calls.values()].map((c) => ({ ...c, clients: [...c.clients] })),
      requests: { ...this.requestCounts },
      lastRequestId: this.lastRequestId,
    };
  }

  // ---- protocol ------------------------------------------------------------------------------

  private requireCall(callId: string): SimCall {
    const call = this.store.calls.get(callId);
    if (!call) throw new Error(`unknown call "${callId}"`);
    return call;
  }

  private onConnection(ws: WebSocket): void {
    const session: Session = { id: randomUUID().slice(0, 8), ws, authenticated: false, frames: new Map() };
    this.sessions.add(session);
    const authTimer = setTimeout(() => {
      if (!session.authenticated) ws.close(CLOSE_CODES.authTimeout, 'authenticate not received in time');
    }, 10_000);
    ws.on('message', (data, isBinary) => void this.onMessage(session, isBinary ? Buffer.from(data as Buffer) : (data as Buffer).toString('utf8')));
    ws.on('close', () => {
      clearTimeout(authTimer);
      this.sessions.delete(session);
    });
    ws.on('error', () => undefined);
  }

  private send(session: Session, message: ServerMessage): void {
    if (session.ws.readyState === session.ws.OPEN) session.ws.send(encodeServerMessage(message));
  }

  private async onMessage(session: Session, raw: string | Buffer): Promise<void> {
    const message = decodeClientMessage(raw);
    if (message instanceof MalformedMessage) {
      this.logger.warn({ reason: message.reason }, 'observer simulator: malformed client message ignored');
      return;
    }
    if (message.type === 'ping') {
      if (!this.pongsMuted) this.send(session, { type: 'pong', nonce: message.nonce });
      return;
    }
    const { requestId, method, params } = message;
    this.requestCounts[method] = (this.requestCounts[method] ?? 0) + 1;
    this.lastRequestId = requestId;
    const fault = this.takeFault(method);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.error) return this.send(session, { type: 'error', requestId, error: fault.error });
    try {
      const result = this.handle(session, method, params);
      this.send(session, { type: 'response', requestId, result });
    } catch (err) {
      const e = err instanceof RequestError ? err : err instanceof AdminRequestError ? new RequestError(err.code, err.message) : new RequestError('internal', (err as Error).message);
      this.send(session, { type: 'error', requestId, error: { code: e.code, message: e.message } });
      if (e.code === 'unauthorized') session.ws.close(CLOSE_CODES.unauthorized, 'access token rejected');
    }
  }

  private takeFault(method: string): Fault | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && (f.method === method || (f.method === undefined && method !== 'authenticate')));
    if (fault) fault.remaining -= 1;
    return fault;
  }

  private handle(session: Session, method: string, params: Record<string, unknown>): unknown {
    if (method === 'authenticate') {
      if (params.accessToken !== this.accessToken) throw new RequestError('unauthorized', 'access token is missing or not valid');
      session.authenticated = true;
      return { sessionId: session.id, pingIntervalMs: this.options.pingIntervalMs };
    }
    if (!session.authenticated) throw new RequestError('unauthenticated', 'send authenticate first');
    switch (method) {
      case 'fetchOngoingCalls':
        return [...this.store.calls.values()].map((c) => ({ callId: c.callId, roomId: c.roomId, startedAt: c.startedAt, clients: c.clients }));
      case 'findCalls': {
        const all = [...this.store.calls.values(), ...this.store.endedCalls];
        return all.filter((c) => (params.roomId === undefined || c.roomId === params.roomId) && (params.callId === undefined || c.callId === params.callId));
      }
      case 'getSummaryStats': {
        const clients = [...this.store.calls.values()].flatMap((c) => c.clients.map((cl) => this.store.streams.get(streamKey('clientSnapshots', c.callId, cl.clientId))?.at(-1))).filter((r): r is Row => r !== undefined);
        const mean = (f: string) => (clients.length ? Number((clients.reduce((s, r) => s + Number(r[f] ?? 0), 0) / clients.length).toFixed(4)) : null);
        return { ongoingCalls: this.store.calls.size, clients: clients.length, avgRttMs: mean('rttMs'), avgJitterMs: mean('jitterMs'), avgPacketLoss: mean('packetLoss'), generatedAt: Date.now(), params };
      }
      case 'createFrame': {
        const parsed = createFrameParams.safeParse(params);
        if (!parsed.success) throw new RequestError('bad_request', `createFrame params: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        const p = parsed.data;
        const frameId = `f-${session.id}-${this.store.nextSeq()}`;
        let frame: SessionFrame;
        if (p.kind === 'database') {
          frame = { frameId, kind: 'database', stream: streamKey('database', p.resourceId), conditions: p.conditions };
        } else {
          const known = this.store.calls.has(p.callId) || this.store.endedCalls.some((c) => c.callId === p.callId);
          if (!known) throw new RequestError('not_found', `no call ${p.callId}`);
          const stream = p.kind === 'callSnapshots' ? streamKey('callSnapshots', p.callId) : streamKey('clientSnapshots', p.callId, p.clientId);
          frame = { frameId, kind: p.kind, stream, callId: p.callId, conditions: {} };
        }
        session.frames.set(frameId, frame);
        return { frameId };
      }
      case 'updateFrame': {
        const frame = session.frames.get(String(params.frameId));
        if (!frame) throw new RequestError('not_found', `no frame ${String(params.frameId)} in this session`);
        return { rows: (this.store.streams.get(frame.stream) ?? []).filter((r) => matches(r, frame.conditions)) };
      }
      case 'closeFrame':
        return { closed: session.frames.delete(String(params.frameId)) };
      default:
        if (ADMIN_METHODS.has(method)) return answerAdminRequest(this.admin, method, params);
        throw new RequestError('unknown_method', `unknown method ${method}`);
    }
  }

  // ---- HTTP control --------------------------------------------------------------------------

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? null));
    };
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!path.startsWith('/_control/')) return reply(404, { error: 'not found: use ws:// for the protocol and /_control/<action> for control' });
    const action = path.slice('/_control/'.length);
    if (req.method === 'GET' && action === 'state') return reply(200, this.state());
    if (req.method !== 'POST') return reply(405, { error: 'use POST' });
    let body: Record<string, unknown>;
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch (err) {
      return reply(400, { error: `body is not JSON: ${(err as Error).message}` });
    }
    try {
      const result = this.control(action, body);
      return reply(200, result === undefined ? { ok: true } : result);
    } catch (err) {
      return reply(400, { error: (err as Error).message });
    }
  }

  private control(action: string, b: Record<string, unknown>): unknown {
    const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
    const num = (k: string) => (typeof b[k] === 'number' ? (b[k] as number) : undefined);
    switch (action) {
      case 'start-call':
        return this.startCall({ callId: str('callId'), roomId: str('roomId'), clients: (b.clients as number | string[] | undefined) ?? undefined });
      case 'end-call':
        return { ended: this.endCall(String(b.callId)) };
      case 'add-client':
        return this.addClient(String(b.callId), str('clientId'));
      case 'remove-client':
        return { removed: this.removeClient(String(b.callId), String(b.clientId)) };
      case 'snapshot':
        return { rows: this.snapshot(str('callId')) };
      case 'push-row':
        return this.pushRow(b as Parameters<ObserverSimulator['pushRow']>[0]);
      case 'drop-sockets':
        return { dropped: this.dropSockets() };
      case 'refuse-connections':
        return this.refuseConnections(b.refuse !== false, num('status'));
      case 'delay-requests':
        return this.delayRequests({ method: str('method'), ms: num('ms') ?? 1000, count: num('count') });
      case 'fail-requests':
        return this.failRequests({ method: str('method'), code: str('code') ?? 'internal', message: str('message'), count: num('count') });
      case 'mute-pongs':
        return this.mutePongs(b.mute !== false);
      case 'clear-faults':
        return this.clearFaults();
      case 'send-malformed':
        return { sent: this.sendMalformed((str('kind') ?? 'invalid-json') as MalformedKind) };
      case 'send-oversized':
        return { sent: this.sendOversized(num('bytes') ?? 32 * 1024 * 1024) };
      case 'set-access-token':
        return this.setAccessToken(String(b.accessToken));
      default: {
        const admin = adminControl(this.admin, action, b);
        if (admin.handled) return admin.result;
        throw new Error(`unknown control action "${action}"`);
      }
    }
  }
}

class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Database frame conditions: every key must equal the row's value. */
function matches(row: Row, conditions: Record<string, unknown>): boolean {
  return Object.entries(conditions).every(([k, v]) => row[k] === v);
}

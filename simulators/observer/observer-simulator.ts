import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../src/core/log.js';
import { silentLogger } from '../../src/core/log.js';
import { CLOSE_CODES, MalformedMessage, OBSERVER_SUBPROTOCOL, decodeClientMessage } from '../../src/sources/observer/observer-protocol.js';
import { CallRows, type PushRowOptions } from './call-rows.js';
import { serveControlHttp, type ObserverSimulatorControl, type SimulatorState } from './control-api.js';
import { malformedMessage, type MalformedKind } from './malformed-messages.js';
import { RequestError, answerRequest } from './protocol-methods.js';
import { RequestFaults } from './request-faults.js';
import type { ObserverSimulatorOptions } from './observer-simulator-options.js';
import { AdminRequestError, type SimAdmin } from './sim-admin.js';
import { SimStore, type SimCall, type SimClient } from './sim-store.js';
import { matchesConditions, sendTo, streamKey, type Row, type Session } from './session.js';
import { ClientStatsWalk, seededRandom } from './webrtc-stats.js';

export type { MalformedKind, ObserverSimulatorControl, ObserverSimulatorOptions, SimCall, SimClient, SimulatorState };

/**
 * A local Observer service speaking docs/observer-protocol.md: calls, clients, snapshot rows with
 * WebRTC-like stats, database resources, and a control API for tests and demos. This class owns
 * the sockets and the calls; rows, protocol answers, faults and the HTTP control API have their
 * own modules.
 */
export class ObserverSimulator implements ObserverSimulatorControl {
  private readonly options: Required<Omit<ObserverSimulatorOptions, 'logger' | 'admin' | 'store'>>;
  /** Everything but the sockets: hand it to a new simulator to restart over the same data. */
  readonly store: SimStore;
  readonly admin: SimAdmin;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly rows: CallRows;
  private readonly faults = new RequestFaults();
  private readonly sessions = new Set<Session>();
  private readonly requestCounts: Record<string, number> = {};
  private lastRequestId: string | undefined;
  private refusing: { status: number } | undefined;
  private pongsMuted = false;
  private accessToken: string;
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
    this.rows = new CallRows(this.store, this.random, this.options, (stream, row) => this.publish(stream, row));
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
    const http = createServer((req, res) => void serveControlHttp(this, req, res));
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

  // ---- calls and rows --------------------------------------------------------------------------

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
          sendTo(session, { type: 'frame', frameId: frame.frameId, event: 'close', reason: 'call ended' });
        }
      }
    }
    this.logger.info({ callId }, 'observer simulator: call ended');
    return true;
  }

  addClient(callId: string, clientId?: string): SimClient {
    const call = this.requireCall(callId);
    const client: SimClient = {
      clientId: clientId ?? `${callId}-c${call.clients.length + 1}`,
      userId: `user-${Math.floor(this.random() * 10_000)}`,
      joinedAt: Date.now(),
    };
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
    return this.rows.snapshot(callId ? [this.requireCall(callId)] : [...this.store.calls.values()]);
  }

  pushRow(options: PushRowOptions): Row {
    return this.rows.append(options);
  }

  // ---- faults ----------------------------------------------------------------------------------

  dropSockets(): number {
    const n = this.sessions.size;
    for (const s of this.sessions) s.ws.terminate();
    return n;
  }

  refuseConnections(on: boolean, status = 503): void {
    this.refusing = on ? { status } : undefined;
  }

  delayRequests(options: { method?: string; ms: number; count?: number }): void {
    this.faults.delay(options);
  }

  failRequests(options: { method?: string; code: string; message?: string; count?: number }): void {
    this.faults.fail(options);
  }

  mutePongs(on: boolean): void {
    this.pongsMuted = on;
  }

  clearFaults(): void {
    this.faults.clear();
    this.pongsMuted = false;
    this.refusing = undefined;
  }

  sendMalformed(kind: MalformedKind): number {
    let n = 0;
    for (const session of this.authenticatedSessions()) {
      session.ws.send(malformedMessage(kind, this.firstFrameId(session), this.store.nextSeq()));
      n += 1;
    }
    return n;
  }

  sendOversized(bytes: number): number {
    let n = 0;
    for (const session of this.authenticatedSessions()) {
      sendTo(session, {
        type: 'frame',
        frameId: this.firstFrameId(session),
        event: 'newrow',
        row: { id: `big-${this.store.nextSeq()}`, blob: 'x'.repeat(Math.max(0, bytes)) },
      });
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

  private *authenticatedSessions(): Iterable<Session> {
    for (const session of this.sessions) if (session.authenticated) yield session;
  }

  private firstFrameId(session: Session): string {
    return session.frames.keys().next().value ?? 'f-none';
  }

  /** A new row goes to every frame watching its stream whose conditions it meets. */
  private publish(stream: string, row: Row): void {
    for (const session of this.sessions) {
      for (const frame of session.frames.values()) {
        if (frame.stream === stream && matchesConditions(row, frame.conditions))
          sendTo(session, { type: 'frame', frameId: frame.frameId, event: 'newrow', row });
      }
    }
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

  private async onMessage(session: Session, raw: string | Buffer): Promise<void> {
    const message = decodeClientMessage(raw);
    if (message instanceof MalformedMessage) {
      this.logger.warn({ reason: message.reason }, 'observer simulator: malformed client message ignored');
      return;
    }
    if (message.type === 'ping') {
      if (!this.pongsMuted) sendTo(session, { type: 'pong', nonce: message.nonce });
      return;
    }
    const { requestId, method, params } = message;
    this.requestCounts[method] = (this.requestCounts[method] ?? 0) + 1;
    this.lastRequestId = requestId;
    const fault = this.faults.take(method);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.error) return sendTo(session, { type: 'error', requestId, error: fault.error });
    try {
      const result = answerRequest({ store: this.store, accessToken: this.accessToken, pingIntervalMs: this.options.pingIntervalMs }, session, method, params);
      sendTo(session, { type: 'response', requestId, result });
    } catch (err) {
      const e =
        err instanceof RequestError
          ? err
          : err instanceof AdminRequestError
            ? new RequestError(err.code, err.message)
            : new RequestError('internal', (err as Error).message);
      sendTo(session, { type: 'error', requestId, error: { code: e.code, message: e.message } });
      if (e.code === 'unauthorized') session.ws.close(CLOSE_CODES.unauthorized, 'access token rejected');
    }
  }
}

/*
 * One concept at ~340 lines: the Observer JSON-RPC connection (requests and their timeouts,
 * pings, frames routed by id, close and oversize handling share the socket's state). The wire
 * format is observer-protocol.ts and the frames data-frame.ts already.
 */
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import type { z } from 'zod';
import { DataFrame, type RowSort } from './data-frame.js';
import type { ObserverClientLike, ObserverClientOptions, ObserverRow } from './observer-api.js';
import { ObserverError } from './observer-errors.js';
import {
  CLOSE_CODES,
  MalformedMessage,
  OBSERVER_SUBPROTOCOL,
  authenticateResult,
  createFrameResult,
  decodeServerMessage,
  encodeClientMessage,
  updateFrameResult,
  type CreateFrameParams,
  type DecodedServerMessage,
  type ObserverMethod,
} from './observer-protocol.js';
import { summaryStats, type SummaryStats } from './observer-schemas.js';

/**
 * 16 MiB. The largest message of the protocol is an `updateFrame` answer: every row a frame holds.
 * A client snapshot row is about 0.5 KiB of JSON, the simulator keeps 1,000 rows per stream
 * (≈ 0.5 MiB), and the client-side DataFrame keeps at most 10,000 rows — ≈ 5–10 MiB with larger
 * rows. 16 MiB fits that with room, and still stops a runaway message long before memory does.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface ObserverClientConfig extends ObserverClientOptions {
  /** How long the WebSocket handshake plus `authenticate` may take. @defaultValue requestTimeoutMs */
  connectTimeoutMs?: number;
  /** Order of rows in frames this client creates. @defaultValue arrival order */
  sort?: RowSort;
}

export interface ObserverClientEvents {
  /** The connection is gone (dropped, refused, or closed by `close()`). */
  close: [info: { code: number; reason: string; byClient: boolean }];
  /** A message from the service that is not valid JSON or not a known message: skipped. */
  malformed: [message: MalformedMessage];
  /** A message over `maxMessageBytes` arrived: the connection is being dropped (a `close` follows). */
  oversized: [info: { limitBytes: number }];
}

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The bridge's own Observer client: the documented method names over the protocol in
 * docs/observer-protocol.md. One instance is one connection; after a drop, make a new one
 * (the source does, so every reconnect starts clean and calls `getAccessToken()` again).
 */
export class ObserverClient extends EventEmitter<ObserverClientEvents> implements ObserverClientLike {
  private readonly options: Required<Omit<ObserverClientConfig, 'sort' | 'admin'>> & { sort: RowSort | undefined };
  private oversized = false;
  private ws: WebSocket | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly frames = new Map<string, DataFrame>();
  private nextRequestId = 1;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private closingByClient = false;
  private closeEmitted = false;
  /** The session id the service gave on `authenticate`. */
  sessionId: string | undefined;

  constructor(config: ObserverClientConfig) {
    super();
    const requestTimeoutMs = config.requestTimeoutMs ?? 10_000;
    this.options = {
      url: config.url,
      getAccessToken: config.getAccessToken,
      requestTimeoutMs,
      pingIntervalMs: config.pingIntervalMs ?? 15_000,
      connectTimeoutMs: config.connectTimeoutMs ?? requestTimeoutMs,
      maxMessageBytes: config.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      sort: config.sort,
    };
    if (!/^wss?:\/\//.test(this.options.url)) {
      throw new ObserverError('observer_url_invalid', `Observer url "${this.options.url}" must start with ws:// or wss://`);
    }
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.sessionId !== undefined;
  }

  /**
   * Opens the socket and authenticates with `accessToken`, or else the token `getAccessToken()`
   * gives (seed 001: `connect(accessToken?: string)`). Rejects with `observer_unauthorized` on a
   * bad token.
   */
  async connect(accessToken?: string): Promise<void> {
    if (this.ws) throw new ObserverError('observer_already_connected', 'connect() was called twice on one ObserverClient; create a new client to reconnect');
    const token = accessToken ?? (await this.options.getAccessToken());
    // maxPayload: ws refuses a bigger message before buffering it whole, and closes with 1009.
    const ws = new WebSocket(this.options.url, [OBSERVER_SUBPROTOCOL], {
      handshakeTimeout: this.options.connectTimeoutMs,
      maxPayload: this.options.maxMessageBytes,
    });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        ws.removeAllListeners('open');
        reject(err);
      };
      ws.once('open', () => resolve());
      ws.once('error', (err) =>
        fail(new ObserverError('observer_connect_failed', `cannot connect to Observer at ${this.options.url}: ${err.message}`, { cause: err })),
      );
      ws.once('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        ws.terminate();
        if (status === 401 || status === 403) {
          fail(new ObserverError('observer_unauthorized', `Observer at ${this.options.url} refused the connection with HTTP ${status}: check accessToken`));
        } else {
          fail(
            new ObserverError(
              'observer_connect_failed',
              `Observer at ${this.options.url} answered the WebSocket upgrade with HTTP ${status}; is the url right and the service up?`,
            ),
          );
        }
      });
    });
    // Errors after open end in 'close', handled there; an oversized message is said first.
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || this.oversized) return;
      this.oversized = true;
      this.emit('oversized', { limitBytes: this.options.maxMessageBytes });
    });
    ws.on('message', (data, isBinary) => this.onMessage(isBinary ? Buffer.from(data as Buffer) : (data as Buffer).toString('utf8')));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
    if (ws.protocol !== OBSERVER_SUBPROTOCOL) {
      ws.terminate();
      throw new ObserverError(
        'observer_protocol_mismatch',
        `Observer at ${this.options.url} did not accept subprotocol ${OBSERVER_SUBPROTOCOL} (got "${ws.protocol}")`,
      );
    }
    let auth: z.output<typeof authenticateResult>;
    try {
      auth = await this.requestParsed('authenticate', { accessToken: token }, authenticateResult, this.options.connectTimeoutMs);
    } catch (err) {
      ws.terminate();
      throw err;
    }
    this.sessionId = auth.sessionId;
    this.startPings();
  }

  /** Closes frames and the connection. Safe to call at any time. */
  async close(): Promise<void> {
    const ws = this.ws;
    if (!ws) return;
    this.closingByClient = true;
    if (ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000, 'client closing');
    const timer = setTimeout(() => ws.terminate(), 2_000);
    await closed;
    clearTimeout(timer);
  }

  async findCalls(params: Record<string, unknown> = {}): Promise<unknown> {
    return this.request('findCalls', params);
  }

  /** The service's answer as it is; the source normalises it (ongoing-calls.ts). */
  async fetchOngoingCalls(): Promise<unknown> {
    return this.request('fetchOngoingCalls', {});
  }

  async getSummaryStats(params: Record<string, unknown> = {}): Promise<SummaryStats> {
    return this.requestParsed('getSummaryStats', params, summaryStats);
  }

  async createCallSnapshotsFrame(callId: string): Promise<DataFrame> {
    return this.createFrame({ kind: 'callSnapshots', callId });
  }

  async createClientSnapshotsFrame(ids: { callId: string; clientId: string }): Promise<DataFrame> {
    return this.createFrame({ kind: 'clientSnapshots', callId: ids.callId, clientId: ids.clientId });
  }

  async createDatabaseFrame(resourceId: string, conditions: Record<string, unknown> = {}, updateOnCreate = false): Promise<DataFrame> {
    const frame = await this.createFrame({ kind: 'database', resourceId, conditions });
    if (updateOnCreate) await frame.update();
    return frame;
  }

  private async createFrame(params: CreateFrameParams): Promise<DataFrame> {
    const { frameId } = await this.requestParsed('createFrame', params as Record<string, unknown>, createFrameResult);
    const frame = new DataFrame({
      frameId,
      sort: this.options.sort,
      fetchRows: async () => (await this.requestParsed('updateFrame', { frameId }, updateFrameResult)).rows as ObserverRow[],
      closeRemote: async () => {
        this.frames.delete(frameId);
        if (this.connected) await this.request('closeFrame', { frameId });
      },
    });
    this.frames.set(frameId, frame);
    return frame;
  }

  private async requestParsed<T>(method: ObserverMethod, params: Record<string, unknown>, schema: z.ZodType<T>, timeoutMs?: number): Promise<T> {
    const result = await this.request(method, params, timeoutMs);
    const parsed = schema.safeParse(result);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ObserverError(
        'observer_invalid_response',
        `Observer answered ${method} with an unexpected result${issue?.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`,
        { method, cause: parsed.error },
      );
    }
    return parsed.data;
  }

  /** Sends one request; resolves with its result, rejects with its error or on timeout. */
  request(method: ObserverMethod, params: Record<string, unknown>, timeoutMs = this.options.requestTimeoutMs): Promise<unknown> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ObserverError('observer_disconnected', `cannot send ${method}: not connected to Observer at ${this.options.url}`, { method }));
    }
    const requestId = String(this.nextRequestId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new ObserverError(
            'observer_timeout',
            `Observer request ${method} (requestId ${requestId}) got no answer within ${timeoutMs} ms; the service is slow or overloaded — it will be retried on the next cycle, raise requestTimeout if this keeps happening`,
            { method },
          ),
        );
      }, timeoutMs);
      this.pending.set(requestId, { method, resolve, reject, timer });
      ws.send(encodeClientMessage({ type: 'request', requestId, method, params }));
    });
  }

  private onMessage(raw: string | Buffer): void {
    this.awaitingPong = false; // any traffic proves the connection is alive
    const message = decodeServerMessage(raw);
    if (message instanceof MalformedMessage) {
      this.emit('malformed', message);
      return;
    }
    this.dispatch(message);
  }

  private dispatch(message: DecodedServerMessage): void {
    switch (message.type) {
      case 'response':
      case 'error': {
        const pending = this.pending.get(message.requestId);
        if (!pending) return; // answered after its timeout: the caller has moved on
        this.pending.delete(message.requestId);
        clearTimeout(pending.timer);
        if (message.type === 'response') pending.resolve(message.result);
        else
          pending.reject(
            new ObserverError(`observer_${message.error.code}`, `Observer rejected ${pending.method}: ${message.error.message} (${message.error.code})`, {
              method: pending.method,
            }),
          );
        return;
      }
      case 'pong':
        return;
      case 'frame': {
        const frame = this.frames.get(message.frameId);
        if (!frame) return; // a notification racing our closeFrame
        if (message.event === 'newrow') frame.ingest(message.row);
        else if (message.event === 'error')
          frame.fail(new ObserverError(`observer_${message.error.code}`, `Observer frame ${message.frameId}: ${message.error.message}`));
        else {
          this.frames.delete(message.frameId);
          frame.markClosed(message.reason);
        }
        return;
      }
    }
  }

  private startPings(): void {
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      if (this.awaitingPong) {
        // A whole interval without any message after a ping: the connection is dead even if TCP
        // has not noticed yet. Terminating ends in 'close', which makes the source reconnect.
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      ws.send(encodeClientMessage({ type: 'ping', nonce: String(Date.now()) }));
    }, this.options.pingIntervalMs);
    this.pingTimer.unref();
  }

  private onClose(code: number, reason: string): void {
    clearInterval(this.pingTimer);
    const byClient = this.closingByClient;
    const why =
      code === CLOSE_CODES.unauthorized
        ? 'access token rejected'
        : this.oversized
          ? `a message exceeded maxMessageBytes (${this.options.maxMessageBytes} bytes)`
          : reason || `close code ${code}`;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new ObserverError(
          code === CLOSE_CODES.unauthorized ? 'observer_unauthorized' : 'observer_disconnected',
          `Observer connection closed while ${pending.method} was waiting (${why})`,
          { method: pending.method },
        ),
      );
      this.pending.delete(id);
    }
    for (const frame of this.frames.values()) frame.markClosed('disconnected');
    this.frames.clear();
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close', { code, reason: why, byClient });
  }
}

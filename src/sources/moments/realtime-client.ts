import { EventEmitter } from 'node:events';
import { WebSocket, type RawData } from 'ws';
import { fullJitterBackoff } from '../../core/full-jitter.js';
import type { Logger } from '../../core/log.js';
import { RateLimitedLog } from '../../core/log-rate-limit.js';
import { counter } from '../../core/metrics.js';
import { MomentsAuthError, MomentsRealtimeError } from './moments-errors.js';

/**
 * The AWS AppSync real-time protocol over one WebSocket
 * (https://docs.aws.amazon.com/appsync/latest/devguide/real-time-websocket-client.html):
 * `connection_init` → `connection_ack {connectionTimeoutMs}` → `ka` keep-alives; per subscription
 * `start` → `start_ack` → `data`/`error`, `stop` → `complete`. Several subscriptions share the
 * socket. A dead socket (no `ka` within connectionTimeoutMs), a close or a `connection_error`
 * leads to a reconnect with exponential backoff and full jitter, a fresh token and re-subscribing.
 */

export type RealtimeAuthMode = 'subprotocol' | 'query';

export type RealtimeState =
  | { status: 'idle' }
  | { status: 'connecting'; attempt: number }
  | { status: 'connected'; since: string }
  | { status: 'reconnecting'; attempt: number; nextRetryInMs: number; lastError: string }
  | { status: 'auth_failed'; error: string }
  | { status: 'stopped' };

export interface RealtimeClientOptions {
  /** `wss://…/graphql/realtime` or the `appsync-realtime-api` host. */
  url: string;
  /** Host of the GraphQL endpoint: AppSync checks it in the auth header. */
  host: string;
  /** How the auth header travels. @defaultValue `subprotocol` */
  auth?: RealtimeAuthMode;
  token: () => Promise<string>;
  /** Called when the server refused the token (HTTP 401 / UnauthorizedException). */
  refreshToken: () => Promise<string>;
  logger: Logger;
  /** First reconnect delay cap; doubles per attempt. @defaultValue 500 */
  initialDelayMs?: number;
  /** @defaultValue 30000 */
  maxDelayMs?: number;
  /** Give up on a handshake without `connection_ack` after this long. @defaultValue 15000 */
  connectionInitTimeoutMs?: number;
  /** Source of randomness for the jitter (tests may pin it). @defaultValue Math.random */
  random?: () => number;
  /**
   * The reconnect backoff starts over only after a connection stayed up this long past its
   * `connection_ack`: a peer that acks and then drops (or acks with a keep-alive timeout it does
   * not honour) must not turn the backoff into a reconnect storm. @defaultValue 30000
   */
  stableAfterMs?: number;
  /**
   * Bounds for the peer's `connectionTimeoutMs`: a value outside them is clamped (and logged once);
   * an absent or non-numeric one means AppSync's documented 300000. @defaultValue `{ minMs: 1000, maxMs: 600000 }`
   */
  connectionTimeoutBounds?: { minMs: number; maxMs: number };
  /**
   * Largest WebSocket message accepted (ws `maxPayload`); a larger one drops the connection, which
   * is logged, counted and reconnected. AppSync caps a subscription message at 240 KB
   * (https://docs.aws.amazon.com/general/latest/gr/appsync.html, "Subscription payload size"); the
   * default leaves room for the protocol envelope and a self-hosted engine. @defaultValue 1048576 (1 MiB)
   */
  maxMessageBytes?: number;
}

export interface SubscriptionHandler {
  /** One `data` payload's `data` object, e.g. `{ onCreateMoment: {...} }`. */
  next: (data: Record<string, unknown>) => void;
  /** The server refused or ended the subscription with errors. */
  error?: (err: MomentsRealtimeError) => void;
}

export interface RealtimeSubscription {
  readonly id: string;
  unsubscribe(): void;
}

export interface RealtimeClientEvents {
  state: [RealtimeState];
  /** Connected, acknowledged and every subscription answered (start_ack or error). */
  ready: [{ reconnect: boolean }];
  /** A protocol problem that did not stop the client (malformed frame, refused subscription, …). */
  protocolError: [MomentsRealtimeError];
}

interface ActiveSubscription {
  id: string;
  query: string;
  variables: Record<string, unknown>;
  handler: SubscriptionHandler;
  /** start_ack (or error) received on the current socket. */
  answered: boolean;
  /** Refused by the server: not re-sent on reconnect (it would fail again). */
  failed: boolean;
}

interface Frame {
  type?: unknown;
  id?: unknown;
  payload?: Record<string, unknown> & { errors?: Array<{ errorType?: string; message?: string; errorCode?: number }> };
}

const protocolErrors = counter('mb_moments_realtime_protocol_errors_total', 'AppSync real-time protocol problems by kind', ['kind']);
const clamped = counter('mb_moments_realtime_clamped_values_total', 'Values from the AppSync real-time peer outside sane bounds, clamped', ['field']);

/** AppSync's documented keep-alive timeout, used when the peer sends none or nonsense. */
const APPSYNC_CONNECTION_TIMEOUT_MS = 300_000;
const DEFAULT_BOUNDS = { minMs: 1_000, maxMs: 600_000 };
const reconnects = counter('mb_moments_realtime_reconnects_total', 'AppSync real-time reconnect attempts');

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

export class RealtimeClient extends EventEmitter<RealtimeClientEvents> {
  private readonly options: RealtimeClientOptions;
  private readonly subs = new Map<string, ActiveSubscription>();
  private socket: WebSocket | undefined;
  private currentState: RealtimeState = { status: 'idle' };
  private attempt = 0;
  private everReady = false;
  private readyOnThisSocket = false;
  private acked = false;
  private nextSubId = 1;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private tokenRefused = false;
  private lastError = '';
  /** From the last connection_ack: no `ka` for this long means the socket is dead. */
  private connectionTimeoutMs = APPSYNC_CONNECTION_TIMEOUT_MS;
  private stableTimer: NodeJS.Timeout | undefined;
  private clampLogged = false;
  /**
   * Protocol problems, keep-alive timeouts and oversized frames are logged through this: a peer
   * flooding the socket (or a reconnect loop) writes a few lines and a summary per interval, at any
   * log level; the metric counts every one.
   */
  private readonly log: RateLimitedLog;

  constructor(options: RealtimeClientOptions) {
    super();
    if (!options.url) throw new TypeError('RealtimeClient: url is required');
    this.options = options;
    // One line per kind and 10 s, then a summary: the first says what is wrong, the metric counts.
    this.log = new RateLimitedLog(options.logger, { burst: 1, intervalMs: 10_000 });
  }

  state(): RealtimeState {
    return this.currentState;
  }

  /** Opens the socket (and keeps it open until stop()). Resolves after the first attempt began. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1000, 'client stopping');
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 1000).unref();
      });
    }
    this.setState({ status: 'stopped' });
  }

  /** Adds a subscription; it is (re)started on every connection until unsubscribed. */
  subscribe(query: string, variables: Record<string, unknown>, handler: SubscriptionHandler): RealtimeSubscription {
    const id = `sub-${this.nextSubId++}`;
    const sub: ActiveSubscription = { id, query, variables, handler, answered: false, failed: false };
    this.subs.set(id, sub);
    if (this.acked) void this.sendStart(sub);
    return {
      id,
      unsubscribe: () => {
        if (!this.subs.delete(id)) return;
        if (this.acked && !sub.failed) this.send({ type: 'stop', id });
      },
    };
  }

  /** The keep-alive timeout in force (from the last connection_ack, clamped). */
  keepAliveTimeoutMs(): number {
    return this.connectionTimeoutMs;
  }

  /** Forces a reconnect (tests, and callers that know the socket is stale). */
  reconnectNow(reason: string): void {
    this.lastError = reason;
    this.socket?.terminate();
  }

  private setState(state: RealtimeState): void {
    this.currentState = state;
    this.emit('state', state);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setState({ status: 'connecting', attempt: this.attempt });
    let token: string;
    try {
      token = this.tokenRefused ? await this.options.refreshToken() : await this.options.token();
      this.tokenRefused = false;
    } catch (err) {
      if (err instanceof MomentsAuthError && !err.retryable) {
        this.stopped = true;
        this.setState({ status: 'auth_failed', error: err.message });
        return;
      }
      this.scheduleReconnect(`cannot get a token: ${(err as Error).message}`);
      return;
    }
    if (this.stopped) return;
    const header = JSON.stringify({ host: this.options.host, Authorization: token });
    let url = this.options.url;
    const protocols = ['graphql-ws'];
    if ((this.options.auth ?? 'subprotocol') === 'subprotocol') {
      protocols.push(`header-${b64url(header)}`);
    } else {
      // The older form: the header in the query string (ends up in proxy logs; fallback only).
      const u = new URL(url);
      u.searchParams.set('header', Buffer.from(header).toString('base64'));
      u.searchParams.set('payload', 'e30=');
      url = u.toString();
    }
    const socket = new WebSocket(url, protocols, { handshakeTimeout: this.options.connectionInitTimeoutMs ?? 15_000, maxPayload: this.options.maxMessageBytes ?? 1_048_576 });
    this.socket = socket;
    this.acked = false;
    this.readyOnThisSocket = false;
    for (const sub of this.subs.values()) sub.answered = false;

    socket.on('unexpected-response', (_req, res) => {
      const type = String(res.headers['x-amzn-errortype'] ?? '');
      if (res.statusCode === 401 || type.startsWith('UnauthorizedException')) this.tokenRefused = true;
      this.lastError = `handshake refused with HTTP ${res.statusCode}${type ? ` (${type})` : ''}`;
      res.resume();
      socket.terminate();
    });
    socket.on('open', () => {
      this.send({ type: 'connection_init' });
      this.initTimer = setTimeout(() => {
        this.lastError = 'no connection_ack in time';
        socket.terminate();
      }, this.options.connectionInitTimeoutMs ?? 15_000);
    });
    socket.on('message', (raw) => this.onMessage(socket, raw));
    socket.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        // ws has already closed the socket (1009); the close handler reconnects.
        const limit = this.options.maxMessageBytes ?? 1_048_576;
        protocolErrors.inc({ kind: 'oversized_frame' });
        this.log.warn('moments realtime oversized_frame', { limit }, `Moments real-time: the server sent a message larger than ${limit} bytes (maxMessageBytes); dropped the connection and reconnecting (the back-fill recovers what it carried; raise maxMessageBytes if the engine sends such messages on purpose)`);
        this.lastError = `a message larger than ${limit} bytes`;
        return;
      }
      // Keep the first, more specific reason (e.g. the refused handshake) over ws's follow-up error.
      this.lastError ||= err.message;
    });
    socket.on('close', (code, reason) => {
      if (socket !== this.socket) return;
      this.clearTimers();
      this.acked = false;
      this.socket = undefined;
      if (this.stopped) return;
      const why = this.lastError || `socket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      this.lastError = '';
      this.scheduleReconnect(why);
    });
  }

  private scheduleReconnect(reason: string): void {
    if (this.stopped) return;
    this.attempt += 1;
    // Full jitter: spreads replicas out.
    const delay = fullJitterBackoff(this.attempt, this.options.initialDelayMs ?? 500, this.options.maxDelayMs ?? 30_000, this.options.random);
    reconnects.inc();
    this.setState({ status: 'reconnecting', attempt: this.attempt, nextRetryInMs: delay, lastError: reason });
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.watchdog, this.initTimer, this.stableTimer]) if (t) clearTimeout(t);
    this.reconnectTimer = this.watchdog = this.initTimer = this.stableTimer = undefined;
  }

  private armWatchdog(timeoutMs: number, socket: WebSocket): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      protocolErrors.inc({ kind: 'keepalive_timeout' });
      this.log.warn('moments realtime keepalive_timeout', { timeoutMs }, `Moments real-time: no keep-alive within ${timeoutMs} ms, reconnecting`);
      this.lastError = `no keep-alive within ${timeoutMs} ms`;
      socket.terminate();
    }, timeoutMs);
  }

  private protocolError(kind: string, err: MomentsRealtimeError): void {
    protocolErrors.inc({ kind });
    this.log.warn(`moments realtime ${kind}`, { err: { code: err.code, message: err.message } }, `${err.message} (every one is counted in mb_moments_realtime_protocol_errors_total{kind="${kind}"})`);
    this.emit('protocolError', err);
  }

  /** The peer's keep-alive timeout, within bounds: an absurd one would overflow the timer (fires at once) or never fire. */
  private keepAliveTimeout(raw: unknown): number {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value)) {
      if (raw !== undefined) this.noteClamp(`connectionTimeoutMs ${JSON.stringify(raw)} is not a number; using AppSync's ${APPSYNC_CONNECTION_TIMEOUT_MS} ms`);
      return APPSYNC_CONNECTION_TIMEOUT_MS;
    }
    const { minMs, maxMs } = this.options.connectionTimeoutBounds ?? DEFAULT_BOUNDS;
    const bounded = Math.min(maxMs, Math.max(minMs, Math.round(value)));
    if (bounded !== value) this.noteClamp(`connectionTimeoutMs ${value} is outside ${minMs}…${maxMs} ms; using ${bounded} ms`);
    return bounded;
  }

  private noteClamp(message: string): void {
    clamped.inc({ field: 'connectionTimeoutMs' });
    if (this.clampLogged) return;
    this.clampLogged = true;
    this.options.logger.warn({ field: 'connectionTimeoutMs' }, `Moments real-time: the server's ${message} (logged once; counted in mb_moments_realtime_clamped_values_total)`);
  }

  private onMessage(socket: WebSocket, raw: RawData): void {
    if (socket !== this.socket) return;
    try {
      this.handleFrame(socket, raw);
    } catch (err) {
      // A frame shape no branch expected must not become an uncaught exception in ws's data handler.
      this.protocolError('unexpected_frame', new MomentsRealtimeError('moments_realtime_unexpected_frame', `Moments real-time: ignored a frame the client could not handle: ${(err as Error).message}`, { retryable: true }));
    }
  }

  private handleFrame(socket: WebSocket, raw: RawData): void {
    const text = raw.toString();
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
      if (frame === null || typeof frame !== 'object') throw new Error('not an object');
    } catch {
      this.protocolError('malformed_frame', new MomentsRealtimeError('moments_realtime_malformed_frame', `Moments real-time: ignored a frame that is not a JSON object: ${JSON.stringify(text.slice(0, 120))}`, { retryable: true }));
      return;
    }
    const id = typeof frame.id === 'string' ? frame.id : undefined;
    const sub = id ? this.subs.get(id) : undefined;
    const payload = frame.payload !== null && typeof frame.payload === 'object' ? frame.payload : undefined;
    const errors = Array.isArray(payload?.errors) ? payload.errors : undefined;
    if ((frame.type === 'start_ack' || frame.type === 'data' || frame.type === 'error') && !sub && id !== undefined) {
      // A late frame for a stopped subscription, or a peer making ids up: counted, nothing else.
      this.protocolError('unknown_subscription', new MomentsRealtimeError('moments_realtime_unknown_subscription', `Moments real-time: ignored a ${frame.type} frame for unknown subscription ${JSON.stringify(id.slice(0, 80))}`, { retryable: true }));
      return;
    }
    switch (frame.type) {
      case 'connection_ack': {
        if (this.initTimer) clearTimeout(this.initTimer);
        if (this.acked) return; // a second ack on one socket changes nothing
        const timeoutMs = this.keepAliveTimeout(payload?.connectionTimeoutMs);
        this.acked = true;
        this.connectionTimeoutMs = timeoutMs;
        // The backoff starts over only once this connection has proved itself (see stableAfterMs).
        if (this.stableTimer) clearTimeout(this.stableTimer);
        this.stableTimer = setTimeout(() => {
          if (socket === this.socket) this.attempt = 0;
        }, this.options.stableAfterMs ?? 30_000);
        this.armWatchdog(timeoutMs, socket);
        this.setState({ status: 'connected', since: new Date().toISOString() });
        for (const s of this.subs.values()) if (!s.failed) void this.sendStart(s);
        this.checkReady();
        return;
      }
      case 'ka':
        if (this.acked) this.armWatchdog(this.connectionTimeoutMs, socket);
        return;
      case 'start_ack':
        if (sub) sub.answered = true;
        this.checkReady();
        return;
      case 'data': {
        const data = payload?.data;
        if (errors?.length) {
          this.protocolError('data_errors', new MomentsRealtimeError('moments_realtime_data_errors', `Moments real-time: subscription ${id} data carried errors: ${describeErrors(errors)}`, { retryable: true }));
        }
        if (!sub) return; // no id at all
        if (data && typeof data === 'object') sub.handler.next(data as Record<string, unknown>);
        return;
      }
      case 'error': {
        const err = new MomentsRealtimeError('moments_realtime_subscription_error', `Moments real-time: subscription ${id ?? '(no id)'} refused: ${describeErrors(errors)} — check the subscription documents in the source config`, { retryable: false });
        if (sub) {
          sub.failed = true;
          sub.answered = true;
          sub.handler.error?.(err);
        }
        this.protocolError('subscription_error', err);
        this.checkReady();
        return;
      }
      case 'complete':
        if (id) this.subs.delete(id);
        return;
      case 'connection_error': {
        if (errors?.some((e) => e !== null && typeof e === 'object' && (String(e.errorType).startsWith('Unauthorized') || e.errorCode === 401))) this.tokenRefused = true;
        const err = new MomentsRealtimeError('moments_realtime_connection_error', `Moments real-time: connection_error: ${describeErrors(errors)}; reconnecting`, { retryable: true });
        this.protocolError('connection_error', err);
        this.lastError = err.message;
        socket.terminate();
        return;
      }
      default:
        this.protocolError('unknown_type', new MomentsRealtimeError('moments_realtime_unknown_frame', `Moments real-time: ignored a frame of unknown type ${JSON.stringify(frame.type)}`, { retryable: true }));
    }
  }

  private checkReady(): void {
    if (!this.acked || this.readyOnThisSocket) return;
    for (const s of this.subs.values()) if (!s.failed && !s.answered) return;
    this.readyOnThisSocket = true;
    const reconnect = this.everReady;
    this.everReady = true;
    this.emit('ready', { reconnect });
  }

  private async sendStart(sub: ActiveSubscription): Promise<void> {
    let token: string;
    try {
      token = await this.options.token();
    } catch (err) {
      this.lastError = `cannot get a token: ${(err as Error).message}`;
      this.socket?.terminate();
      return;
    }
    this.send({
      id: sub.id,
      type: 'start',
      payload: {
        data: JSON.stringify({ query: sub.query, variables: sub.variables }),
        extensions: { authorization: { host: this.options.host, Authorization: token } },
      },
    });
  }

  private send(frame: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}

function describeErrors(errors: Array<{ errorType?: unknown; message?: unknown }> | undefined): string {
  if (!errors?.length) return 'no details';
  return errors
    .map((e) => (e !== null && typeof e === 'object' ? [e.errorType, e.message].filter(Boolean).map(String).join(': ') : String(e)))
    .join('; ')
    .slice(0, 500);
}

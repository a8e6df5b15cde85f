/*
 * One concept at ~370 lines: the state machine of one AppSync real-time socket (connect, ack,
 * keep-alive watchdog, reconnect, re-subscribe) — its transitions share the socket's state. Wire
 * messages are realtime-messages.ts, options realtime-options.ts, error bookkeeping
 * realtime-problems.ts, the subscription table realtime-subscriptions.ts.
 */
import { EventEmitter } from 'node:events';
import { WebSocket, type RawData } from 'ws';
import { counter } from '../../../core/metrics.js';
import { RetryBackoff } from '../../shared/retry-backoff.js';
import { MomentsAuthError, MomentsRealtimeError } from '../moments-errors.js';
import {
  APPSYNC_CONNECTION_TIMEOUT_MS,
  describeErrors,
  handshakeRequest,
  isUnauthorized,
  keepAliveTimeout,
  parseServerMessage,
  startMessage,
} from './realtime-messages.js';
import type { RealtimeClientEvents, RealtimeClientOptions, RealtimeState } from './realtime-options.js';
import { RealtimeProblems } from './realtime-problems.js';
import { SubscriptionBook, type ActiveSubscription, type RealtimeSubscription, type SubscriptionHandler } from './realtime-subscriptions.js';

/**
 * The AWS AppSync real-time protocol over one WebSocket
 * (https://docs.aws.amazon.com/appsync/latest/devguide/real-time-websocket-client.html):
 * `connection_init` → `connection_ack {connectionTimeoutMs}` → `ka` keep-alives; per subscription
 * `start` → `start_ack` → `data`/`error`, `stop` → `complete`. Several subscriptions share the
 * socket. A dead socket (no `ka` within connectionTimeoutMs), a close or a `connection_error`
 * leads to a reconnect with exponential backoff and full jitter, a fresh token and re-subscribing.
 */

const DEFAULT_BOUNDS = { minMs: 1_000, maxMs: 600_000 };
const reconnects = counter('mb_moments_realtime_reconnects_total', 'AppSync real-time reconnect attempts');

export class RealtimeClient extends EventEmitter<RealtimeClientEvents> {
  private readonly options: RealtimeClientOptions;
  private readonly subs = new SubscriptionBook();
  private socket: WebSocket | undefined;
  private currentState: RealtimeState = { status: 'idle' };
  private readonly backoff: RetryBackoff;
  private everReady = false;
  private readyOnThisSocket = false;
  private acked = false;
  private watchdog: NodeJS.Timeout | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private tokenRefused = false;
  private lastError = '';
  /** From the last connection_ack: no `ka` for this long means the socket is dead. */
  private connectionTimeoutMs = APPSYNC_CONNECTION_TIMEOUT_MS;
  private stableTimer: NodeJS.Timeout | undefined;
  private readonly problems: RealtimeProblems;

  constructor(options: RealtimeClientOptions) {
    super();
    if (!options.url) throw new TypeError('RealtimeClient: url is required');
    this.options = options;
    this.problems = new RealtimeProblems(options.logger);
    this.backoff = new RetryBackoff({ initialDelayMs: options.initialDelayMs ?? 500, maxDelayMs: options.maxDelayMs ?? 30_000, random: options.random });
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
    const sub = this.subs.add(query, variables, handler);
    const id = sub.id;
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
    this.setState({ status: 'connecting', attempt: this.backoff.attempt });
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
    const { url, protocols } = handshakeRequest(this.options.url, this.options.host, token, this.options.auth ?? 'subprotocol');
    const socket = new WebSocket(url, protocols, {
      handshakeTimeout: this.options.connectionInitTimeoutMs ?? 15_000,
      maxPayload: this.options.maxMessageBytes ?? 1_048_576,
    });
    this.socket = socket;
    this.acked = false;
    this.readyOnThisSocket = false;
    this.subs.resetAnswers();

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
        this.problems.oversizedMessage(limit);
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
    const delay = this.backoff.next();
    reconnects.inc();
    this.setState({ status: 'reconnecting', attempt: this.backoff.attempt, nextRetryInMs: delay, lastError: reason });
    this.backoff.after(delay, () => void this.connect());
  }

  private clearTimers(): void {
    this.backoff.cancel();
    for (const t of [this.watchdog, this.initTimer, this.stableTimer]) if (t) clearTimeout(t);
    this.watchdog = this.initTimer = this.stableTimer = undefined;
  }

  private armWatchdog(timeoutMs: number, socket: WebSocket): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      this.problems.keepAliveMissed(timeoutMs);
      this.lastError = `no keep-alive within ${timeoutMs} ms`;
      socket.terminate();
    }, timeoutMs);
  }

  private protocolError(kind: string, err: MomentsRealtimeError): void {
    this.problems.protocolError(kind, err);
    this.emit('protocolError', err);
  }

  private onMessage(socket: WebSocket, raw: RawData): void {
    if (socket !== this.socket) return;
    try {
      this.handleFrame(socket, raw);
    } catch (err) {
      // A frame shape no branch expected must not become an uncaught exception in ws's data handler.
      this.protocolError(
        'unexpected_frame',
        new MomentsRealtimeError(
          'moments_realtime_unexpected_frame',
          `Moments real-time: ignored a frame the client could not handle: ${(err as Error).message}`,
          { retryable: true },
        ),
      );
    }
  }

  private handleFrame(socket: WebSocket, raw: RawData): void {
    const text = raw.toString();
    const frame = parseServerMessage(text);
    if (!frame) {
      this.protocolError(
        'malformed_frame',
        new MomentsRealtimeError(
          'moments_realtime_malformed_frame',
          `Moments real-time: ignored a frame that is not a JSON object: ${JSON.stringify(text.slice(0, 120))}`,
          { retryable: true },
        ),
      );
      return;
    }
    const id = typeof frame.id === 'string' ? frame.id : undefined;
    const sub = id ? this.subs.get(id) : undefined;
    const payload = frame.payload !== null && typeof frame.payload === 'object' ? frame.payload : undefined;
    const errors = Array.isArray(payload?.errors) ? payload.errors : undefined;
    if ((frame.type === 'start_ack' || frame.type === 'data' || frame.type === 'error') && !sub && id !== undefined) {
      // A late frame for a stopped subscription, or a peer making ids up: counted, nothing else.
      this.protocolError(
        'unknown_subscription',
        new MomentsRealtimeError(
          'moments_realtime_unknown_subscription',
          `Moments real-time: ignored a ${frame.type} frame for unknown subscription ${JSON.stringify(id.slice(0, 80))}`,
          { retryable: true },
        ),
      );
      return;
    }
    switch (frame.type) {
      case 'connection_ack': {
        if (this.initTimer) clearTimeout(this.initTimer);
        if (this.acked) return; // a second ack on one socket changes nothing
        const timeoutMs = keepAliveTimeout(payload?.connectionTimeoutMs, this.options.connectionTimeoutBounds ?? DEFAULT_BOUNDS, (message) =>
          this.problems.clampedTimeout(message),
        );
        this.acked = true;
        this.connectionTimeoutMs = timeoutMs;
        // The backoff starts over only once this connection has proved itself (see stableAfterMs).
        if (this.stableTimer) clearTimeout(this.stableTimer);
        this.stableTimer = setTimeout(() => {
          if (socket === this.socket) this.backoff.reset();
        }, this.options.stableAfterMs ?? 30_000);
        this.armWatchdog(timeoutMs, socket);
        this.setState({ status: 'connected', since: new Date().toISOString() });
        for (const s of this.subs.toStart()) void this.sendStart(s);
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
          this.protocolError(
            'data_errors',
            new MomentsRealtimeError('moments_realtime_data_errors', `Moments real-time: subscription ${id} data carried errors: ${describeErrors(errors)}`, {
              retryable: true,
            }),
          );
        }
        if (!sub) return; // no id at all
        if (data && typeof data === 'object') sub.handler.next(data as Record<string, unknown>);
        return;
      }
      case 'error': {
        const err = new MomentsRealtimeError(
          'moments_realtime_subscription_error',
          `Moments real-time: subscription ${id ?? '(no id)'} refused: ${describeErrors(errors)} — check the subscription documents in the source config`,
          { retryable: false },
        );
        if (sub) {
          this.subs.refuse(sub);
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
        if (isUnauthorized(errors)) this.tokenRefused = true;
        const err = new MomentsRealtimeError(
          'moments_realtime_connection_error',
          `Moments real-time: connection_error: ${describeErrors(errors)}; reconnecting`,
          { retryable: true },
        );
        this.protocolError('connection_error', err);
        this.lastError = err.message;
        socket.terminate();
        return;
      }
      default:
        this.protocolError(
          'unknown_type',
          new MomentsRealtimeError('moments_realtime_unknown_frame', `Moments real-time: ignored a frame of unknown type ${JSON.stringify(frame.type)}`, {
            retryable: true,
          }),
        );
    }
  }

  private checkReady(): void {
    if (!this.acked || this.readyOnThisSocket) return;
    if (!this.subs.allAnswered()) return;
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
    this.send(startMessage(sub.id, sub.query, sub.variables, this.options.host, token));
  }

  private send(frame: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}

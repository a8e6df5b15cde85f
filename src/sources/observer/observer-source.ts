/*
 * One concept at ~340 lines: the observer source's lifecycle (connect, open frames, reconnect,
 * stop) and its hand-off of rows in order. Frames, call discovery, the admin poller, row identity
 * and the client are their own files; what is left shares the connection's state.
 */
import { RedisEpoch } from '../shared/redis-epoch.js';
import { RetryBackoff } from '../shared/retry-backoff.js';
import { SeenWindow } from '../shared/seen-window.js';
import { counter } from '../../core/metrics.js';
import { stateKeyBase, type Source, type SourceContext, type SourceState } from '../source.js';
import { AdminPoller } from './admin-poller.js';
import { CallDiscovery } from './call-discovery.js';
import type { ObserverAdminLike, ObserverClientLike } from './observer-api.js';
import { ObserverAdminClient } from './observer-admin-client.js';
import { ObserverClient } from './observer-client.js';
import { ObserverError } from './observer-errors.js';
import { ObserverFrames } from './observer-frames.js';
import { ObserverPolls } from './observer-polls.js';
import type { MalformedMessage } from './observer-protocol.js';
import { RateLimitedLog } from '../../core/log-rate-limit.js';
import { ObserverRows } from './observer-rows.js';
import { loadObserverSdk, type ObserverClientFactory } from './sdk-loader.js';
import type { ObserverSourceConfig } from './source-config.js';

const metrics = {
  malformed: counter('mb_observer_malformed_frames_total', 'Messages from the Observer service that could not be decoded (skipped)', ['source']),
  oversized: counter(
    'mb_observer_oversized_messages_total',
    'Messages from the Observer service over maxMessageBytes (the connection was dropped and re-opened)',
    ['source'],
  ),
  reconnects: counter('mb_observer_reconnects_total', 'Successful Observer reconnections after a drop', ['source']),
  connectFailures: counter('mb_observer_connect_failures_total', 'Failed Observer connection attempts', ['source', 'code']),
  requestErrors: counter('mb_observer_request_errors_total', 'Failed Observer requests (timeouts, error answers, invalid results)', [
    'source',
    'method',
    'code',
  ]),
};

function errorCode(err: unknown): string {
  return err instanceof ObserverError ? err.code : 'observer_error';
}

export interface ObserverSourceOptions {
  /** Builds the client; defaults to the built-in client or the `sdk:` package. */
  createClient?: ObserverClientFactory;
  /**
   * Rows and events held in memory while the pipeline cannot take them (Redis down). Beyond it the
   * oldest rows are dropped from memory and their frames re-read (`update()` on a re-opened frame)
   * once the pipeline takes events again. @defaultValue 10000
   */
  maxPendingEvents?: number;
  /** Upper bound of the first retry delay of a refused row or event, ms (doubling up to 10 s). @defaultValue 200 */
  retryInitialDelayMs?: number;
}

/*
 * A little over ~300 lines: the connection lifecycle (connect, disconnect, reconnect, generation
 * checks) and the wiring of frames, polls and rows share the connection's state; the parts with a
 * job of their own are observer-frames.ts, observer-polls.ts and observer-rows.ts.
 */

/**
 * Follows the Observer frames named in config and turns every new row into one `observer.row`
 * event. Owns its connection: reconnects with exponential backoff and full jitter, re-opens every
 * frame and pulls each frame's rows (`update()`) so rows published during the outage arrive;
 * row ids remembered in Redis keep a re-sent row from being emitted twice.
 */
export class ObserverSource implements Source {
  private current: SourceState = { status: 'starting' };
  private factory: ObserverClientFactory | undefined;
  private client: ObserverClientLike | undefined;
  /** Incremented per connection attempt; callbacks of an older connection are ignored. */
  private generation = 0;
  private connectedGeneration: number | undefined;
  private everConnected = false;
  private readonly reconnect: RetryBackoff;
  private stopped = false;
  private readonly frames: ObserverFrames;
  private readonly polls: ObserverPolls;
  private readonly rows: ObserverRows;
  /** A server sending garbage sends a lot of it: ten lines a minute, the metric counts the rest. */
  private readonly malformedLog: RateLimitedLog;
  private readonly admin: AdminPoller | undefined;
  /**
   * The connection seen marks and call/admin states are written on, and its epoch: a mark written
   * after a Redis restart for an event handed over before it could vouch for a job the restart
   * took (see RedisEpoch).
   */
  private readonly epoch: RedisEpoch;

  constructor(
    private readonly config: ObserverSourceConfig,
    private readonly ctx: SourceContext,
    private readonly options: ObserverSourceOptions = {},
  ) {
    this.malformedLog = new RateLimitedLog(ctx.logger, { burst: 10, intervalMs: 60_000 });
    this.reconnect = new RetryBackoff({ initialDelayMs: config.reconnect.initialDelay, maxDelayMs: config.reconnect.maxDelay, minDelayMs: 10 });
    this.epoch = new RedisEpoch({ shared: ctx.redis, logger: ctx.logger, onReconnect: () => this.onRedisReconnect() });
    // Call discovery and the admin poller write "emitted" states after tryEmit: on the same connection.
    const stateCtx: SourceContext = { ...ctx, redis: this.epoch.redis };
    const isCurrent = (generation: number) => generation === this.connectedGeneration;
    this.frames = new ObserverFrames({
      ctx,
      client: () => this.client,
      connectedGeneration: () => this.connectedGeneration,
      enqueueRow: (spec, row) => this.rows.enqueueRow(spec, row),
      requestFailed: (method, err) => this.requestFailed(method, err),
    });
    this.rows = new ObserverRows({
      ctx,
      epoch: this.epoch,
      // The former layout's per-row keys (`seen:<id>`) are still read until they expire.
      seen: new SeenWindow(this.epoch.redis, stateKeyBase(ctx), config.dedupTtl, { kind: 'keys', prefix: this.key('seen:') }),
      frames: this.frames,
      cap: options.maxPendingEvents ?? 10_000,
      retryInitialDelayMs: options.retryInitialDelayMs ?? 200,
      isStopped: () => this.stopped,
    });
    const discovery = new CallDiscovery({
      ctx: stateCtx,
      callsKey: this.key('calls'),
      client: () => this.client,
      isCurrent,
      openFrame: (generation, spec) => this.frames.open(generation, spec),
      closeFrame: (key) => this.frames.close(key),
      discoveredFrames: () => this.frames.discovered(),
      followedLive: (key) => this.frames.followedLive(key),
      enqueueRow: (spec, row) => this.rows.enqueueRow(spec, row),
      emit: (event) => this.rows.tryEmit(event),
      requestFailed: (method, err) => this.requestFailed(method, err),
    });
    this.polls = new ObserverPolls({
      ctx,
      discovery,
      client: () => this.client,
      isCurrent,
      addEvent: (event) => this.rows.addEvent(event),
      requestFailed: (method, err) => this.requestFailed(method, err),
    });
    // Call started/ended and admin state events are not held here: their last emitted state is in
    // Redis, and the next poll (which runs on a timer, rows or not) emits again whatever was refused.
    if (config.admin) {
      this.admin = new AdminPoller({
        ctx: stateCtx,
        pollEvery: config.admin.pollEvery,
        emit: (event) => this.rows.tryEmit(event),
        requestFailed: (method, err) => this.requestFailed(method, err),
      });
    }
  }

  state(): SourceState {
    return this.current;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.epoch.connect();
    this.rows.resume();
    this.factory =
      this.options.createClient ??
      (this.config.sdk
        ? await loadObserverSdk(this.config.sdk, this.ctx.configDir, { admin: this.admin !== undefined })
        : (options) => (options.admin ? new ObserverAdminClient(options) : new ObserverClient(options)));
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reconnect.cancel();
    this.polls.stop();
    this.admin?.stop();
    this.malformedLog.flush();
    this.connectedGeneration = undefined;
    this.frames.forgetAll();
    const client = this.client;
    this.client = undefined;
    await Promise.resolve(client?.close()).catch(() => undefined);
    // Rows still waiting are not marked seen in Redis: the next start re-reads them with update().
    await this.rows.stop();
    this.epoch.close();
    this.current = { status: 'stopped' };
  }

  // ---- connection ------------------------------------------------------------------------------

  private key(suffix: string): string {
    return `${stateKeyBase(this.ctx)}${suffix}`;
  }

  private async connect(): Promise<void> {
    if (this.stopped || !this.factory) return;
    const generation = ++this.generation;
    let client: ObserverClientLike;
    try {
      client = this.factory({
        url: this.config.url,
        getAccessToken: () => this.config.accessToken,
        requestTimeoutMs: this.config.requestTimeout,
        pingIntervalMs: this.config.pingInterval,
        maxMessageBytes: this.config.maxMessageBytes,
        admin: this.admin !== undefined,
      });
    } catch (err) {
      this.current = { status: 'auth_failed', error: (err as Error).message };
      throw err; // a broken sdk is a config error: fail start()
    }
    this.client = client;
    client.on?.('close', (info) => {
      // The built-in client says why (close code, oversized message); an SDK may say nothing.
      const reason =
        typeof info === 'object' && info !== null && typeof (info as { reason?: unknown }).reason === 'string'
          ? (info as { reason: string }).reason
          : 'connection closed';
      this.onDisconnect(generation, reason);
    });
    client.on?.('malformed', (message) => this.onMalformed(message as MalformedMessage));
    client.on?.('oversized', (info) => this.onOversized((info as { limitBytes: number }).limitBytes));
    try {
      await client.connect();
    } catch (err) {
      await Promise.resolve(client.close()).catch(() => undefined);
      if (generation === this.generation) this.scheduleReconnect(err);
      return;
    }
    if (this.stopped || generation !== this.generation) {
      await Promise.resolve(client.close()).catch(() => undefined);
      return;
    }
    this.connectedGeneration = generation;
    this.reconnect.reset();
    this.current = { status: 'connected', since: new Date().toISOString() };
    if (this.everConnected) metrics.reconnects.inc({ source: this.ctx.name });
    this.ctx.logger.info({ url: this.config.url, reconnect: this.everConnected }, 'observer: connected');
    this.everConnected = true;
    this.frames.connected();
    this.openConfiguredFrames(generation);
    this.admin?.start(client as ObserverAdminLike);
  }

  private onDisconnect(generation: number, reason: string): void {
    if (this.stopped || generation !== this.connectedGeneration) return;
    this.connectedGeneration = undefined;
    this.polls.stop();
    this.admin?.stop();
    // The service forgets frames with the connection; they are re-created after reconnecting.
    this.frames.forgetAll();
    this.ctx.logger.warn({ reason }, 'observer: connection lost, reconnecting');
    this.scheduleReconnect(new ObserverError('observer_disconnected', `Observer connection lost: ${reason}`));
  }

  private scheduleReconnect(err: unknown): void {
    if (this.stopped) return;
    const jittered = this.reconnect.next();
    const code = errorCode(err);
    metrics.connectFailures.inc({ source: this.ctx.name, code });
    const message = (err as Error)?.message ?? String(err);
    let delay: number;
    if (err instanceof ObserverError && err.isAuthFailure) {
      // Retrying a rejected token quickly only hammers the service: wait the longest delay.
      delay = this.config.reconnect.maxDelay;
      this.current = { status: 'auth_failed', error: message };
      this.ctx.logger.error({ code, retryInMs: delay }, `observer: ${message}`);
    } else {
      delay = jittered;
      const attempt = this.reconnect.attempt;
      this.current = { status: 'reconnecting', attempt, nextRetryInMs: delay, lastError: message };
      this.ctx.logger.warn({ code, attempt, retryInMs: delay }, `observer: ${message}`);
    }
    this.reconnect.cancel();
    this.reconnect.after(delay, () => void this.connect().catch((e) => this.ctx.logger.error({ err: e }, 'observer: reconnect failed')));
  }

  private onMalformed(message: MalformedMessage): void {
    metrics.malformed.inc({ source: this.ctx.name });
    this.malformedLog.warn(
      `${this.ctx.name}:malformed`,
      { reason: message.reason, preview: message.preview },
      'observer: skipped a malformed message from the service (protocol mismatch or a server bug; the connection stays up; mb_observer_malformed_frames_total counts every one)',
    );
  }

  private onOversized(limitBytes: number): void {
    metrics.oversized.inc({ source: this.ctx.name });
    this.ctx.logger.error(
      { limitBytes },
      `observer: the service sent a message over maxMessageBytes (${limitBytes} bytes); the connection was dropped and is re-opened — raise maxMessageBytes if the service legitimately sends messages this large (updateFrame answers carry every row a frame holds)`,
    );
  }

  private requestFailed(method: string, err: unknown): void {
    const code = errorCode(err);
    metrics.requestErrors.inc({ source: this.ctx.name, method, code });
    const message = (err as Error)?.message ?? String(err);
    this.ctx.logger.warn({ method, code }, `observer: ${method} failed: ${message}`);
    // A client that does not emit 'close' (some SDKs) still shows a drop through its requests.
    if (code === 'observer_disconnected' && this.connectedGeneration !== undefined) this.onDisconnect(this.connectedGeneration, message);
  }

  // ---- frames ------------------------------------------------------------------------------------

  private openConfiguredFrames(generation: number): void {
    for (const [index, frame] of this.config.frames.entries()) {
      if ('ongoingCalls' in frame) {
        this.polls.discoverCalls(generation, frame.ongoingCalls);
      } else if ('callSnapshots' in frame) {
        void this.frames.open(generation, { kind: 'callSnapshots', callId: frame.callSnapshots.callId, discovered: false });
      } else if ('clientSnapshots' in frame) {
        void this.frames.open(generation, { kind: 'clientSnapshots', ...frame.clientSnapshots, discovered: false });
      } else if ('database' in frame) {
        void this.frames.open(generation, { kind: 'database', resource: frame.database.resource, conditions: frame.database.conditions, discovered: false });
      } else {
        this.polls.summaryStats(generation, index, frame.summaryStats.every, frame.summaryStats.params);
      }
    }
  }

  /** Open frames by key (`callSnapshots:<callId>`, `clientSnapshots:<callId>:<clientId>`, `database:<resource>`). */
  openFrames(): string[] {
    return this.frames.openKeys();
  }

  /**
   * Redis is back and may have lost its last writes: seen marks with the jobs they vouch for.
   * Rows in memory are retried (handleRow); rows already done are found again by re-reading every
   * open frame, as after dropping them over the cap (the seen set on the new Redis skips the rest).
   */
  private onRedisReconnect(): void {
    if (this.stopped || this.connectedGeneration === undefined) return;
    this.ctx.logger.warn({ frames: this.frames.size }, 'observer: Redis connection re-established; re-reading every frame in case Redis lost its last writes');
    this.frames.markAllForResync();
    this.frames.resyncMarked();
  }
}

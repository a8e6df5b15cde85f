import { eventId, type BridgeEvent } from '../../core/event.js';
import { fullJitterBackoff } from '../../core/full-jitter.js';
import { counter, gauge } from '../../core/metrics.js';
import { RedisEpoch } from '../redis-epoch.js';
import type { Source, SourceContext, SourceState } from '../source.js';
import { AdminPoller } from './admin-poller.js';
import { CallDiscovery } from './call-discovery.js';
import { frameKey, type FrameSpec } from './frame-spec.js';
import type { DataFrameLike, ObserverAdminLike, ObserverClientLike, ObserverRow } from './observer-api.js';
import { ObserverAdminClient } from './observer-admin-client.js';
import { ObserverClient } from './observer-client.js';
import { ObserverError } from './observer-errors.js';
import type { MalformedMessage } from './observer-protocol.js';
import { summaryStats } from './observer-schemas.js';
import { RateLimitedLog } from '../../core/log-rate-limit.js';
import { PendingEvents } from './pending-events.js';
import { identifyRow } from './row-identity.js';
import { loadObserverSdk, type ObserverClientFactory } from './sdk-loader.js';
import type { ObserverSourceConfig } from './source-config.js';
import { observerRowSummary } from './row-summary.js';

const metrics = {
  framesOpen: gauge('mb_observer_frames_open', 'Observer data frames currently open', ['source']),
  rows: counter('mb_observer_rows_total', 'Observer rows turned into events', ['source', 'frame']),
  duplicateRows: counter('mb_observer_duplicate_rows_total', 'Observer rows dropped because their id was already emitted', ['source']),
  invalidRows: counter('mb_observer_invalid_rows_total', 'Observer rows that cannot be routed (not an object, or naming another call/client): quarantined', ['source', 'frame']),
  malformed: counter('mb_observer_malformed_frames_total', 'Messages from the Observer service that could not be decoded (skipped)', ['source']),
  oversized: counter('mb_observer_oversized_messages_total', 'Messages from the Observer service over maxMessageBytes (the connection was dropped and re-opened)', ['source']),
  reconnects: counter('mb_observer_reconnects_total', 'Successful Observer reconnections after a drop', ['source']),
  connectFailures: counter('mb_observer_connect_failures_total', 'Failed Observer connection attempts', ['source', 'code']),
  requestErrors: counter('mb_observer_request_errors_total', 'Failed Observer requests (timeouts, error answers, invalid results)', ['source', 'method', 'code']),
  emitFailures: counter('mb_observer_emit_failures_total', 'Observer events the pipeline could not take (retried)', ['source']),
  pending: gauge('mb_observer_pending_events', 'Observer rows and events waiting to be handed to the pipeline (in order, or for a retry)', ['source']),
  pendingDropped: counter(
    'mb_observer_pending_dropped_total',
    'Observer rows dropped from memory because too many were waiting (their frames are re-read once the pipeline takes events again)',
    ['source'],
  ),
};

interface OpenFrame {
  spec: FrameSpec;
  frame?: DataFrameLike;
  closing: boolean;
}

function errorCode(err: unknown): string {
  return err instanceof ObserverError ? err.code : 'observer_error';
}

/** What waits to be handed to the pipeline: a frame's row, or a ready event (summary). */
type PendingItem = { kind: 'row'; spec: FrameSpec; row: ObserverRow } | { kind: 'event'; event: BridgeEvent };

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
  private attempt = 0;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly frames = new Map<string, OpenFrame>();
  private readonly pending: PendingEvents<PendingItem>;
  /** Frames whose rows were dropped from memory over the cap: re-read when the pipeline recovers. */
  private readonly resync = new Map<string, FrameSpec>();
  /** Frames opened and read on the current connection: their rows arrived live until they closed. */
  private readonly followed = new Set<string>();
  private readonly discovery: CallDiscovery;
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
    this.epoch = new RedisEpoch({ shared: ctx.redis, logger: ctx.logger, onReconnect: () => this.onRedisReconnect() });
    // Call discovery and the admin poller write "emitted" states after tryEmit: on the same connection.
    const stateCtx: SourceContext = { ...ctx, redis: this.epoch.redis };
    const cap = options.maxPendingEvents ?? 10_000;
    this.pending = new PendingEvents<PendingItem>({
      cap,
      initialDelayMs: options.retryInitialDelayMs ?? 200,
      handle: (item) => (item.kind === 'row' ? this.handleRow(item.spec, item.row) : this.tryEmit(item.event)),
      onDrop: (item) => this.onDropped(item),
      onTaken: (waiting) => {
        metrics.pending.set({ source: ctx.name }, waiting);
        // Re-read dropped frames once the pipeline is healthy again and has room for their rows.
        if (this.resync.size > 0 && !this.pending.blocked && waiting < cap / 2) this.resyncFrames();
      },
    });
    this.discovery = new CallDiscovery({
      ctx: stateCtx,
      callsKey: this.key('calls'),
      client: () => this.client,
      isCurrent: (generation) => generation === this.connectedGeneration,
      openFrame: (generation, spec) => this.openFrame(generation, spec),
      closeFrame: (key) => this.closeFrame(key),
      discoveredFrames: () => [...this.frames.entries()].filter(([, e]) => e.spec.discovered).map(([key, e]) => [key, e.spec]),
      // Followed on this connection until the service closed it: every row came live.
      followedLive: (key) => this.frames.has(key) || this.followed.delete(key),
      enqueueRow: (spec, row) => this.enqueueRow(spec, row),
      emit: (event) => this.tryEmit(event),
      requestFailed: (method, err) => this.requestFailed(method, err),
    });
    // Call started/ended and admin state events are not held here: their last emitted state is in
    // Redis, and the next poll (which runs on a timer, rows or not) emits again whatever was refused.
    if (config.admin) {
      this.admin = new AdminPoller({
        ctx: stateCtx,
        pollEvery: config.admin.pollEvery,
        emit: (event) => this.tryEmit(event),
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
    this.pending.resume();
    this.factory =
      this.options.createClient ??
      (this.config.sdk
        ? await loadObserverSdk(this.config.sdk, this.ctx.configDir, { admin: this.admin !== undefined })
        : (options) => (options.admin ? new ObserverAdminClient(options) : new ObserverClient(options)));
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.clearTimers();
    this.admin?.stop();
    this.malformedLog.flush();
    this.connectedGeneration = undefined;
    for (const entry of this.frames.values()) entry.closing = true;
    this.frames.clear();
    this.updateFramesGauge();
    const client = this.client;
    this.client = undefined;
    await Promise.resolve(client?.close()).catch(() => undefined);
    // Rows still waiting are not marked seen in Redis: the next start re-reads them with update().
    await this.pending.stop();
    this.epoch.close();
    this.current = { status: 'stopped' };
  }

  // ---- connection ------------------------------------------------------------------------------

  private key(suffix: string): string {
    return `${this.ctx.keyPrefix}source:${this.ctx.name}:${suffix}`;
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
      const reason = typeof info === 'object' && info !== null && typeof (info as { reason?: unknown }).reason === 'string' ? (info as { reason: string }).reason : 'connection closed';
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
    this.attempt = 0;
    this.current = { status: 'connected', since: new Date().toISOString() };
    if (this.everConnected) metrics.reconnects.inc({ source: this.ctx.name });
    this.ctx.logger.info({ source: this.ctx.name, url: this.config.url, reconnect: this.everConnected }, 'observer: connected');
    this.everConnected = true;
    this.resync.clear(); // every frame is re-opened and re-read now
    this.followed.clear();
    this.openConfiguredFrames(generation);
    this.admin?.start(client as ObserverAdminLike);
  }

  private onDisconnect(generation: number, reason: string): void {
    if (this.stopped || generation !== this.connectedGeneration) return;
    this.connectedGeneration = undefined;
    this.clearTimers();
    this.admin?.stop();
    // The service forgets frames with the connection; they are re-created after reconnecting.
    for (const entry of this.frames.values()) entry.closing = true;
    this.frames.clear();
    this.updateFramesGauge();
    this.ctx.logger.warn({ source: this.ctx.name, reason }, 'observer: connection lost, reconnecting');
    this.scheduleReconnect(new ObserverError('observer_disconnected', `Observer connection lost: ${reason}`));
  }

  private scheduleReconnect(err: unknown): void {
    if (this.stopped) return;
    this.attempt += 1;
    const code = errorCode(err);
    metrics.connectFailures.inc({ source: this.ctx.name, code });
    const message = (err as Error)?.message ?? String(err);
    const { initialDelay, maxDelay } = this.config.reconnect;
    let delay: number;
    if (err instanceof ObserverError && err.isAuthFailure) {
      // Retrying a rejected token quickly only hammers the service: wait the longest delay.
      delay = maxDelay;
      this.current = { status: 'auth_failed', error: message };
      this.ctx.logger.error({ source: this.ctx.name, code, retryInMs: delay }, `observer: ${message}`);
    } else {
      // Full jitter (a random delay up to the exponential bound) spreads replicas' reconnects.
      delay = Math.max(10, fullJitterBackoff(this.attempt, initialDelay, maxDelay));
      this.current = { status: 'reconnecting', attempt: this.attempt, nextRetryInMs: delay, lastError: message };
      this.ctx.logger.warn({ source: this.ctx.name, code, attempt: this.attempt, retryInMs: delay }, `observer: ${message}`);
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect().catch((e) => this.ctx.logger.error({ err: e }, 'observer: reconnect failed')), delay);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private onMalformed(message: MalformedMessage): void {
    metrics.malformed.inc({ source: this.ctx.name });
    this.malformedLog.warn(
      `${this.ctx.name}:malformed`,
      { source: this.ctx.name, reason: message.reason, preview: message.preview },
      'observer: skipped a malformed message from the service (protocol mismatch or a server bug; the connection stays up; mb_observer_malformed_frames_total counts every one)',
    );
  }

  private onOversized(limitBytes: number): void {
    metrics.oversized.inc({ source: this.ctx.name });
    this.ctx.logger.error(
      { source: this.ctx.name, limitBytes },
      `observer: the service sent a message over maxMessageBytes (${limitBytes} bytes); the connection was dropped and is re-opened — raise maxMessageBytes if the service legitimately sends messages this large (updateFrame answers carry every row a frame holds)`,
    );
  }

  private requestFailed(method: string, err: unknown): void {
    const code = errorCode(err);
    metrics.requestErrors.inc({ source: this.ctx.name, method, code });
    const message = (err as Error)?.message ?? String(err);
    this.ctx.logger.warn({ source: this.ctx.name, method, code }, `observer: ${method} failed: ${message}`);
    // A client that does not emit 'close' (some SDKs) still shows a drop through its requests.
    if (code === 'observer_disconnected' && this.connectedGeneration !== undefined) this.onDisconnect(this.connectedGeneration, message);
  }

  // ---- frames ------------------------------------------------------------------------------------

  private openConfiguredFrames(generation: number): void {
    for (const [index, frame] of this.config.frames.entries()) {
      if ('ongoingCalls' in frame) {
        const poll = () => void this.discovery.poll(generation, frame.ongoingCalls.frames);
        poll();
        this.timers.push(setInterval(poll, frame.ongoingCalls.pollEvery));
      } else if ('callSnapshots' in frame) {
        void this.openFrame(generation, { kind: 'callSnapshots', callId: frame.callSnapshots.callId, discovered: false });
      } else if ('clientSnapshots' in frame) {
        void this.openFrame(generation, { kind: 'clientSnapshots', ...frame.clientSnapshots, discovered: false });
      } else if ('database' in frame) {
        void this.openFrame(generation, { kind: 'database', resource: frame.database.resource, conditions: frame.database.conditions, discovered: false });
      } else {
        const { every, params } = frame.summaryStats;
        this.timers.push(setInterval(() => void this.emitSummary(generation, index, every, params), every));
      }
    }
  }

  private async openFrame(generation: number, spec: FrameSpec): Promise<void> {
    const client = this.client;
    const key = frameKey(spec);
    if (!client || generation !== this.connectedGeneration || this.frames.has(key)) return;
    const entry: OpenFrame = { spec, closing: false };
    this.frames.set(key, entry); // reserved now so a concurrent poll does not open it twice
    let frame: DataFrameLike;
    try {
      if (spec.kind === 'callSnapshots') frame = await client.createCallSnapshotsFrame(spec.callId!);
      else if (spec.kind === 'clientSnapshots') frame = await client.createClientSnapshotsFrame({ callId: spec.callId!, clientId: spec.clientId! });
      else frame = await client.createDatabaseFrame(spec.resource!, spec.conditions ?? {}, false);
    } catch (err) {
      if (this.frames.get(key) === entry) this.frames.delete(key);
      this.requestFailed('createFrame', err);
      return;
    }
    if (entry.closing || generation !== this.connectedGeneration) {
      await Promise.resolve(frame.close()).catch(() => undefined);
      return;
    }
    entry.frame = frame;
    this.updateFramesGauge();
    this.ctx.logger.debug({ source: this.ctx.name, frame: key }, 'observer: frame opened');
    frame.on('newrow', (row) => this.enqueueRow(spec, row));
    frame.on('error', (err) => this.requestFailed('frame', err));
    frame.on('close', (reason) => {
      if (this.frames.get(key) !== entry) return;
      this.frames.delete(key);
      this.updateFramesGauge();
      // 'disconnected' is the connection's close, handled (and logged) by onDisconnect.
      if (!entry.closing && reason !== 'disconnected') this.ctx.logger.info({ source: this.ctx.name, frame: key, reason: String(reason ?? '') }, 'observer: frame closed by the service');
    });
    try {
      // Rows an SDK may already hold (e.g. from updateOnCreate), then a pull: after a reconnect
      // this is what delivers rows published while the bridge was away.
      if (frame[Symbol.iterator]) for (const row of frame as Iterable<ObserverRow>) this.enqueueRow(spec, row);
      else if (frame[Symbol.asyncIterator]) for await (const row of frame as AsyncIterable<ObserverRow>) this.enqueueRow(spec, row);
      await frame.update();
      if (generation === this.connectedGeneration) this.followed.add(key);
    } catch (err) {
      this.requestFailed('updateFrame', err);
    }
  }

  private async closeFrame(key: string): Promise<void> {
    const entry = this.frames.get(key);
    if (!entry) return;
    entry.closing = true;
    this.frames.delete(key);
    this.updateFramesGauge();
    this.ctx.logger.debug({ source: this.ctx.name, frame: key }, 'observer: frame closed');
    await Promise.resolve(entry.frame?.close()).catch(() => undefined);
  }

  private updateFramesGauge(): void {
    let open = 0;
    for (const entry of this.frames.values()) if (entry.frame) open += 1;
    metrics.framesOpen.set({ source: this.ctx.name }, open);
  }

  /** Open frames by key (`callSnapshots:<callId>`, `clientSnapshots:<callId>:<clientId>`, `database:<resource>`). */
  openFrames(): string[] {
    return [...this.frames.entries()].filter(([, e]) => e.frame).map(([k]) => k);
  }

  private async emitSummary(generation: number, index: number, every: number, params: Record<string, unknown>): Promise<void> {
    const client = this.client;
    if (!client || generation !== this.connectedGeneration) return;
    // One id per period, fixed when the tick fires (ticks are at least `every` apart, so a slow
    // answer cannot fold two polls into one period); replicas polling the same period agree.
    const bucket = Math.floor(Date.now() / every) * every;
    let stats: Record<string, unknown>;
    try {
      const parsed = summaryStats.safeParse(await client.getSummaryStats(params));
      if (!parsed.success) throw new ObserverError('observer_invalid_response', 'getSummaryStats returned something that is not an object');
      stats = parsed.data;
    } catch (err) {
      this.requestFailed('getSummaryStats', err);
      return;
    }
    // Through the pending list: a summary the pipeline refuses is retried, not skipped.
    this.addPending({
      kind: 'event',
      event: {
        id: eventId(this.ctx.name, 'observer.summary', `summaryStats:${index}:${bucket}`),
        source: this.ctx.name,
        kind: 'observer.summary',
        time: new Date(bucket).toISOString(),
        data: { ...stats, params },
      },
    });
  }

  // ---- rows ---------------------------------------------------------------------------------------

  private enqueueRow(spec: FrameSpec, row: ObserverRow): void {
    // Rows can be dropped over the cap: their frame is re-read later (update() on a new frame).
    this.addPending({ kind: 'row', spec, row });
  }

  private addPending(item: PendingItem): void {
    this.pending.add(item, { droppable: item.kind === 'row' });
    metrics.pending.set({ source: this.ctx.name }, this.pending.size);
  }

  /** One row to the pipeline; true once it is there (or quarantined, or already emitted). */
  private async handleRow(spec: FrameSpec, raw: ObserverRow): Promise<boolean> {
    if (this.stopped) return true;
    const row = identifyRow(spec, raw);
    try {
      if (!row.ok) {
        metrics.invalidRows.inc({ source: this.ctx.name, frame: spec.kind });
        this.ctx.logger.warn({ source: this.ctx.name, frame: frameKey(spec) }, `observer: quarantined a row: ${row.reason}`);
        await this.ctx.quarantine({ kind: 'observer.row', reason: row.reason, raw });
        return true;
      }
      const seenKey = this.key(`seen:${row.upstreamId}`);
      const epoch = this.epoch.current;
      if ((await this.epoch.redis.exists(seenKey)) === 1) {
        metrics.duplicateRows.inc({ source: this.ctx.name });
        return true;
      }
      const event = { id: eventId(this.ctx.name, 'observer.row', row.upstreamId), source: this.ctx.name, kind: 'observer.row', time: row.time, data: row.data };
      await this.ctx.emit({ ...event, summary: observerRowSummary(event) });
      // Marked only after the pipeline took it: a crash in between re-emits (same id), never loses.
      // Handed over before a Redis reconnect, its job may be among the writes Redis lost: retried
      // (the seen check on the new Redis decides, and the queue drops it if its job is there).
      if (!this.epoch.holds(epoch)) return false;
      await this.epoch.redis.set(seenKey, '1', 'PX', this.config.dedupTtl);
      metrics.rows.inc({ source: this.ctx.name, frame: spec.kind });
      return true;
    } catch (err) {
      metrics.emitFailures.inc({ source: this.ctx.name });
      this.ctx.logger.error({ source: this.ctx.name, frame: frameKey(spec), err: (err as Error).message }, 'observer: could not hand a row to the pipeline; retrying');
      return false;
    }
  }

  private onDropped(item: PendingItem): void {
    if (item.kind !== 'row') return;
    metrics.pendingDropped.inc({ source: this.ctx.name });
    const key = frameKey(item.spec);
    if (!this.resync.has(key)) {
      this.ctx.logger.warn(
        { source: this.ctx.name, frame: key, waiting: this.pending.size },
        'observer: too many rows waiting for the pipeline; dropping the oldest from memory — this frame is re-read once the pipeline takes events again',
      );
    }
    this.resync.set(key, item.spec);
  }

  /**
   * Redis is back and may have lost its last writes: seen marks with the jobs they vouch for.
   * Rows in memory are retried (handleRow); rows already done are found again by re-reading every
   * open frame, as after dropping them over the cap (the seen set on the new Redis skips the rest).
   */
  private onRedisReconnect(): void {
    if (this.stopped || this.connectedGeneration === undefined) return;
    this.ctx.logger.warn({ source: this.ctx.name, frames: this.frames.size }, 'observer: Redis connection re-established; re-reading every frame in case Redis lost its last writes');
    for (const [key, entry] of this.frames) this.resync.set(key, entry.spec);
    this.resyncFrames();
  }

  /** Re-opens the frames whose rows were dropped over the cap: a new frame's update() reads them all again. */
  private resyncFrames(): void {
    const generation = this.connectedGeneration;
    if (generation === undefined) return; // the reconnect re-opens and re-reads every frame
    const specs = [...this.resync.values()];
    this.resync.clear();
    for (const spec of specs) {
      const key = frameKey(spec);
      this.ctx.logger.info({ source: this.ctx.name, frame: key }, 'observer: re-reading a frame whose rows were dropped from memory');
      void this.closeFrame(key).then(() => this.openFrame(generation, spec));
    }
  }

  /**
   * Emits a discovery or summary event; false when the pipeline refused it, or when Redis
   * reconnected meanwhile (the caller must not record it as emitted: Redis may have lost it).
   */
  private async tryEmit(event: BridgeEvent): Promise<boolean> {
    const epoch = this.epoch.current;
    try {
      await this.ctx.emit(event);
      return this.epoch.holds(epoch);
    } catch (err) {
      metrics.emitFailures.inc({ source: this.ctx.name });
      this.ctx.logger.error({ source: this.ctx.name, kind: event.kind, err: (err as Error).message }, 'observer: could not hand an event to the pipeline; will retry');
      return false;
    }
  }
}

import type { BridgeEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import { fullJitterBackoff } from '../../core/full-jitter.js';
import { RateLimitedLog } from '../../core/log-rate-limit.js';
import { counter } from '../../core/metrics.js';
import { RedisEpoch, StaleRedisEpochError } from '../redis-epoch.js';
import type { Source, SourceContext, SourceProgress, SourceState } from '../source.js';
import { createMomentsApi } from './create-moments-api.js';
import type { RawItem } from './graphql-client.js';
import { MomentCursor } from './moment-cursor.js';
import { momentEvent } from './moment-event.js';
import { handOverEvents, type HandOverResult } from './moment-hand-over.js';
import type { MomentsApi, MomentsConnectionState, Unsubscribe } from './moments-client.js';
import { MomentsAuthError, MomentsDocumentError } from './moments-errors.js';
import { MomentsHealth } from './moments-health.js';
import type { MomentEventData } from './moments-schemas.js';
import { momentPagesSince } from './moment-pages.js';
import type { MomentsOperation } from './operation-documents.js';
import { quarantineOnce } from './quarantine-once.js';
import type { MomentsSourceConfig } from './source-config.js';
import { TriggerCache, type TriggerChange } from './trigger-cache.js';
import { TriggerChanges } from './trigger-changes.js';
import { TriggerWatermark } from './trigger-watermark.js';

const duplicates = counter('mb_moments_duplicates_total', 'Moments dropped because their publicId was already emitted', ['source']);
const backfilled = counter('mb_moments_backfilled_total', 'Moments emitted by back-fill (not by the live stream)', ['source']);

/** Live moments kept while a back-fill runs; beyond this the back-fill itself will find them. */
const MAX_BUFFER = 10_000;
/**
 * Moments handled together at most: one seen check, one hand-over to the pipeline (one queue
 * round trip) and one cursor commit per batch instead of per moment. Large enough that a burst
 * costs a few round trips, small enough that one Lua commit stays short on Redis.
 */
const MAX_BATCH = 500;

type MomentEvent = BridgeEvent<MomentEventData>;

/** The operations the source runs; without a document for each it cannot keep its promises. */
const REQUIRED_OPERATIONS: readonly MomentsOperation[] = ['listMoments', 'onCreateMoment', 'listTriggers', 'getTrigger', 'onCreateTrigger', 'onUpdateTrigger'];

/**
 * Turns the Moments Engine into `moment`, `trigger.created` and `trigger.updated` events, with no
 * moment lost: one serial lane processes moments in arrival order (validate → dedup → emit →
 * advance cursor); at start and after every reconnect it back-fills from the cursor while live
 * moments wait in a buffer, then drains the buffer and trusts the live stream again.
 *
 * Moments go through the lane in micro-batches: live moments that arrive while the lane is busy
 * join one open batch (up to MAX_BATCH), handled as a unit — the cursor moves only once the whole
 * batch is enqueued. No timer: an idle lane takes a lone moment at once, so batching costs no
 * latency and a burst costs a few round trips instead of four per moment.
 */
export class MomentsSource implements Source {
  private readonly config: MomentsSourceConfig;
  private readonly ctx: SourceContext;
  private readonly cursor: MomentCursor;
  /** The connection cursor, seen set and watermark are written on, and its epoch (see RedisEpoch). */
  private readonly epoch: RedisEpoch;
  /** The epoch in which the last back-fill read the cursor: only batches of that epoch may move it. */
  private cursorEpoch: number | undefined;
  private readonly triggers: TriggerCache;
  private readonly changes: TriggerChanges;
  /** Repeated warnings (reconnect loops, refused hand-overs, failing back-fills) pass through here: a flood stays a few lines. */
  private readonly log: RateLimitedLog;
  private api: MomentsApi | undefined;
  private readonly health: MomentsHealth;
  private triggerBackfillQueued = false;
  /** Moments in a batch whose seen check is running. */
  private preparing = 0;
  private unsubscribes: Unsubscribe[] = [];
  private lane: Promise<void> = Promise.resolve();
  private backfilling = false;
  private backfillQueued = false;
  private buffer: RawItem[] = [];
  /** Live moments waiting for a lane task that is already queued; closed when anything else is queued. */
  private liveBatch: RawItem[] | undefined;
  /** Live moments accepted into batches that have not started yet (bounded by maxLiveBacklog). */
  private pendingLive = 0;
  /** Whether the newest live batch handed over was accepted by the pipeline (false once one failed). */
  private emitted: Promise<boolean> = Promise.resolve(true);
  /** Settles once the newest batch's cursor commit finished; commits run in batch order. */
  private committed: Promise<void> = Promise.resolve();
  /**
   * Ids prepared or handed over but not yet in the Redis seen set (later batches dedup against
   * them too), each with the Redis epoch its batch was prepared in.
   */
  private readonly inFlight = new Map<string, number>();
  private bufferOverflowed = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private retryAttempt = 0;
  private stopped = false;
  /** Periodic back-fill, for an API that reports no connection state. */
  private periodicTimer: NodeJS.Timeout | undefined;
  private clientSideLogged = false;

  constructor(config: MomentsSourceConfig, upstreamCtx: SourceContext) {
    this.config = config;
    this.epoch = new RedisEpoch({ shared: upstreamCtx.redis, logger: upstreamCtx.logger, onReconnect: () => this.onRedisReconnect() });
    // Every quarantine of this source (moments and triggers) goes once per object: back-fills re-read invalid ones.
    const ctx: SourceContext = { ...upstreamCtx, quarantine: quarantineOnce(upstreamCtx, this.epoch.redis, config.dedupTtl) };
    this.ctx = ctx;
    this.cursor = new MomentCursor(this.epoch.redis, `${ctx.keyPrefix}source:${ctx.name}:`, config.dedupTtl);
    this.triggers = new TriggerCache({ api: () => this.api, logger: ctx.logger, source: ctx.name });
    this.log = new RateLimitedLog(ctx.logger);
    this.changes = new TriggerChanges({
      ctx,
      api: () => this.api,
      cache: this.triggers,
      watermark: new TriggerWatermark(this.epoch.redis, `${ctx.keyPrefix}source:${ctx.name}:`),
      epoch: this.epoch,
      lostWatermarkLookbackMs: config.backfill,
      log: this.log,
      retry: { initialDelayMs: config.reconnect.initialDelay, maxDelayMs: config.reconnect.maxDelay },
      requestBackfill: () => this.requestTriggerBackfill(),
    });
    this.health = new MomentsHealth(ctx.name, ctx.logger, this.log, {
      heldMoments: () => this.pendingLive + this.preparing + this.buffer.length + this.inFlight.size,
      triggers: this.changes.outbox,
      triggerProgressAt: () => this.changes.progressAt(),
    });
  }

  state(): SourceState {
    return this.health.state();
  }

  /** Moments and trigger changes waiting for the pipeline (see MomentsHealth). */
  progress(): SourceProgress {
    return this.health.progress();
  }

  async start(): Promise<void> {
    this.stopped = false;
    // Live moments may arrive before every subscription is acknowledged; hold them until the
    // start back-fill ran, or the first one would move the cursor past the moments made while down.
    this.backfilling = true;
    await this.epoch.connect();
    this.api = await this.createApi();
    await this.connect();
  }

  private async createApi(): Promise<MomentsApi> {
    return createMomentsApi(this.config, this.ctx.name, this.ctx.configDir, this.ctx.logger);
  }

  /**
   * Moments created in [since, until), oldest first, as the same events the live stream emits
   * (same ids, trigger enrichment). For `backfill`: it neither moves the cursor nor emits, and
   * works on a source that was never started (it logs in for the duration of the read).
   */
  async *history(since: Date, until: Date): AsyncIterable<BridgeEvent> {
    const ownApi = this.api === undefined;
    const api = this.api ?? (await this.createApi());
    try {
      if (ownApi) {
        this.api = api;
        await api.login(this.config.username, this.config.password);
      }
      for await (const page of momentPagesSince(api, since.toISOString(), { pageSize: this.config.pageSize, until: until.toISOString(), onClientSide: (what) => this.logClientSide(what) })) {
        for (const raw of page) {
          const event = await this.toMomentEvent(raw);
          if (event) yield event;
        }
      }
    } finally {
      if (ownApi) {
        this.api = undefined;
        await api.close();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.changes.stop();
    clearInterval(this.periodicTimer);
    this.periodicTimer = undefined;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    await this.api?.close();
    await this.lane;
    await this.settle();
    this.epoch.close();
    this.setState({ status: 'stopped' });
  }

  /** Log in, load triggers, subscribe; the `subscribed` notification starts the back-fill. */
  private async connect(): Promise<void> {
    const api = this.api;
    if (!api || this.stopped) return;
    try {
      await api.login(this.config.username, this.config.password);
    } catch (err) {
      // An SDK's own error classes are unknown here: its message naming Cognito's type is enough.
      if ((err instanceof MomentsAuthError && !err.retryable) || (!(err instanceof MomentsAuthError) && /NotAuthorizedException|UserNotFoundException/.test(errorMessage(err)))) {
        // Wrong credentials do not fix themselves: report once and stay down, no retry storm.
        this.setState({ status: 'auth_failed', error: errorMessage(err) });
        return;
      }
      this.scheduleRetry(() => this.connect(), `login failed: ${errorMessage(err)}`);
      return;
    }
    try {
      await api.requireOperations?.(REQUIRED_OPERATIONS);
    } catch (err) {
      // No usable document: a config change is needed, so no retry (like wrong credentials).
      if (!(err instanceof MomentsDocumentError)) throw err;
      this.setState({ status: 'auth_failed', error: err.message }, 'no usable GraphQL document');
      return;
    }
    if (api.onConnectionStateChange) this.unsubscribes.push(api.onConnectionStateChange((s) => this.onConnectionState(s)));
    this.unsubscribes.push(
      api.onMoments((raw) => this.onLiveMoment(raw)),
      api.onTriggerCreated((raw) => this.enqueue(() => this.processTrigger('trigger.created', raw))),
      api.onTriggerUpdated((raw) => this.enqueue(() => this.processTrigger('trigger.updated', raw))),
    );
    if (!api.onConnectionStateChange) {
      // An SDK that hides its reconnects hides their gaps too: back-fill now and every backfillEvery.
      this.ctx.logger.info({ source: this.ctx.name, everyMs: this.config.backfillEvery }, `moments source ${this.ctx.name}: the SDK reports no connection state; back-filling every ${this.config.backfillEvery} ms`);
      this.setState({ status: 'connected', since: new Date().toISOString() });
      this.requestTriggerBackfill();
      this.requestBackfill('start');
      this.startPeriodicBackfill();
    }
  }

  /** Back-fills moments and trigger changes every backfillEvery: the live stream cannot be trusted alone. */
  private startPeriodicBackfill(): void {
    if (this.periodicTimer) return;
    this.periodicTimer = setInterval(() => {
      this.changes.markBackfillDue();
      this.requestTriggerBackfill();
      this.requestBackfill('periodic');
    }, this.config.backfillEvery);
    this.periodicTimer.unref();
  }

  /**
   * A subscription the engine refused is not live, and will not be until the config changes: say so
   * (`degraded`, /readyz 503 with the reason) and poll with the periodic back-fill meanwhile, so the
   * moments still flow, backfillEvery late, instead of silently never arriving.
   */
  private onSubscriptionsRefused(refused: ReadonlyMap<string, string>): void {
    if (refused.size === 0) {
      this.health.setDegraded(undefined);
      clearInterval(this.periodicTimer);
      this.periodicTimer = undefined;
      return;
    }
    const reason = [...refused].map(([operation, error]) => `${operation} refused (${error})`).join('; ');
    this.health.setDegraded(`${reason} — polling with a back-fill every ${this.config.backfillEvery} ms until the config is fixed`);
    this.startPeriodicBackfill();
  }

  private onConnectionState(s: MomentsConnectionState): void {
    if (this.stopped) return;
    switch (s.status) {
      case 'subscription_refused':
        this.onSubscriptionsRefused(this.api?.refusedSubscriptions?.() ?? new Map([[s.operation, s.error]]));
        return;
      case 'subscribed':
        this.setState({ status: 'connected', since: new Date().toISOString() });
        this.onSubscriptionsRefused(this.api?.refusedSubscriptions?.() ?? new Map());
        // Trigger changes first: moments of the back-fill are enriched from the cache it fills.
        this.requestTriggerBackfill();
        this.requestBackfill(s.reconnect ? 'reconnect' : 'start');
        return;
      case 'reconnecting':
        // Hold live moments from the next socket until the back-fill after resubscribing ran:
        // one processed first would move the cursor past the moments missed in the gap.
        this.backfilling = true;
        this.changes.markBackfillDue();
        this.setState({ status: 'reconnecting', attempt: s.attempt, nextRetryInMs: s.nextRetryInMs, lastError: s.lastError });
        return;
      case 'auth_failed':
        this.setState({ status: 'auth_failed', error: s.error });
        return;
      default:
        // connecting / connected-without-subscriptions / idle: not a change worth reporting.
        return;
    }
  }

  /**
   * The source's Redis connection is back: Redis may have restarted without its last writes, the
   * jobs and the cursor past them lost together. Do what an upstream reconnect does: hold live
   * moments, let the batches in flight settle (their commits are refused: they were handed over
   * before the reconnect), re-read the cursor from Redis and back-fill from it.
   */
  private onRedisReconnect(): void {
    if (this.stopped) return;
    this.log.warn(`moments ${this.ctx.name} redis reconnect`, { source: this.ctx.name }, `moments source ${this.ctx.name}: Redis connection re-established; back-filling from the cursor Redis holds now, in case it lost its last writes`);
    this.changes.redisReconnected();
    this.requestTriggerBackfill();
    this.requestBackfill('redis reconnect');
  }

  private setState(state: SourceState, failure?: string): void {
    this.health.setTransport(state, failure);
  }

  /** Runs tasks one at a time, in arrival order; a failing task never blocks the lane. */
  private enqueue(task: () => Promise<void>): void {
    // Live moments arriving from now on must be handled after this task, not join an earlier batch.
    this.liveBatch = undefined;
    this.lane = this.lane.then(task).catch((err: unknown) => {
      this.ctx.logger.error({ source: this.ctx.name, err: errorMessage(err) }, `moments source ${this.ctx.name}: ${errorMessage(err)}`);
    });
  }

  private onLiveMoment(raw: RawItem): void {
    if (this.stopped) return;
    this.health.noteWaiting();
    if (this.backfilling) {
      if (this.buffer.length < MAX_BUFFER) this.buffer.push(raw);
      else this.bufferOverflowed = true;
      return;
    }
    if (this.pendingLive >= this.config.maxLiveBacklog) {
      // The pipeline is slower than the upstream: stop holding moments in memory. This one is not
      // committed, so the back-fill from the cursor reads it (and everything after it) again.
      this.log.warn(`moments ${this.ctx.name} backlog`, { source: this.ctx.name, backlog: this.pendingLive }, `moments source ${this.ctx.name}: more than ${this.config.maxLiveBacklog} live moments waiting; switching to back-fill`);
      this.requestBackfill('live backlog');
      return;
    }
    this.pendingLive += 1;
    if (this.liveBatch && this.liveBatch.length < MAX_BATCH) {
      this.liveBatch.push(raw);
      return;
    }
    const batch = [raw];
    this.enqueue(async () => {
      this.pendingLive -= batch.length;
      // From here on, arrivals start the next batch, queued behind this one.
      if (this.liveBatch === batch) this.liveBatch = undefined;
      // A failure earlier in the lane switched to back-fill: these moments must wait behind it.
      if (this.backfilling) {
        for (const r of batch) this.onLiveMoment(r);
        return;
      }
      let events: MomentEvent[];
      try {
        events = await this.prepare(batch);
      } catch (err) {
        this.handOverFailed(err);
        return;
      }
      // Hand-overs stay in order: this batch goes only once the previous one was accepted. Its
      // preparation above overlapped that hand-over, and its own commit overlaps the next one.
      if (!(await this.emitted) || this.backfilling) {
        this.release(events);
        for (const r of batch) this.onLiveMoment(r);
        return;
      }
      if (events.length === 0) return;
      const handing = this.handOver(events);
      this.emitted = handing.then((r) => {
        if (r.failed) this.handOverFailed(r.error, events.length - r.accepted);
        return !r.failed;
      });
      const previous = this.committed;
      this.committed = handing.then(async (r) => {
        await previous;
        try {
          await this.commit(events.slice(0, r.accepted), false);
        } catch (err) {
          this.handOverFailed(err);
        } finally {
          this.release(events);
        }
      });
    });
    this.liveBatch = batch;
  }

  /** The cursor did not move past the moments of a failed batch: a back-fill from the cursor brings them back. */
  private handOverFailed(err: unknown, count = 1): void {
    this.log.warn(`moments ${this.ctx.name} hand-over`, { source: this.ctx.name, err: errorMessage(err) }, `moments source ${this.ctx.name}: could not hand a moment to the pipeline, will back-fill: ${errorMessage(err)}`);
    this.backfilling = true;
    this.health.noteRefused(count);
    this.scheduleRetry(async () => this.requestBackfill('emit failure'), `the pipeline refused moments: ${errorMessage(err)}`, true);
  }

  /** Waits until every live batch in flight was handed over and committed (or failed). */
  private async settle(): Promise<void> {
    await this.emitted;
    await this.committed;
  }

  private requestBackfill(reason: string): void {
    if (this.stopped) return;
    this.backfilling = true;
    if (this.backfillQueued) return;
    this.backfillQueued = true;
    this.enqueue(async () => {
      this.backfillQueued = false;
      try {
        await this.backfill(reason);
        this.retryAttempt = 0;
        this.health.recovered();
      } catch (err) {
        this.scheduleRetry(async () => this.requestBackfill(reason), `back-fill failed: ${errorMessage(err)}`, true);
      }
    });
  }

  private async backfill(reason: string): Promise<void> {
    const api = this.api;
    if (!api || this.stopped) return;
    // The cursor is read after every live batch in flight has landed (or failed); later live
    // batches are held in the buffer until this back-fill is done, so a failure is forgotten here.
    await this.settle();
    this.emitted = Promise.resolve(true);
    const epoch = this.epoch.current;
    // Answered on the connection of `epoch` (it carries nothing over a reconnect): batches
    // prepared on it may move this cursor; any later connection needs a new back-fill first.
    const position = await this.cursor.load();
    this.cursorEpoch = epoch;
    if (position) this.health.noteCursor(position.createdAt);
    // Without connection state the live stream may have moved the cursor past a gap it never
    // saw: look back two periods, so every moment is read by a back-fill within one period of
    // becoming listable (the seen set drops the ones already delivered).
    const lookback = api.onConnectionStateChange ? 0 : 2 * this.config.backfillEvery;
    const since = position ? new Date(Date.parse(position.createdAt) - lookback).toISOString() : new Date(Date.now() - this.config.backfill).toISOString();
    this.bufferOverflowed = false;
    let count = 0;
    for await (const page of momentPagesSince(api, since, { pageSize: this.config.pageSize, onClientSide: (what) => this.logClientSide(what) })) {
      for (let i = 0; i < page.length; i += MAX_BATCH) {
        if (this.stopped) return;
        count += await this.processBatch(page.slice(i, i + MAX_BATCH), true);
      }
    }
    // Live moments that arrived meanwhile, oldest first; new arrivals join the buffer until it is empty.
    while (this.buffer.length && !this.stopped) {
      this.buffer.sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
      await this.processBatch(this.buffer.splice(0, MAX_BATCH), false);
    }
    if (this.bufferOverflowed) throw new Error(`more than ${MAX_BUFFER} live moments arrived during back-fill; back-filling again`);
    this.backfilling = false;
    this.ctx.logger.info({ source: this.ctx.name, since, emitted: count, reason }, `moments source ${this.ctx.name}: back-fill (${reason}) from ${since} emitted ${count} moment(s); live`);
  }

  private logClientSide(what: string): void {
    if (this.clientSideLogged) return;
    this.clientSideLogged = true;
    this.ctx.logger.warn({ source: this.ctx.name }, `moments source ${this.ctx.name}: the engine's listMoments cannot ${what}; back-fills read the whole window and ${what === 'sort by createdAt' ? 'sort' : 'filter'} it here`);
  }

  /**
   * One batch start to end (back-fill and buffer drain): prepare, hand over, commit. Returns how
   * many events were emitted; throws if the pipeline refused them, with the cursor not moved past
   * any refused moment.
   */
  private async processBatch(raws: readonly RawItem[], fromBackfill: boolean): Promise<number> {
    const events = await this.prepare(raws);
    try {
      const r = await this.handOver(events);
      await this.commit(events.slice(0, r.accepted), fromBackfill);
      if (r.failed) {
        this.health.noteRefused(events.length - r.accepted);
        throw r.error;
      }
      return r.accepted;
    } finally {
      this.release(events);
    }
  }

  /**
   * Validates and de-duplicates a batch (against the Redis seen set, the batches still in flight
   * and itself) into events, in order. Their ids stay in `inFlight` until `release`.
   */
  private async prepare(raws: readonly RawItem[]): Promise<MomentEvent[]> {
    // Counted as waiting while the seen check runs: with Redis down it may wait a long time.
    this.preparing += raws.length;
    this.health.noteWaiting();
    try {
      return await this.prepareNow(raws);
    } finally {
      this.preparing -= raws.length;
    }
  }

  private async prepareNow(raws: readonly RawItem[]): Promise<MomentEvent[]> {
    const ids = raws.map((raw) => (typeof raw.publicId === 'string' ? raw.publicId : undefined));
    const distinct = [...new Set(ids.filter((id): id is string => id !== undefined))];
    // Before anything is handed over: a batch may be committed only on the connection it started on.
    const epoch = this.epoch.current;
    // Read before the seen check is sent: an id released meanwhile was committed on the same
    // connection before our ZSCOREs, so Redis answers for it.
    const taken = new Set(distinct.filter((id) => this.inFlight.has(id)));
    const flags = await this.cursor.seenMany(distinct);
    distinct.forEach((id, i) => flags[i] && taken.add(id));
    const events: MomentEvent[] = [];
    for (let i = 0; i < raws.length; i++) {
      const id = ids[i];
      if (id !== undefined && taken.has(id)) {
        duplicates.inc({ source: this.ctx.name });
        continue;
      }
      const event = await this.toMomentEvent(raws[i]!);
      if (!event) continue;
      taken.add(event.data.publicId);
      this.inFlight.set(event.data.publicId, epoch);
      events.push(event);
    }
    return events;
  }

  /** Gives the events to the pipeline, in order (see handOverEvents). Never rejects. */
  private handOver(events: MomentEvent[]): Promise<HandOverResult> {
    return handOverEvents(this.ctx, events);
  }

  /** Records accepted moments and moves the cursor to the newest of them (call only after the hand-over). */
  private async commit(events: readonly MomentEvent[], fromBackfill: boolean): Promise<void> {
    if (events.length === 0) return;
    // A batch prepared before a Redis reconnect, or a cursor not re-read since one, may cover jobs
    // the old Redis took with it: refused, and the back-fill from the re-read cursor re-creates
    // them. The check and the write happen in one tick (commitMany sends at once, never re-sent).
    const cursorEpoch = this.cursorEpoch ?? -1;
    if (events.some((e) => this.inFlight.get(e.data.publicId) !== cursorEpoch)) throw new StaleRedisEpochError(`moments source ${this.ctx.name}: cursor commit`);
    this.epoch.assert(cursorEpoch, `moments source ${this.ctx.name}: cursor commit`);
    await this.cursor.commitMany(events.map((e) => ({ publicId: e.data.publicId, createdAt: e.data.createdAt })));
    this.health.noteCommitted(events.reduce((newest, e) => (e.time > newest ? e.time : newest), ''));
    if (fromBackfill) backfilled.inc({ source: this.ctx.name }, events.length);
  }

  private release(events: readonly MomentEvent[]): void {
    for (const e of events) this.inFlight.delete(e.data.publicId);
    this.health.noteHeldChanged();
  }

  /** Validates (invalid → quarantine, undefined) and enriches one upstream moment into its event. */
  private toMomentEvent(raw: RawItem): Promise<MomentEvent | undefined> {
    return momentEvent(raw, this.ctx, this.triggers);
  }

  private async processTrigger(kind: TriggerChange, raw: RawItem): Promise<void> {
    // After the moments that arrived before it; a refusal is held and retried by TriggerChanges, off the lane.
    await this.emitted;
    await this.changes.handle(kind, raw);
  }

  /** Lists trigger changes missed since the watermark (lane task; retried with backoff on failure). */
  private requestTriggerBackfill(): void {
    if (this.stopped || this.triggerBackfillQueued) return;
    this.triggerBackfillQueued = true;
    this.enqueue(async () => {
      this.triggerBackfillQueued = false;
      try {
        const found = await this.changes.backfill();
        if (found) this.ctx.logger.info({ source: this.ctx.name, found }, `moments source ${this.ctx.name}: trigger back-fill found ${found} change(s) missed live`);
      } catch (err) {
        this.scheduleRetry(async () => this.requestTriggerBackfill(), `trigger back-fill failed: ${errorMessage(err)}`);
      }
    });
  }

  /** `pipeline`: the failure is on the pipeline side (hand-over, back-fill): reported as not connected until a back-fill succeeds. */
  private scheduleRetry(task: () => Promise<void>, reason: string, pipeline = false): void {
    if (this.stopped) return;
    this.retryAttempt += 1;
    const delay = fullJitterBackoff(this.retryAttempt, this.config.reconnect.initialDelay, this.config.reconnect.maxDelay);
    this.log.warn(`moments ${this.ctx.name} retry`, { source: this.ctx.name, attempt: this.retryAttempt, delayMs: delay }, `moments source ${this.ctx.name}: ${reason}; retrying in ${delay} ms`);
    if (pipeline) this.health.pipelineFailed(this.retryAttempt, delay, reason);
    else if (this.health.transportStatus !== 'connected') this.setState({ status: 'reconnecting', attempt: this.retryAttempt, nextRetryInMs: delay, lastError: reason });
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void task();
    }, delay);
    this.retryTimers.add(timer);
  }
}

import { eventId, type BridgeEvent } from '../../event.js';
import { errorMessage } from '../../errors.js';
import { RateLimitedLog } from '../../log-rate-limit.js';
import { counter, gauge } from '../../metrics.js';
import { safeSnapshot } from '../../queue/safe-snapshot.js';
import type { Source, SourceContext, SourceProgress, SourceState } from '../source.js';
import type { RawItem } from './graphql-client.js';
import { MomentCursor, normalizeIso } from './moment-cursor.js';
import { handOverEvents, type HandOverResult } from './moment-hand-over.js';
import { MomentsClient, type MomentsApi, type MomentsClientOptions, type MomentsConnectionState, type Unsubscribe } from './moments-client.js';
import { MomentsAuthError, MomentsDocumentError } from './moments-errors.js';
import { parseMoment, type MomentEventData } from './moments-schemas.js';
import { momentPagesSince } from './moment-pages.js';
import type { MomentsOperation } from './operation-documents.js';
import { loadMomentsSdk } from './sdk-loader.js';
import { configuredDocuments, type MomentsSourceConfig } from './source-config.js';
import { TriggerCache, type TriggerChange } from './trigger-cache.js';
import { TriggerChanges } from './trigger-changes.js';
import { TriggerWatermark } from './trigger-watermark.js';

const eventsEmitted = counter('mb_moments_events_total', 'Events emitted by the moments source', ['source', 'kind']);
const duplicates = counter('mb_moments_duplicates_total', 'Moments dropped because their publicId was already emitted', ['source']);
const backfilled = counter('mb_moments_backfilled_total', 'Moments emitted by back-fill (not by the live stream)', ['source']);
const connectedGauge = gauge('mb_moments_connected', '1 while the moments source has a live real-time connection', ['source']);

/** Live moments kept while a back-fill runs; beyond this the back-fill itself will find them. */
const MAX_BUFFER = 10_000;
/**
 * Moments handled together at most: one seen check, one hand-over to the pipeline (one queue
 * round trip) and one cursor commit per batch instead of per moment. Large enough that a burst
 * costs a few round trips, small enough that one Lua commit stays short on Redis.
 */
const MAX_BATCH = 500;
/** Items waiting this long with nothing accepted: the source reports itself not connected, even if nothing failed outright. */
const STUCK_AFTER_MS = 5_000;

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
  private readonly triggers: TriggerCache;
  private readonly changes: TriggerChanges;
  /** Repeated warnings (reconnect loops, refused hand-overs, failing back-fills) pass through here: a flood stays a few lines. */
  private readonly log: RateLimitedLog;
  private api: MomentsApi | undefined;
  /** The upstream connection as reported; state() adds the pipeline side (see `failure`). */
  private transport: SourceState = { status: 'starting' };
  /** Set while hand-overs or back-fills keep failing: the source is not `connected` then, whatever the socket says. */
  private failure: { attempt: number; nextRetryInMs: number; lastError: string } | undefined;
  private reportedStatus: SourceState['status'] | undefined;
  /** A batch the pipeline refused: its moments wait upstream (the cursor did not pass them) until a back-fill succeeds. */
  private refused: { count: number } | undefined;
  /** Since when moments have been waiting (taken from upstream, or refused, and not committed). */
  private waitingSince: number | undefined;
  private lastCommitAt: number | undefined;
  /** The cursor's createdAt as last read or moved (for lagMs). */
  private cursorAt: string | undefined;
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
  /** Ids prepared or handed over but not yet in the Redis seen set: later batches dedup against them too. */
  private readonly inFlight = new Set<string>();
  private bufferOverflowed = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private retryAttempt = 0;
  private stopped = false;
  /** Periodic back-fill, for an API that reports no connection state. */
  private periodicTimer: NodeJS.Timeout | undefined;
  private clientSideLogged = false;

  constructor(config: MomentsSourceConfig, ctx: SourceContext) {
    this.config = config;
    this.ctx = ctx;
    this.cursor = new MomentCursor(ctx.redis, `${ctx.keyPrefix}source:${ctx.name}:`, config.dedupTtl);
    this.triggers = new TriggerCache({ api: () => this.api, logger: ctx.logger, source: ctx.name });
    this.log = new RateLimitedLog(ctx.logger);
    this.changes = new TriggerChanges({
      ctx,
      api: () => this.api,
      cache: this.triggers,
      watermark: new TriggerWatermark(ctx.redis, `${ctx.keyPrefix}source:${ctx.name}:`),
      log: this.log,
      retry: { initialDelayMs: config.reconnect.initialDelay, maxDelayMs: config.reconnect.maxDelay },
      requestBackfill: () => this.requestTriggerBackfill(),
    });
  }

  state(): SourceState {
    const t = this.transport;
    if (t.status !== 'connected') return t;
    const held = this.changes.outbox.failure();
    if (this.failure) return { status: 'reconnecting', ...this.failure };
    if (held) return { status: 'reconnecting', attempt: held.attempt, nextRetryInMs: 0, lastError: `trigger changes held for retry: ${held.lastError}` };
    // Neither failing nor moving (e.g. a Redis command waiting for a Redis that is gone): not connected either.
    const p = this.progress();
    const stuckMs = p.pending > 0 ? Date.now() - Math.max(p.lastProgressAt ?? 0, p.oldestPendingSince ?? 0) : 0;
    if (stuckMs > STUCK_AFTER_MS) return { status: 'reconnecting', attempt: 0, nextRetryInMs: 0, lastError: `no progress for ${Math.round(stuckMs / 1000)} s with ${p.pending} item(s) waiting (the pipeline or Redis is not answering)` };
    return t;
  }

  /** Moments and trigger changes waiting for the pipeline, and how long; lagMs is how far the cursor is behind while any wait. */
  progress(): SourceProgress {
    const now = Date.now();
    const moments = this.pendingLive + this.preparing + this.buffer.length + this.inFlight.size + (this.refused?.count ?? 0);
    const triggers = this.changes.outbox.size;
    const since = [moments > 0 ? this.waitingSince : undefined, this.changes.outbox.oldestSince()].filter((t): t is number => t !== undefined);
    const progressAt = [this.lastCommitAt, this.changes.progressAt()].filter((t): t is number => t !== undefined);
    const cursorMs = this.cursorAt ? Date.parse(this.cursorAt) : Number.NaN;
    return {
      pending: moments + triggers,
      ...(since.length ? { oldestPendingSince: Math.min(...since) } : {}),
      ...(progressAt.length ? { lastProgressAt: Math.max(...progressAt) } : {}),
      lagMs: moments > 0 && Number.isFinite(cursorMs) ? Math.max(0, now - cursorMs) : 0,
    };
  }

  /** Marks moments as waiting from now, unless some already were. */
  private noteWaiting(): void {
    this.waitingSince ??= Date.now();
  }

  async start(): Promise<void> {
    this.stopped = false;
    // Live moments may arrive before every subscription is acknowledged; hold them until the
    // start back-fill ran, or the first one would move the cursor past the moments made while down.
    this.backfilling = true;
    this.api = await this.createApi();
    await this.connect();
  }

  private async createApi(): Promise<MomentsApi> {
    const options: MomentsClientOptions = {
      cognitoEndpoint: this.config.cognitoEndpoint,
      clientId: this.config.clientId,
      clientSecret: this.config.clientSecret,
      graphqlUrl: this.config.graphqlUrl,
      realtimeUrl: this.config.realtimeUrl,
      realtimeAuth: this.config.realtimeAuth,
      documents: configuredDocuments(this.config),
      configPath: `sources.${this.ctx.name}`,
      logger: this.ctx.logger,
      reconnect: { initialDelayMs: this.config.reconnect.initialDelay, maxDelayMs: this.config.reconnect.maxDelay },
    };
    return this.config.sdk ? loadMomentsSdk(this.config.sdk, this.ctx.configDir, options) : new MomentsClient(options);
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
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    await this.api?.close();
    await this.lane;
    await this.settle();
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
      clearInterval(this.periodicTimer);
      this.periodicTimer = setInterval(() => {
        this.changes.markBackfillDue();
        this.requestTriggerBackfill();
        this.requestBackfill('periodic');
      }, this.config.backfillEvery);
      this.periodicTimer.unref();
    }
  }

  private onConnectionState(s: MomentsConnectionState): void {
    if (this.stopped) return;
    switch (s.status) {
      case 'subscribed':
        this.setState({ status: 'connected', since: new Date().toISOString() });
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

  /** `failure` names an `auth_failed` state in the log: wrong credentials, or a document only config can fix. */
  private setState(state: SourceState, failure = 'authentication failed'): void {
    const previousAttempt = this.transport.status === 'reconnecting' ? this.transport.attempt : undefined;
    this.transport = state;
    this.report(state.status === 'reconnecting' && previousAttempt !== undefined && previousAttempt !== state.attempt, failure);
  }

  /** Logs and gauges the state state() reports, when it changed (a reconnect loop logs through the rate limiter). */
  private report(newAttempt = false, failure = 'authentication failed'): void {
    const state = this.state();
    connectedGauge.set({ source: this.ctx.name }, state.status === 'connected' ? 1 : 0);
    if (this.reportedStatus === state.status && !newAttempt) return;
    this.reportedStatus = state.status;
    const log = { source: this.ctx.name, state };
    if (state.status === 'auth_failed') this.ctx.logger.error(log, `moments source ${this.ctx.name}: ${failure}, not retrying: ${state.error}`);
    else if (state.status === 'reconnecting') this.log.warn(`moments ${this.ctx.name} reconnecting`, log, `moments source ${this.ctx.name}: reconnecting (attempt ${state.attempt}, next try in ${state.nextRetryInMs} ms): ${state.lastError ?? ''}`);
    else this.ctx.logger.info(log, `moments source ${this.ctx.name}: ${state.status}`);
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
    this.noteWaiting();
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
    this.noteWaiting();
    this.refused = { count: Math.max(count, this.refused?.count ?? 0) };
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
        if (this.failure || this.refused) {
          this.failure = this.refused = undefined;
          this.report();
        }
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
    const position = await this.cursor.load();
    if (position) this.cursorAt = position.createdAt;
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
        this.refused = { count: Math.max(events.length - r.accepted, this.refused?.count ?? 0) };
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
    this.noteWaiting();
    try {
      return await this.prepareNow(raws);
    } finally {
      this.preparing -= raws.length;
    }
  }

  private async prepareNow(raws: readonly RawItem[]): Promise<MomentEvent[]> {
    const ids = raws.map((raw) => (typeof raw.publicId === 'string' ? raw.publicId : undefined));
    const distinct = [...new Set(ids.filter((id): id is string => id !== undefined))];
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
      this.inFlight.add(event.data.publicId);
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
    await this.cursor.commitMany(events.map((e) => ({ publicId: e.data.publicId, createdAt: e.data.createdAt })));
    this.lastCommitAt = Date.now();
    for (const e of events) if (this.cursorAt === undefined || e.time > this.cursorAt) this.cursorAt = e.time;
    eventsEmitted.inc({ source: this.ctx.name, kind: 'moment' }, events.length);
    if (fromBackfill) backfilled.inc({ source: this.ctx.name }, events.length);
  }

  private release(events: readonly MomentEvent[]): void {
    for (const e of events) this.inFlight.delete(e.data.publicId);
    if (this.pendingLive === 0 && this.preparing === 0 && this.buffer.length === 0 && this.inFlight.size === 0 && !this.refused) this.waitingSince = undefined;
  }

  /** Validates (invalid → quarantine, undefined) and enriches one upstream moment into its event. */
  private async toMomentEvent(raw: RawItem): Promise<BridgeEvent<MomentEventData> | undefined> {
    const parsed = parseMoment(raw);
    if (!parsed.ok) {
      // A copy that is safe to serialize: the raw object may be the very thing too deep to store.
      await this.ctx.quarantine({ kind: 'moment', reason: parsed.reason, raw: safeSnapshot(raw) });
      return undefined;
    }
    const moment = parsed.value;
    const data: MomentEventData = { ...moment };
    const trigger = await this.triggers.lookup(moment.triggerPublicId);
    if (trigger) {
      data.triggerName ??= trigger.name;
      data.triggerMarker ??= trigger.marker;
      data.labels ??= trigger.labels;
    }
    return { id: eventId(this.ctx.name, 'moment', moment.publicId), source: this.ctx.name, kind: 'moment', time: normalizeIso(moment.createdAt), data };
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
    const cap = Math.min(this.config.reconnect.maxDelay, this.config.reconnect.initialDelay * 2 ** (this.retryAttempt - 1));
    const delay = Math.round(Math.random() * cap);
    this.log.warn(`moments ${this.ctx.name} retry`, { source: this.ctx.name, attempt: this.retryAttempt, delayMs: delay }, `moments source ${this.ctx.name}: ${reason}; retrying in ${delay} ms`);
    if (pipeline) {
      this.failure = { attempt: this.retryAttempt, nextRetryInMs: delay, lastError: reason };
      this.report(true);
    } else if (this.transport.status !== 'connected') this.setState({ status: 'reconnecting', attempt: this.retryAttempt, nextRetryInMs: delay, lastError: reason });
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      void task();
    }, delay);
    this.retryTimers.add(timer);
  }
}

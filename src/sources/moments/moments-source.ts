/*
 * One concept at ~325 lines: the moments source's connection (login, subscriptions, connection
 * states, retries) and its one ordered lane; the live path, the back-fill, the cursor and the
 * triggers are their own files (see the class comment).
 */
import type { BridgeEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import { RateLimitedLog } from '../../core/log-rate-limit.js';
import { RedisEpoch } from '../shared/redis-epoch.js';
import { RetryBackoff } from '../shared/retry-backoff.js';
import { SerialLane } from '../shared/serial-lane.js';
import type { Source, SourceContext, SourceProgress, SourceState } from '../source.js';
import { LeaseLostError } from '../source-lease.js';
import { createMomentsApi } from './create-moments-api.js';
import { LiveMoments } from './live-moments.js';
import { MomentBatches } from './moment-batches.js';
import { MomentGapFill } from './moment-gap-fill.js';
import type { MomentsApi, MomentsConnectionState, Unsubscribe } from './moments-api.js';
import { MomentsAuthError, MomentsDocumentError } from './moments-errors.js';
import { MomentsHealth } from './moments-health.js';
import { PollingFallback } from './polling-fallback.js';
import type { MomentsOperation } from './operation-documents.js';
import { quarantineOnce } from './quarantine-once.js';
import type { MomentsSourceConfig } from './source-config.js';
import { TriggerFeed } from './trigger-feed.js';

/** The operations the source runs; without a document for each it cannot keep its promises. */
const REQUIRED_OPERATIONS: readonly MomentsOperation[] = ['listMoments', 'onCreateMoment', 'listTriggers', 'getTrigger', 'onCreateTrigger', 'onUpdateTrigger'];

/**
 * Turns the Moments Engine into `moment`, `trigger.created` and `trigger.updated` events, with no
 * moment lost: one serial lane processes moments in arrival order (validate → dedup → emit →
 * advance cursor); at start and after every reconnect it back-fills from the cursor while live
 * moments wait in a buffer, then drains the buffer and trusts the live stream again.
 *
 * This class owns the connection (login, subscriptions, connection states, retries) and the lane;
 * the live path is LiveMoments, the back-fill MomentGapFill, the cursor and dedup MomentBatches,
 * the triggers TriggerFeed.
 */
export class MomentsSource implements Source {
  private readonly config: MomentsSourceConfig;
  private readonly ctx: SourceContext;
  /** The connection cursor, seen set and watermark are written on, and its epoch (see RedisEpoch). */
  private readonly epoch: RedisEpoch;
  /** Repeated warnings (reconnect loops, refused hand-overs, failing back-fills) pass through here: a flood stays a few lines. */
  private readonly log: RateLimitedLog;
  /** Retries of logins, back-fills and refused hand-overs: one backoff, reset by a back-fill that succeeds. */
  private readonly retry: RetryBackoff;
  private readonly lane: SerialLane;
  private readonly health: MomentsHealth;
  private readonly batches: MomentBatches;
  private readonly live: LiveMoments;
  private readonly gapFill: MomentGapFill;
  private readonly triggers: TriggerFeed;
  private api: MomentsApi | undefined;
  private unsubscribes: Unsubscribe[] = [];
  private stopped = false;
  private readonly polling: PollingFallback;

  constructor(config: MomentsSourceConfig, upstreamCtx: SourceContext) {
    this.config = config;
    this.epoch = new RedisEpoch({ shared: upstreamCtx.redis, logger: upstreamCtx.logger, onReconnect: () => this.onRedisReconnect() });
    // Every quarantine of this source (moments and triggers) goes once per object: back-fills re-read invalid ones.
    const ctx: SourceContext = { ...upstreamCtx, quarantine: quarantineOnce(upstreamCtx, this.epoch.redis, config.dedupTtl) };
    this.ctx = ctx;
    this.log = new RateLimitedLog(ctx.logger);
    this.retry = new RetryBackoff({ initialDelayMs: config.reconnect.initialDelay, maxDelayMs: config.reconnect.maxDelay });
    this.lane = new SerialLane((err) => this.ctx.logger.error({ err: errorMessage(err) }, `moments source ${this.ctx.name}: ${errorMessage(err)}`));
    const isStopped = () => this.stopped;
    this.triggers = new TriggerFeed({
      ctx,
      api: () => this.api,
      epoch: this.epoch,
      log: this.log,
      lostWatermarkLookbackMs: config.backfill,
      retry: { initialDelayMs: config.reconnect.initialDelay, maxDelayMs: config.reconnect.maxDelay },
      enqueue: (task) => this.enqueue(task),
      liveAccepted: () => this.live.accepted(),
      isStopped,
      scheduleRetry: (task, reason) => this.scheduleRetry(task, reason),
    });
    const changes = this.triggers.changes;
    this.health = new MomentsHealth(ctx.name, ctx.logger, this.log, {
      heldMoments: () => this.live.waiting + this.batches.held,
      triggers: changes.outbox,
      triggerProgressAt: () => changes.progressAt(),
    });
    this.polling = new PollingFallback({
      everyMs: config.backfillEvery,
      health: this.health,
      backfill: () => {
        changes.markBackfillDue();
        this.triggers.requestBackfill();
        this.requestBackfill('periodic');
      },
    });
    this.batches = new MomentBatches({ ctx, epoch: this.epoch, dedupTtl: config.dedupTtl, triggers: this.triggers.cache, health: this.health });
    this.live = new LiveMoments({
      name: ctx.name,
      batches: this.batches,
      health: this.health,
      log: this.log,
      maxLiveBacklog: config.maxLiveBacklog,
      enqueue: (task) => this.enqueue(task),
      isStopped,
      requestBackfill: (reason) => this.requestBackfill(reason),
      handOverFailed: (err, count) => this.handOverFailed(err, count),
    });
    this.gapFill = new MomentGapFill({
      name: ctx.name,
      logger: ctx.logger,
      batches: this.batches,
      live: this.live,
      pageSize: config.pageSize,
      backfillMs: config.backfill,
      backfillEveryMs: config.backfillEvery,
      api: () => this.api,
      isStopped,
      enqueue: (task) => this.enqueue(task),
      succeeded: () => {
        this.retry.reset();
        this.health.recovered();
      },
      scheduleRetry: (task, reason) => this.scheduleRetry(task, reason, true),
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
    this.live.hold();
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
      yield* this.gapFill.history(api, since, until);
    } finally {
      if (ownApi) {
        this.api = undefined;
        await api.close();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.triggers.changes.stop();
    this.polling.stop();
    this.retry.cancel();
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    await this.api?.close();
    await this.lane.idle();
    await this.live.settle();
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
      if (
        (err instanceof MomentsAuthError && !err.retryable) ||
        (!(err instanceof MomentsAuthError) && /NotAuthorizedException|UserNotFoundException/.test(errorMessage(err)))
      ) {
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
      api.onMoments((raw) => this.live.onMoment(raw)),
      api.onTriggerCreated((raw) => this.triggers.onChange('trigger.created', raw)),
      api.onTriggerUpdated((raw) => this.triggers.onChange('trigger.updated', raw)),
    );
    if (!api.onConnectionStateChange) {
      // An SDK that hides its reconnects hides their gaps too: back-fill now and every backfillEvery.
      this.ctx.logger.info(
        { everyMs: this.config.backfillEvery },
        `moments source ${this.ctx.name}: the SDK reports no connection state; back-filling every ${this.config.backfillEvery} ms`,
      );
      this.setState({ status: 'connected', since: new Date().toISOString() });
      this.triggers.requestBackfill();
      this.requestBackfill('start');
      this.polling.start();
    }
  }

  private onConnectionState(s: MomentsConnectionState): void {
    if (this.stopped) return;
    switch (s.status) {
      case 'subscription_refused':
        this.polling.refused(this.api?.refusedSubscriptions?.() ?? new Map([[s.operation, s.error]]));
        return;
      case 'subscribed':
        this.setState({ status: 'connected', since: new Date().toISOString() });
        this.polling.refused(this.api?.refusedSubscriptions?.() ?? new Map());
        // Trigger changes first: moments of the back-fill are enriched from the cache it fills.
        this.triggers.requestBackfill();
        this.requestBackfill(s.reconnect ? 'reconnect' : 'start');
        return;
      case 'reconnecting':
        // Hold live moments from the next socket until the back-fill after resubscribing ran:
        // one processed first would move the cursor past the moments missed in the gap.
        this.live.hold();
        this.triggers.changes.markBackfillDue();
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
    this.log.warn(
      `moments ${this.ctx.name} redis reconnect`,
      {},
      `moments source ${this.ctx.name}: Redis connection re-established; back-filling from the cursor Redis holds now, in case it lost its last writes`,
    );
    this.triggers.changes.redisReconnected();
    this.triggers.requestBackfill();
    this.requestBackfill('redis reconnect');
  }

  private setState(state: SourceState, failure?: string): void {
    this.health.setTransport(state, failure);
  }

  /** Runs tasks one at a time, in arrival order; a failing task never blocks the lane. */
  private enqueue(task: () => Promise<void>): void {
    // Live moments arriving from now on must be handled after this task, not join an earlier batch.
    this.live.closeBatch();
    this.lane.run(task);
  }

  /** The cursor did not move past the moments of a failed batch: a back-fill from the cursor brings them back. */
  private handOverFailed(err: unknown, count = 1): void {
    // Another replica reads the source now: the daemon stops this one; hold, nothing to retry.
    if (err instanceof LeaseLostError) {
      this.live.hold();
      return;
    }
    this.log.warn(
      `moments ${this.ctx.name} hand-over`,
      { err: errorMessage(err) },
      `moments source ${this.ctx.name}: could not hand a moment to the pipeline, will back-fill: ${errorMessage(err)}`,
    );
    this.live.hold();
    this.health.noteRefused(count);
    this.scheduleRetry(async () => this.requestBackfill('emit failure'), `the pipeline refused moments: ${errorMessage(err)}`, true);
  }

  private requestBackfill(reason: string): void {
    this.gapFill.request(reason);
  }

  /** `pipeline`: the failure is on the pipeline side (hand-over, back-fill): reported as not connected until a back-fill succeeds. */
  private scheduleRetry(task: () => Promise<void>, reason: string, pipeline = false): void {
    if (this.stopped) return;
    const delay = this.retry.next();
    const attempt = this.retry.attempt;
    this.log.warn(`moments ${this.ctx.name} retry`, { attempt, delayMs: delay }, `moments source ${this.ctx.name}: ${reason}; retrying in ${delay} ms`);
    if (pipeline) this.health.pipelineFailed(attempt, delay, reason);
    else if (this.health.transportStatus !== 'connected') this.setState({ status: 'reconnecting', attempt, nextRetryInMs: delay, lastError: reason });
    this.retry.after(delay, () => void task());
  }
}

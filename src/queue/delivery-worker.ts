/*
 * One concept at ~330 lines: one attempt of one delivery and what BullMQ makes of its result
 * (backoff, queue-wide pause on Retry-After, dead letter, stalled-job crash limit), plus the
 * in-flight set that shutdown aborts; all of it shares the worker's state. The retry decision
 * itself is backoff.ts, batching batcher.ts, reason bounding bounded-reason.ts.
 */
import { DelayedError, UnrecoverableError, Worker, type Job, type KeepJobs, type Queue } from 'bullmq';
import type { RedisClient } from '../redis/redis-client.js';
import { retryable, type Connector, type Delivery, type DeliveryResult } from '../../connectors/connector.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { Batcher } from './batcher.js';
import { boundedResult } from './bounded-reason.js';
import { decideRetry } from './backoff.js';
import { queueMetrics } from './queue-metrics.js';
import type { ResolvedDeliveryOptions } from './queue-options.js';
import type { AttemptRecord, DeliveryJobData } from './routed-delivery.js';

/**
 * Crash-recovery tuning (documented in docs and the report):
 * - `durationMs`: a job's lock lives this long without renewal; the worker renews it every half.
 *   After a SIGKILL the lock expires within this time. Too short and a long event-loop stall
 *   (GC, a slow synchronous render) looks like a crash and the job runs twice.
 * - `stalledIntervalMs`: how often a worker looks for active jobs whose lock expired and puts them
 *   back in `wait`. BullMQ marks on one check and moves on the next, so a killed job is retried
 *   within about durationMs + 2 × stalledIntervalMs.
 * - `maxStalledCount`: stalls a job may survive before it is dead-lettered (a delivery that kills
 *   its worker every time must not loop forever, but one crash is not the delivery's fault).
 */
export interface LockOptions {
  /** @defaultValue 15000 */
  durationMs: number;
  /** @defaultValue 5000 */
  stalledIntervalMs: number;
  /** @defaultValue 3 */
  maxStalledCount: number;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = { durationMs: 15_000, stalledIntervalMs: 5_000, maxStalledCount: 3 };

export interface DeliveryWorkerOptions {
  /** Shared connection for non-blocking commands (BullMQ duplicates it for the blocking one). */
  connection: RedisClient;
  prefix: string;
  queue: Queue<DeliveryJobData>;
  connectorName: string;
  /** The queue's partition, for logs (set when the connector has more than one). */
  partition?: number;
  /**
   * The connector's other partition queues: a sink's Retry-After pauses them as well, as it paused
   * the connector's one queue before partitions. @defaultValue none
   */
  pausesWith?: () => readonly Queue[];
  connector: Connector;
  /** `rateLimit` here is this queue's own limiter (a partition's share of the connector's). */
  options: ResolvedDeliveryOptions;
  logger: Logger;
  lock: LockOptions;
  removeOnComplete: KeepJobs;
  removeOnFail: KeepJobs;
  /** Told about every finished attempt (the demo's live lines, tests). Must not throw. */
  onAttempt?: (attempt: AttemptReport) => void;
}

/** One finished attempt, as reported to `onAttempt` listeners. */
export interface AttemptReport {
  deliveryId: string;
  eventId: string;
  route: string;
  connector: string;
  attempt: number;
  result: DeliveryResult;
  /** Event time → this attempt's end, in ms. */
  latencyMs: number;
}

/** Carries the delay the backoff decided; BullMQ's backoff strategy hook reads it. */
class RetryDeliveryError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    // Stryker disable next-line StringLiteral: the name is never read (the backoff hook checks the class) (equivalent)
    this.name = 'RetryDeliveryError';
  }
}

/**
 * Rate limit large enough never to bite: BullMQ honours a manual rate limit (a sink's Retry-After,
 * `queue.rateLimit`) only when a limiter is set. The dashboard uses the same bound to tell this
 * stand-in from a configured limit.
 */
export const UNLIMITED_RATE_MAX = 1_000_000_000;
const UNLIMITED = { max: UNLIMITED_RATE_MAX, duration: 1000 };

interface InFlight {
  /** Aborts the connector's signal and ends the attempt's race with `reason`. */
  abort: (reason: Error) => void;
  interrupted: boolean;
}

/**
 * The worker side of one connector's queue: calls the connector, classifies the result, and turns
 * it into BullMQ's retry semantics (backoff delay, queue-wide rate limit, dead letter).
 */
export class DeliveryWorker {
  private worker: Worker<DeliveryJobData> | undefined;
  private readonly inFlight = new Set<InFlight>();
  private readonly batcher: Batcher | undefined;
  private readonly log: Logger;
  /** Label-bound children: the hot path skips prom-client's label hashing. */
  private readonly completed;
  private readonly latency;
  private readonly routeDelivered = new Map<string, ReturnType<typeof queueMetrics.routeDelivered.labels>>();

  constructor(private readonly o: DeliveryWorkerOptions) {
    this.log = o.logger.child({ connector: o.connectorName, ...(o.partition !== undefined ? { partition: o.partition } : {}) });
    this.completed = queueMetrics.completed.labels({ connector: o.connectorName });
    this.latency = queueMetrics.latency.labels({ connector: o.connectorName });
    const { connector, options } = o;
    if (options.batch && connector.deliverBatch) {
      const deliverBatch = connector.deliverBatch.bind(connector);
      this.batcher = new Batcher(deliverBatch, { ...options.batch, timeoutMs: options.timeoutMs });
    }
  }

  start(): void {
    if (this.worker) return;
    const { options, lock } = this.o;
    // A batch only fills if that many jobs can be active at once.
    const concurrency = Math.max(options.concurrency, options.batch?.maxSize ?? 0);
    const limiter = options.rateLimit ? { max: options.rateLimit.max, duration: options.rateLimit.durationMs } : UNLIMITED;
    this.worker = new Worker<DeliveryJobData>(this.o.queue.name, (job, token) => this.process(job, token), {
      connection: this.o.connection,
      prefix: this.o.prefix,
      concurrency,
      limiter,
      lockDuration: lock.durationMs,
      stalledInterval: lock.stalledIntervalMs,
      maxStalledCount: lock.maxStalledCount,
      removeOnComplete: this.o.removeOnComplete,
      removeOnFail: this.o.removeOnFail,
      settings: { backoffStrategy: (_attempts, _type, err) => (err instanceof RetryDeliveryError ? err.delayMs : 1000) },
    });
    this.worker.on('error', (err) => this.log.error({ err: errorMessage(err) }, 'queue worker error (will keep retrying the Redis connection)'));
    this.worker.on('failed', (job, err) => {
      // BullMQ itself fails jobs that stalled more than maxStalledCount times.
      if (job && /stalled more than allowable limit/.test(err.message)) {
        this.countDeadLetter(job.data.route);
        this.log.error({ deliveryId: job.id, reason: err.message }, 'delivery dead-lettered: its worker crashed too often while sending it');
      }
    });
  }

  /** True between start() and stop() while BullMQ's worker loop runs. */
  running(): boolean {
    return this.worker?.isRunning() ?? false;
  }

  /** Stops fetching; in-flight deliveries get `graceMs` to finish, then are handed back to the queue. */
  async stop(graceMs: number): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const closing = worker.close();
    let timer: NodeJS.Timeout | undefined;
    // Stryker disable next-line ArrowFunction,BooleanLiteral: once the worker closed nothing is in flight, so taking the abort path then aborts nothing (equivalent)
    const finished = await Promise.race([closing.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer);
    // Stryker disable next-line ConditionalExpression: as above — after a close in time the abort path finds nothing in flight (equivalent)
    if (!finished) {
      // Stryker disable next-line StringLiteral: the connector sees only that its signal aborted; the attempt is handed back, not recorded (equivalent)
      const reason = new Error('shutting down');
      for (const f of this.inFlight) {
        f.interrupted = true;
        f.abort(reason);
      }
      this.batcher?.abortAll(reason);
      await closing;
    }
    this.worker = undefined;
  }

  private async process(job: Job<DeliveryJobData>, token: string | undefined): Promise<void> {
    const data = job.data;
    const connectorName = this.o.connectorName;
    const attempt = job.attemptsMade + 1;
    if (data.refused) {
      // Refused at enqueue (e.g. over maxPayloadBytes): a dead letter from the start, never sent.
      await this.record(job, { attempt, at: Date.now(), outcome: 'permanent', reason: data.refused.reason });
      this.countDeadLetter(data.route);
      this.log.warn(
        { deliveryId: data.deliveryId, eventId: data.event.id, route: data.route, reason: data.refused.reason },
        'delivery refused at enqueue: dead-lettered unsent (inspect with `moments-bridge dlq show`)',
      );
      throw new UnrecoverableError(data.refused.reason);
    }
    const delivery: Delivery = { id: data.deliveryId, event: data.event, route: data.route, connector: data.connector, payload: data.payload, attempt };
    const answer = await this.attempt(delivery, job, token);
    if (answer === undefined) return; // handed back during shutdown (DelayedError thrown inside)
    // Everything below stores or logs the reason: bound it and redact echoed credentials once.
    const result = boundedResult(answer);
    const now = Date.now();
    const eventTime = Date.parse(data.event.time);
    this.o.onAttempt?.({
      deliveryId: data.deliveryId,
      eventId: data.event.id,
      route: data.route,
      connector: connectorName,
      attempt,
      result,
      latencyMs: now - eventTime,
    });

    if (result.status === 'delivered') {
      this.completed.inc();
      this.countDelivered(data.route);
      if (Number.isFinite(eventTime)) this.latency.observe(Math.max(0, now - eventTime) / 1000);
      return;
    }

    const origin = data.redrivenAt ?? job.timestamp;
    const policy = this.o.options.retry;
    const base = { deliveryId: data.deliveryId, eventId: data.event.id, route: data.route, attempt };

    if (result.status === 'permanent') {
      await this.record(job, { attempt, at: now, outcome: 'permanent', reason: result.reason });
      queueMetrics.failed.inc({ connector: connectorName, outcome: 'permanent' });
      this.countDeadLetter(data.route);
      this.log.warn({ ...base, reason: result.reason }, 'delivery failed permanently: dead-lettered (inspect with `moments-bridge dlq show`)');
      throw new UnrecoverableError(result.reason);
    }

    const outcome: AttemptRecord['outcome'] = result.reason.startsWith('attempt timed out') ? 'timeout' : 'retry';
    if (result.retryAfterMs !== undefined && result.retryAfterMs >= 0) {
      // At least 1 ms: BullMQ takes a manual rate limit of 0 as none, and the RateLimitError then
      // fails the attempt (Retry-After: 0 spent an attempt and waited a backoff).
      const retryAfterMs = Math.max(1, Math.ceil(result.retryAfterMs));
      if (now + retryAfterMs - origin <= policy.maxAgeMs) {
        // Retry-After: pause the whole queue (every replica sees the limiter key) and put the job
        // back in `wait` without spending an attempt.
        await this.record(job, { attempt, at: now, outcome: 'rate-limited', reason: result.reason, retryAfterMs });
        queueMetrics.failed.inc({ connector: connectorName, outcome: 'rate-limited' });
        queueMetrics.rateLimited.inc({ connector: connectorName });
        this.log.info({ ...base, retryAfterMs, reason: result.reason }, 'sink asked to retry later: pausing this connector queue');
        await Promise.all([this.o.queue, ...(this.o.pausesWith?.() ?? [])].map((q) => q.rateLimit(retryAfterMs)));
        throw Worker.RateLimitError();
      }
      // Retrying sooner than the sink asked would only hammer it: the delivery cannot make it in time.
      const reason = `the sink asked to wait ${retryAfterMs} ms, past retry.maxAge (${policy.maxAgeMs} ms); last error: ${result.reason}`;
      await this.record(job, { attempt, at: now, outcome: 'gave-up', reason: result.reason, retryAfterMs });
      queueMetrics.failed.inc({ connector: connectorName, outcome: 'rate-limited' });
      this.countDeadLetter(data.route);
      this.log.warn({ ...base, reason }, 'delivery dead-lettered: Retry-After beyond its maximum age');
      throw new UnrecoverableError(reason);
    }

    const decision = decideRetry(policy, attempt, origin, now);
    queueMetrics.failed.inc({ connector: connectorName, outcome });
    if (!decision.retry) {
      const reason = `${decision.reason}; last error: ${result.reason}`;
      await this.record(job, { attempt, at: now, outcome: 'gave-up', reason: result.reason });
      this.countDeadLetter(data.route);
      this.log.warn({ ...base, reason }, 'delivery dead-lettered after retries');
      throw new UnrecoverableError(reason);
    }
    await this.record(job, { attempt, at: now, outcome, reason: result.reason, delayMs: decision.delayMs });
    queueMetrics.retried.inc({ connector: connectorName });
    this.log.debug({ ...base, delayMs: decision.delayMs, reason: result.reason }, 'delivery failed: will retry');
    throw new RetryDeliveryError(result.reason, decision.delayMs);
  }

  /** One attempt, bounded by the timeout; a throwing connector is a retryable failure (it should classify instead). */
  private async attempt(delivery: Delivery, job: Job<DeliveryJobData>, token: string | undefined): Promise<DeliveryResult | undefined> {
    const timeoutMs = this.o.options.timeoutMs;
    const ac = new AbortController();
    // The race makes the timeout and shutdown hold even for a connector that ignores `signal`.
    // Its losing side is settled directly by whoever aborts (cheaper per job than an 'abort'
    // listener wrapping a second promise).
    let stop!: (reason: Error) => void;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    const entry: InFlight = {
      abort: (reason) => {
        ac.abort(reason);
        stop(reason);
      },
      interrupted: false,
    };
    this.inFlight.add(entry);
    const timeout = new Error(`attempt timed out after ${timeoutMs} ms`);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      entry.abort(timeout);
    }, timeoutMs);
    let result: DeliveryResult;
    try {
      result = await Promise.race([this.batcher ? this.batcher.deliver(delivery) : this.o.connector.deliver(delivery, ac.signal), stopped]);
    } catch (err) {
      result = retryable(timedOut ? timeout.message : `connector threw: ${errorMessage(err)}`);
    } finally {
      clearTimeout(timer);
      // Stryker disable next-line all: only memory: a finished attempt left here is aborted in vain at stop (equivalent)
      this.inFlight.delete(entry);
    }
    if (entry.interrupted) {
      // Shutdown grace ran out: hand the job back now (no attempt spent) instead of waiting for the stalled check.
      await job.moveToDelayed(Date.now(), token);
      // Stryker disable next-line StringLiteral: BullMQ does not keep or show a DelayedError's message (equivalent)
      throw new DelayedError('handed back to the queue at shutdown');
    }
    return result;
  }

  private countDelivered(route: string): void {
    let child = this.routeDelivered.get(route);
    // Stryker disable next-line ConditionalExpression: a cache of prom-client's label lookup; labelling again counts the same (equivalent)
    if (!child) {
      child = queueMetrics.routeDelivered.labels({ route, connector: this.o.connectorName });
      // Stryker disable next-line all: see above: the cache only saves the lookup (equivalent)
      this.routeDelivered.set(route, child);
    }
    child.inc();
  }

  /** Every way into the dead letters, counted once per connector and once per route. */
  private countDeadLetter(route: string): void {
    queueMetrics.deadLettered.inc({ connector: this.o.connectorName });
    queueMetrics.routeFailed.inc({ route, connector: this.o.connectorName });
  }

  private async record(job: Job<DeliveryJobData>, rec: AttemptRecord): Promise<void> {
    try {
      await job.log(JSON.stringify(rec));
    } catch (err) {
      // The attempt history is for humans; failing to write it must not change the delivery's fate.
      this.log.warn({ deliveryId: job.id, err: errorMessage(err) }, 'could not record the attempt in the job log');
    }
  }
}

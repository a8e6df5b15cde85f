/*
 * One concept at ~410 lines: the producer side of delivery. `enqueue` is long because its checks
 * (unknown connector, repeat in the batch, unserializable, too large, already queued — also under
 * an earlier partition count) and the
 * one-round-trip duplicate check must see the same batch in one pass; the rest (worker start and
 * stop, depth, close) is the lifecycle of the same queues and connections. The parts that stand
 * alone already live beside it: options (queue-options.ts), the worker (delivery-worker.ts),
 * a connector's partition queues (connector-partitions.ts), quarantine (set-aside.ts), ids
 * (delivery-id.ts), dead letters (dead-letters.ts), claims (delivery-claims.ts).
 */
import { Queue, type JobsOptions, type KeepJobs } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { createRedisClient } from '../redis/create-redis-client.js';
import type { RedisClient } from '../redis/redis-client.js';
import type { RedisEndpoint } from '../redis/redis-endpoint.js';
import { awaitReplicas } from '../redis/replication-barrier.js';
import type { Connector } from '../../connectors/connector.js';
import type { DeliveryOptionsInput } from './delivery-options-schema.js';
import { InputError } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import { addClaimed } from './delivery-claims.js';
import { deliveryId } from './delivery-id.js';
import { ConnectorPartitions, type QueueDepth } from './connector-partitions.js';
import { DEFAULT_LOCK_OPTIONS, DeliveryWorker, type DeliveryWorkerOptions, type LockOptions } from './delivery-worker.js';
import { queueMetrics } from './queue-metrics.js';
import { resolveDeliveryOptions, type ResolvedDeliveryOptions } from './queue-options.js';
import type { DeliveryJobData, RoutedDelivery } from './routed-delivery.js';
import { serializeFailure } from '../core/safe-snapshot.js';
import { quarantineKey } from '../quarantine/quarantine.js';
import { addQuarantineWrites, countQuarantined, setAsideMetric, type SetAside } from './set-aside.js';

export interface RetentionOptions {
  /** Delivered jobs kept for inspection, newest first. @defaultValue 1000 */
  completedCount?: number;
  /** Delivered jobs older than this are trimmed. @defaultValue 3600000 (1 h) */
  completedAgeMs?: number;
  /** Dead letters kept at most. @defaultValue 100000 */
  deadLetterCount?: number;
  /** Dead letters older than this are trimmed. @defaultValue 2592000000 (30 d) */
  deadLetterAgeMs?: number;
}

export interface DeliveryQueuesOptions {
  /** Redis URL, ioredis options, or an endpoint (one Redis or a cluster). */
  connection: RedisOptions | string | RedisEndpoint;
  /** Key prefix of every queue (BullMQ `prefix`). */
  prefix: string;
  /** `redis.cluster`: queue names get hash tags. @defaultValue false */
  cluster?: boolean;
  connectors: ReadonlyMap<string, { connector: Connector; options: DeliveryOptionsInput }>;
  logger: Logger;
  /** A serialized job (event + payload) larger than this is dead-lettered unsent at enqueue. @defaultValue 524288 (512 KiB) */
  maxPayloadBytes?: number;
  /** Key prefix of the quarantine list set-aside items go to (the daemon's `<redis.keyPrefix>:`). @defaultValue `${prefix}:` */
  quarantinePrefix?: string;
  retention?: RetentionOptions;
  /**
   * How long a delivery id stays claimed after its first enqueue, so a replay or back-fill inside
   * this window is a duplicate even after the delivered job was trimmed. Costs ≈ 19 bytes of Redis
   * per delivery for this long (bench/memory.ts). Config: `redis.dedupTtl`. @defaultValue 86400000 (24 h)
   */
  dedupTtlMs?: number;
  lock?: Partial<LockOptions>;
  /** Told about every finished delivery attempt (see DeliveryWorkerOptions.onAttempt). */
  onAttempt?: DeliveryWorkerOptions['onAttempt'];
}

/** One queue as the queue dashboard shows it (src/http/queue-dashboard.ts `DashboardQueue`). */
export interface QueueView {
  queue: Queue<DeliveryJobData>;
  /** The rate limit this queue's worker applies. */
  rateLimit?: { max: number; durationMs: number };
  /** Set when the connector has several partition queues. */
  partition?: { connector: string; index: number; of: number };
}

export interface EnqueueResult {
  enqueued: number;
  duplicates: number;
  /** Deliveries to a connector that is not configured. */
  rejected: number;
  /** Items quarantined (the caller's set-aside items and unserializable deliveries). */
  quarantined: number;
  /** New deliveries over maxPayloadBytes, added as refused jobs that are dead-lettered unsent. */
  deadLettered: number;
}

export type { QueueDepth } from './connector-partitions.js';

/** Bounds a job's attempts in BullMQ; the real limit (retry.maxAttempts) is checked by the worker so config changes apply to queued jobs. */
const ATTEMPTS_GUARD = 1000;

/**
 * The queue side of delivery: one BullMQ queue per connector partition (one per connector unless
 * it sets `partitions`), exactly one job per (event, route, connector), and the workers that
 * drain them.
 *
 * Deduplication: the job id is the delivery id, and every delivery is claimed for `dedupTtlMs`.
 * The job-id guard alone is not enough: once a delivered job is trimmed (removeOnComplete) its id
 * is free again and a back-fill would deliver twice. The claim is written in the same MULTI as the
 * job (delivery-claims.ts), so two processes racing get one job, and a crash cannot leave a claim
 * without a job; it survives trimming, and expires after the window. A separate `SET NX` claim
 * would need a second round trip and could outlive a crashed enqueue, losing the delivery.
 * `dlq purge` frees the claim (dead-letters.ts).
 */
export class DeliveryQueues {
  private readonly producer: RedisClient;
  private workerConnection: RedisClient | undefined;
  private readonly queues = new Map<string, ConnectorPartitions>();
  private readonly maxPayloadBytes: number;
  private readonly quarantinePrefix: string;
  private readonly dedupTtlMs: number;
  private readonly lock: LockOptions;
  private readonly removeOnComplete: KeepJobs;
  private readonly removeOnFail: KeepJobs;
  private readonly jobOptions: JobsOptions;
  private readonly log: Logger;

  constructor(private readonly opts: DeliveryQueuesOptions) {
    this.log = opts.logger.child({ component: 'queue' });
    this.maxPayloadBytes = opts.maxPayloadBytes ?? 512 * 1024;
    this.quarantinePrefix = opts.quarantinePrefix ?? `${opts.prefix}:`;
    this.dedupTtlMs = opts.dedupTtlMs ?? 86_400_000;
    if (this.dedupTtlMs <= 0) throw new InputError('queue_dedup_ttl_invalid', `dedupTtlMs must be positive (got ${this.dedupTtlMs})`);
    this.lock = { ...DEFAULT_LOCK_OPTIONS, ...opts.lock };
    if (this.lock.stalledIntervalMs > this.lock.durationMs) {
      throw new InputError(
        'queue_lock_invalid',
        `lock.stalledIntervalMs (${this.lock.stalledIntervalMs}) must not exceed lock.durationMs (${this.lock.durationMs})`,
      );
    }
    const r = opts.retention ?? {};
    this.removeOnComplete = { count: r.completedCount ?? 1000, age: Math.ceil((r.completedAgeMs ?? 3_600_000) / 1000) };
    this.removeOnFail = { count: r.deadLetterCount ?? 100_000, age: Math.ceil((r.deadLetterAgeMs ?? 2_592_000_000) / 1000) };
    // No stack traces: every failure the worker records is a classified result (its message says
    // it all, e.g. `HTTP 400 …`), and a trace of the worker's own throw only hides that message in
    // the dashboard and costs ~1 KB of Redis per dead letter.
    this.jobOptions = { attempts: ATTEMPTS_GUARD, backoff: { type: 'bridge' }, stackTraceLimit: 0 };
    // Every option is checked before the first connection opens: a refused config leaks none.
    const resolvedOptions = new Map<string, ResolvedDeliveryOptions>();
    for (const [name, { connector, options }] of opts.connectors) {
      try {
        resolvedOptions.set(name, resolveDeliveryOptions(connector, options));
      } catch (err) {
        throw new InputError('queue_options_invalid', `connectors.${name}: invalid delivery options: ${(err as Error).message}`, { cause: err });
      }
    }
    // Enqueue must fail fast when Redis is down, so the source keeps its cursor and retries.
    this.producer = this.connect({ maxRetriesPerRequest: 1 });
    for (const [name, { connector }] of opts.connectors) {
      const options = resolvedOptions.get(name)!;
      const cluster = opts.cluster ?? false;
      const partitions = new ConnectorPartitions({
        name,
        connector,
        options,
        connection: this.producer,
        prefix: opts.prefix,
        cluster,
        jobOptions: this.jobOptions,
        dedupTtlMs: this.dedupTtlMs,
        logger: this.log,
      });
      this.queues.set(name, partitions);
    }
  }

  /** The first (partition 0) BullMQ queue of each connector, by connector name: with `partitions: 1` its only queue. */
  bullQueues(): Map<string, Queue<DeliveryJobData>> {
    return new Map([...this.queues].map(([name, q]) => [name, q.queues()[0]![1]]));
  }

  /** Every served partition queue of a connector, by partition number (empty for an unknown connector). */
  partitionQueues(connector: string): [number, Queue<DeliveryJobData>][] {
    return this.queues.get(connector)?.queues() ?? [];
  }

  /**
   * Every queue with the rate limit its worker applies (for the queue dashboard), by display name:
   * the connector's name for its only queue, `<connector>@<partition>` when it has several.
   */
  dashboardQueues(): Map<string, QueueView> {
    return new Map(
      [...this.queues].flatMap(([name, q]) => {
        const queues = q.queues();
        const rateLimit = q.partitionRateLimit();
        return queues.map(([index, queue]): [string, QueueView] =>
          queues.length === 1
            ? [name, { queue, ...(rateLimit ? { rateLimit } : {}) }]
            : [`${name}@${index}`, { queue, ...(rateLimit ? { rateLimit } : {}), partition: { connector: name, index, of: queues.length } }],
        );
      }),
    );
  }

  /** Whether each connector's workers (every partition's) are running (for /readyz). */
  workerStates(): Record<string, boolean> {
    return Object.fromEntries([...this.queues].map(([name, q]) => [name, q.running()]));
  }

  /** Resolved options per connector (for `check` and docs). */
  deliveryOptions(connector: string): ResolvedDeliveryOptions | undefined {
    return this.queues.get(connector)?.options;
  }

  /**
   * Adds deliveries in one round trip: a pipelined existence check and one addBulk per connector
   * queue, sent together. Throws when Redis does not answer, so the caller keeps its cursor and
   * tries again. `duplicates` is exact, also when two processes race on the same new delivery
   * (one counts it enqueued, the other a duplicate; Redis holds one job).
   *
   * One bad item never fails the call: a delivery whose job cannot be serialized (nested too deep,
   * BigInt, circular, a throwing getter) is quarantined with its reason, alongside `setAside` (the
   * items the caller already took out, e.g. events whose routing threw), in the same round trip;
   * a job larger than `maxPayloadBytes` is added as a refused job that the worker dead-letters at
   * once without sending it (so `dlq list` shows it and `dlq retry` can still send it). Only Redis
   * failures reject.
   */
  async enqueue(deliveries: RoutedDelivery[], setAside: readonly SetAside[] = []): Promise<EnqueueResult> {
    let rejected = 0;
    let duplicates = 0;
    const aside = [...setAside];
    const unserializableEvents = new Map<BridgeEvent, string | undefined>();
    const seen = new Set<string>();
    let candidates: { q: ConnectorPartitions; queue: Queue<DeliveryJobData>; data: DeliveryJobData }[] = [];
    for (const d of deliveries) {
      const q = this.queues.get(d.connector);
      if (!q) {
        rejected++;
        queueMetrics.rejected.inc({ connector: d.connector, reason: 'unknown_connector' });
        this.log.error(
          { eventId: d.event.id, route: d.route, connector: d.connector },
          `route "${d.route}" sends to connector "${d.connector}", which is not configured: delivery rejected; add it under connectors`,
        );
        continue;
      }
      const id = deliveryId(d.event.id, d.route, d.connector);
      if (seen.has(`${d.connector}\u0000${id}`)) {
        duplicates++;
        queueMetrics.duplicates.inc({ connector: d.connector });
        continue;
      }
      seen.add(`${d.connector}\u0000${id}`);
      const data: DeliveryJobData = { deliveryId: id, event: d.event, route: d.route, connector: d.connector, payload: d.payload };
      let bytes: number;
      try {
        bytes = Buffer.byteLength(JSON.stringify(data));
      } catch (err) {
        // Whose fault: the event's (quarantined once, whatever its number of deliveries) or this payload's.
        if (!unserializableEvents.has(d.event)) unserializableEvents.set(d.event, eventSerializeFailure(d.event));
        const eventFault = unserializableEvents.get(d.event);
        if (eventFault === undefined)
          aside.push({ event: d.event, reason: 'unserializable', detail: `payload: ${serializeFailure(err)}`, route: d.route, connector: d.connector });
        continue;
      }
      if (bytes > this.maxPayloadBytes) {
        queueMetrics.rejected.inc({ connector: d.connector, reason: 'too_large' });
        const reason = `delivery of ${bytes} bytes exceeds the ${this.maxPayloadBytes}-byte limit (maxPayloadBytes): not sent; shrink the route's payload template, or \`dlq retry\` it to send it as it is`;
        this.log.error({ eventId: d.event.id, route: d.route, connector: d.connector, bytes, limit: this.maxPayloadBytes }, `${reason}; dead-lettered`);
        data.refused = { code: 'payload_too_large', reason };
      }
      // The partition is a function of the delivery's payload and event, so a repeat of this
      // delivery id lands in the same queue, where the checks below and BullMQ's add find it.
      candidates.push({ q, queue: q.queueFor(d.payload, d.event), data });
    }
    for (const [event, detail] of unserializableEvents) if (detail !== undefined) aside.push({ event, reason: 'unserializable', detail });
    // BullMQ waits for a connection without end; a PING fails fast (maxRetriesPerRequest: 1).
    if (this.producer.status !== 'ready') await this.producer.ping();
    // After `partitions` changed, a repeat may sit where an earlier count put it (an extra look, gating these adds).
    const elsewhere = await Promise.all(
      // Stryker disable next-line MethodExpression,ConditionalExpression: another connector's delivery ids (they include the connector) are never in this connector's queues, so looking for them too finds nothing (equivalent)
      [...new Set(candidates.map((c) => c.q))].map((q) => q.queuedUnderOtherCounts(candidates.filter((c) => c.q === q).map((c) => c.data))),
    );
    const moved = new Set(elsewhere.flatMap((s) => [...s]));
    // Stryker disable next-line ConditionalExpression,EqualityOperator: with nothing moved the block changes nothing (equivalent)
    if (moved.size > 0) {
      for (const c of candidates) if (moved.has(c.data.deliveryId)) queueMetrics.duplicates.inc({ connector: c.q.name });
      duplicates += moved.size;
      candidates = candidates.filter((c) => !moved.has(c.data.deliveryId));
    }
    const quarantining = aside.length ? this.writeQuarantine(aside) : undefined;
    // Stryker disable next-line ConditionalExpression,BlockStatement: with no candidates the rest adds nothing and returns the same counts (equivalent; this saves the transaction)
    if (candidates.length === 0) {
      await quarantining;
      return { enqueued: 0, duplicates, rejected, quarantined: aside.length, deadLettered: 0 };
    }

    // One transaction per queue (claim check, BullMQ's adds, settle; see delivery-claims.ts), all
    // sent at once with the quarantine writes: one round trip, and `duplicates` exact even when
    // two processes race (Redis runs one transaction whole before the other). A queue's keys share
    // its hash tag under redis.cluster, so each transaction stays in one slot. A repeat is found by
    // its job (a dead letter kept past the window is still a repeat) or by its claim.
    const byQueue = new Map<Queue<DeliveryJobData>, { q: ConnectorPartitions; list: DeliveryJobData[] }>();
    for (const { q, queue, data } of candidates) {
      let entry = byQueue.get(queue);
      if (!entry) byQueue.set(queue, (entry = { q, list: [] }));
      entry.list.push(data);
    }
    const lists = [...byQueue].map(([queue, { q, list }]) => [{ name: q.name, queue }, list] as const);
    const adding = Promise.all(
      lists.map(([q, list]) => addClaimed(q.queue, list, this.dedupTtlMs, (data) => ({ ...this.jobOptions, jobId: data.deliveryId }))),
    );
    const [found] = await Promise.all([adding, quarantining]);
    // Replicated before the caller records progress (Redis Cluster only; see awaitReplicas).
    await awaitReplicas(this.producer, [...lists.map(([q]) => q.queue.qualifiedName), ...(aside.length ? [quarantineKey(this.quarantinePrefix)] : [])]);
    let enqueued = 0;
    let deadLettered = 0;
    lists.forEach(([q, list], i) => {
      const { repeats } = found[i]!;
      let added = 0;
      repeats.forEach((repeat, k) => {
        if (repeat) return;
        const refused = list[k]!.refused;
        if (!refused) added++;
        else {
          deadLettered++;
          setAsideMetric.inc({ source: list[k]!.event.source, reason: 'too_large', to: 'dead_letter' });
        }
      });
      const dup = repeats.filter(Boolean).length;
      duplicates += dup;
      enqueued += added;
      queueMetrics.duplicates.inc({ connector: q.name }, dup);
      queueMetrics.enqueued.inc({ connector: q.name }, added);
    });
    return { enqueued, duplicates, rejected, quarantined: aside.length, deadLettered };
  }

  /** Writes set-aside items to the quarantine; rejects when Redis does (see {@link addQuarantineWrites}). */
  private async writeQuarantine(items: readonly SetAside[]): Promise<void> {
    const multi = this.producer.multi();
    addQuarantineWrites(multi, this.quarantinePrefix, items, this.log);
    const replies = await multi.exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed)
      throw new Error(`could not write ${items.length} set-aside item(s) to the quarantine: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    countQuarantined(items);
  }

  async startWorkers(): Promise<void> {
    // Workers tolerate Redis outages (they retry forever): maxRetriesPerRequest must be null for BullMQ.
    this.workerConnection ??= this.connect({ maxRetriesPerRequest: null });
    const connection = this.workerConnection;
    for (const q of this.queues.values()) {
      // Partitions left in Redis by a larger `partitions` are drained too (connector-partitions.ts).
      await q.adoptLeftovers(this.producer);
      q.startWorkers(
        ({ queue, partition, options, pausesWith }) =>
          new DeliveryWorker({
            connection,
            prefix: this.opts.prefix,
            queue,
            connectorName: q.name,
            ...(partition !== undefined ? { partition } : {}),
            pausesWith,
            connector: q.connector,
            options,
            logger: this.opts.logger,
            lock: this.lock,
            removeOnComplete: this.removeOnComplete,
            removeOnFail: this.removeOnFail,
            ...(this.opts.onAttempt ? { onAttempt: this.opts.onAttempt } : {}),
          }),
      );
    }
  }

  /** Graceful: stop fetching, let in-flight deliveries finish within `graceMs`, hand the rest back. */
  async stopWorkers(graceMs: number): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.stopWorkers(graceMs)));
  }

  /** Jobs per connector and state, summed over its partitions. */
  async depth(): Promise<Record<string, QueueDepth>> {
    const out: Record<string, QueueDepth> = {};
    await Promise.all([...this.queues.values()].map(async (q) => (out[q.name] = await q.depth())));
    return out;
  }

  /** Stops workers at once (in-flight jobs return via the stalled check) and closes every connection. */
  async close(): Promise<void> {
    await this.stopWorkers(0);
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.producer.disconnect();
    this.workerConnection?.disconnect();
  }

  private connect(extra: { maxRetriesPerRequest: number | null }): RedisClient {
    const c = this.opts.connection;
    if (typeof c === 'string') return new Redis(c, extra);
    if ('kind' in c) return createRedisClient(c, extra);
    return new Redis({ ...c, ...extra });
  }
}

/** Why the event itself cannot be serialized, or undefined when it can. */
function eventSerializeFailure(event: BridgeEvent): string | undefined {
  try {
    JSON.stringify(event);
    return undefined;
  } catch (err) {
    return serializeFailure(err);
  }
}

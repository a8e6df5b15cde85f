import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from '../redis/redis-client.js';
import type { Connector } from '../../connectors/connector.js';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import type { DeliveryWorker } from './delivery-worker.js';
import { PartitionCounts } from './partition-counts.js';
import { queuedOrClaimed } from './delivery-claims.js';
import { partitionOf, partitionRateLimit, partitionsInRedis } from './partitions.js';
import { queueMetrics } from './queue-metrics.js';
import { queueName } from './queue-names.js';
import type { ResolvedDeliveryOptions } from './queue-options.js';
import type { DeliveryJobData } from './routed-delivery.js';

export type QueueDepth = Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed' | 'prioritized', number>;
const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

export interface ConnectorPartitionsOptions {
  name: string;
  connector: Connector;
  options: ResolvedDeliveryOptions;
  /** The producer connection the queues add jobs on. */
  connection: RedisClient;
  prefix: string;
  cluster: boolean;
  jobOptions: JobsOptions;
  /** The dedup TTL: how long another partition count stays worth looking under (partition-counts.ts). */
  dedupTtlMs: number;
  logger: Logger;
}

interface Partition {
  queue: Queue<DeliveryJobData>;
  worker?: DeliveryWorker;
}

/** Builds the worker of one partition queue: its rate limit share and the queues its Retry-After pauses are given. */
export type PartitionWorkerFactory = (p: {
  queue: Queue<DeliveryJobData>;
  partition: number | undefined;
  options: ResolvedDeliveryOptions;
  pausesWith: () => readonly Queue[];
}) => DeliveryWorker;

/**
 * One connector's delivery queues: `partitions` BullMQ queues (1 by default: the connector's one
 * queue, named as always), each with its own hash tag so they land on different cluster slots.
 * A delivery goes to the partition of its partition key (`Connector.partitionKey`, else the event
 * id), so one key keeps the order a single queue gives it, and one delivery id always maps to the
 * same queue — where BullMQ's job id and dedup key find the earlier job.
 *
 * Partitions found in Redis beyond `partitions` (left by a larger earlier setting) get a worker
 * too, so lowering the count strands no job: nothing new goes to them, and what they hold (queued
 * jobs, and dead letters that `dlq retry` puts back) is still delivered. The connector's rate limit
 * is shared out over every served partition (partitions.ts), never multiplied by them.
 */
export class ConnectorPartitions {
  readonly name: string;
  readonly connector: Connector;
  readonly options: ResolvedDeliveryOptions;
  private readonly parts = new Map<number, Partition>();
  private readonly log: Logger;
  private readonly counts: PartitionCounts;

  constructor(private readonly o: ConnectorPartitionsOptions) {
    this.name = o.name;
    this.connector = o.connector;
    this.options = o.options;
    this.log = o.logger;
    for (let p = 0; p < o.options.partitions; p++) this.add(p);
    this.counts = new PartitionCounts({
      redis: o.connection,
      key: `${this.base(0)}:partition-counts`,
      count: o.options.partitions,
      windowMs: o.dedupTtlMs,
    });
  }

  /** The key prefix of one partition queue (`<prefix>:<queue name>`), whether or not it is served here. */
  private base(partition: number): string {
    return `${this.o.prefix}:${queueName(this.name, { cluster: this.o.cluster, partition })}`;
  }

  private add(partition: number): Partition {
    const queue = new Queue<DeliveryJobData>(queueName(this.name, { cluster: this.o.cluster, partition }), {
      connection: this.o.connection,
      prefix: this.o.prefix,
      defaultJobOptions: this.o.jobOptions,
    });
    queue.on('error', (err) => this.log.error({ connector: this.name, partition, err: err.message }, 'queue connection error'));
    const part: Partition = { queue };
    this.parts.set(partition, part);
    return part;
  }

  /** The partition a delivery goes to: a pure function of its rendered payload, its event and the configured count. */
  partitionFor(payload: unknown, event: BridgeEvent): number {
    const n = this.options.partitions;
    return n === 1 ? 0 : partitionOf(this.partitionKey(payload, event), n);
  }

  private partitionKey(payload: unknown, event: BridgeEvent): string {
    let key: string | undefined;
    try {
      key = this.connector.partitionKey?.(payload, event);
    } catch (err) {
      // A connector's key function reads a payload it rendered itself; a throw is its bug, not the delivery's.
      this.log.warn({ connector: this.name, eventId: event.id, err: (err as Error).message }, 'partitionKey threw: partitioning by the event id');
    }
    return typeof key === 'string' && key !== '' ? key : event.id;
  }

  /**
   * The delivery ids among `items` already queued (dedup key or job) in the partition that another
   * partition count, used lately by some process, gives their key (partition-counts.ts): repeats
   * that the check in this count's partition cannot see. No Redis call unless a recent other count
   * exists and some key moved; one EVAL per partition looked in (one slot each).
   */
  async queuedUnderOtherCounts(items: readonly DeliveryJobData[]): Promise<Set<string>> {
    const others = await this.counts.recentOthers();
    const found = new Set<string>();
    if (others.length === 0) return found;
    const byPartition = new Map<number, Set<string>>();
    for (const d of items) {
      const key = this.partitionKey(d.payload, d.event);
      const here = partitionOf(key, this.options.partitions);
      for (const m of others) {
        const p = partitionOf(key, m);
        if (p === here) continue;
        let ids = byPartition.get(p);
        if (!ids) byPartition.set(p, (ids = new Set()));
        ids.add(d.deliveryId);
      }
    }
    await Promise.all(
      [...byPartition].map(async ([p, set]) => {
        const ids = [...set];
        const flags = await queuedOrClaimed(this.o.connection, this.base(p), ids, this.o.dedupTtlMs);
        flags.forEach((hit, i) => hit && found.add(ids[i]!));
      }),
    );
    return found;
  }

  /** The queue a delivery is added to. */
  queueFor(payload: unknown, event: BridgeEvent): Queue<DeliveryJobData> {
    return this.parts.get(this.partitionFor(payload, event))!.queue;
  }

  /** Every served partition's queue (configured ones first, then left-over ones), by partition number. */
  queues(): [number, Queue<DeliveryJobData>][] {
    return [...this.parts].sort(([a], [b]) => a - b).map(([p, part]) => [p, part.queue]);
  }

  /** The rate limit each partition's worker applies (its share of the connector's), or undefined when none is set. */
  partitionRateLimit(): { max: number; durationMs: number } | undefined {
    const limit = this.options.rateLimit;
    if (!limit) return undefined;
    return limit.perPartition ? { max: limit.max, durationMs: limit.durationMs } : partitionRateLimit(limit, this.parts.size);
  }

  /**
   * Serves the partitions beyond the configured count that exist in Redis (their meta key), so
   * their jobs are not stranded; returns their numbers. Call before the workers start: the rate
   * limit share counts them.
   */
  async adoptLeftovers(redis: RedisClient): Promise<number[]> {
    const found = (await partitionsInRedis(redis, this.o.prefix, this.name, this.o.cluster)).filter((p) => !this.parts.has(p));
    for (const p of found) this.add(p);
    if (found.length > 0) {
      this.log.warn(
        { connector: this.name, partitions: this.options.partitions, leftover: found },
        `connector ${this.name} has ${found.length} partition queue(s) in Redis beyond partitions: ${this.options.partitions} (${found.join(', ')}): ` +
          'nothing new goes to them; this process delivers what they hold (docs/operations.md, Partitioned connector queues)',
      );
    }
    return found;
  }

  startWorkers(make: PartitionWorkerFactory): void {
    const limit = this.partitionRateLimit();
    const { rateLimit: _configured, ...rest } = this.options;
    const options: ResolvedDeliveryOptions = { ...rest, ...(limit ? { rateLimit: limit } : {}) };
    const all = this.queues().map(([, q]) => q);
    for (const [p, part] of this.parts) {
      part.worker ??= make({
        queue: part.queue,
        partition: this.parts.size > 1 ? p : undefined,
        options,
        pausesWith: () => all.filter((q) => q !== part.queue),
      });
      part.worker.start();
    }
  }

  /** Every partition's worker runs. */
  running(): boolean {
    return [...this.parts.values()].every((p) => p.worker?.running() ?? false);
  }

  async stopWorkers(graceMs: number): Promise<void> {
    await Promise.all([...this.parts.values()].map((p) => p.worker?.stop(graceMs)));
  }

  /** Jobs per state over all partitions; sets the depth gauges (labelled by connector: partitions are summed). */
  async depth(): Promise<QueueDepth> {
    const counts = await Promise.all([...this.parts.values()].map((p) => p.queue.getJobCounts(...STATES)));
    const d: QueueDepth = { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0, prioritized: 0 };
    for (const c of counts) for (const state of STATES) d[state] += c[state] ?? 0;
    for (const state of STATES) queueMetrics.depth.set({ connector: this.name, state }, d[state]);
    queueMetrics.partitions.set({ connector: this.name }, this.parts.size);
    queueMetrics.partitionWaitingMax.set({ connector: this.name }, Math.max(...counts.map((c) => (c.waiting ?? 0) + (c.prioritized ?? 0))));
    return d;
  }

  async close(): Promise<void> {
    await Promise.all([...this.parts.values()].map((p) => p.queue.close()));
  }
}

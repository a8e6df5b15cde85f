import { Queue, type Job } from 'bullmq';
import type { RedisClient } from '../redis/redis-client.js';
import { scanKeys } from '../redis/scan-keys.js';
import type { BridgeEvent } from '../core/event.js';
import { partitionsInRedis } from './partitions.js';
import { connectorOfQueue, queueMetaPattern, queueName } from './queue-names.js';
import type { AttemptRecord, DeliveryJobData } from './routed-delivery.js';
import { releaseClaims } from './delivery-claims.js';

/**
 * Dead letters are the BullMQ `failed` set of each connector queue — of every partition queue of
 * the connector, including partitions beyond its current `partitions` that Redis still holds
 * (partitions.ts `partitionsInRedis`), so a changed count hides none: the job keeps its data
 * (event, route, connector, rendered payload) and its log holds one JSON {@link AttemptRecord}
 * per failed attempt. These functions back `moments-bridge dlq …`; they take a Redis connection
 * and the key prefix and return data (printing is the CLI's business).
 */
export interface DeadLetterScope {
  prefix: string;
  /** Only this connector's queues (all its partitions). */
  connector?: string;
  /**
   * Connector names to look in. Without it the queues are discovered with SCAN (on every master
   * of a Redis Cluster client; behind a cluster proxy SCAN may see one node: pass the configured
   * connectors then).
   */
  connectors?: readonly string[];
  cluster?: boolean;
}

export interface DeadLetterSummary {
  id: string;
  connector: string;
  route: string;
  eventId: string;
  /** Epoch ms of the first enqueue. */
  enqueuedAt: number;
  /** Epoch ms it was dead-lettered. */
  failedAt: number | undefined;
  attempts: number;
  reason: string;
}

export interface DeadLetter extends DeadLetterSummary {
  event: BridgeEvent;
  payload: unknown;
  history: AttemptRecord[];
}

async function connectorNames(redis: RedisClient, scope: DeadLetterScope): Promise<string[]> {
  if (scope.connector) return [scope.connector];
  if (scope.connectors) return [...scope.connectors];
  return queueConnectors(redis, scope.prefix);
}

/** Connectors that have a delivery queue under `prefix` (on a Redis Cluster: SCAN on every master). */
export async function queueConnectors(redis: RedisClient, prefix: string): Promise<string[]> {
  const names = new Set<string>();
  for (const key of await scanKeys(redis, queueMetaPattern(prefix))) {
    const name = connectorOfQueue(key.slice(prefix.length + 1, -':meta'.length));
    if (name !== undefined) names.add(name);
  }
  return [...names].sort();
}

/** Runs `fn` on every partition queue of every connector in scope (partition 0 always: the queue a connector without partitions has). */
async function withQueues<T>(redis: RedisClient, scope: DeadLetterScope, fn: (queue: Queue<DeliveryJobData>, connector: string) => Promise<T>): Promise<T[]> {
  const names = await connectorNames(redis, scope);
  const cluster = scope.cluster ?? false;
  const out: T[] = [];
  for (const name of names) {
    const partitions = new Set([0, ...(await partitionsInRedis(redis, scope.prefix, name, cluster))]);
    for (const partition of partitions) {
      // skipMetasUpdate: looking at a connector that has no queue must not create one (its meta key).
      const queue = new Queue<DeliveryJobData>(queueName(name, { cluster, partition }), { connection: redis, prefix: scope.prefix, skipMetasUpdate: true });
      try {
        out.push(await fn(queue, name));
      } finally {
        await queue.close();
      }
    }
  }
  return out;
}

/** Sums per-queue counts by connector (a connector's partitions count as one). */
function byConnector(counts: readonly (readonly [string, number])[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [connector, n] of counts) out[connector] = (out[connector] ?? 0) + n;
  return out;
}

function summary(job: Job<DeliveryJobData>, connector: string, attempts: number): DeadLetterSummary {
  return {
    id: job.id ?? job.data.deliveryId,
    connector,
    route: job.data.route,
    eventId: job.data.event.id,
    enqueuedAt: job.timestamp,
    failedAt: job.finishedOn,
    attempts,
    reason: job.failedReason,
  };
}

async function history(queue: Queue<DeliveryJobData>, id: string): Promise<AttemptRecord[]> {
  const { logs } = await queue.getJobLogs(id, 0, -1, true);
  return logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as AttemptRecord];
    } catch {
      return [];
    }
  });
}

/** The newest `limit` dead letters of every connector in scope, newest first (the first page of {@link pageDeadLetters}). */
export async function listDeadLetters(redis: RedisClient, scope: DeadLetterScope & { limit?: number }): Promise<DeadLetterSummary[]> {
  return (await pageDeadLetters(redis, { ...scope, limit: scope.limit ?? 100, offset: 0 })).items;
}

export interface DeadLetterPage {
  /** Dead letters in scope, all of them (not just this page). */
  total: number;
  /** Dead letters per connector in scope, including those with none. */
  counts: Record<string, number>;
  /** Newest first, `offset` … `offset + limit - 1` of the whole list. */
  items: DeadLetterSummary[];
}

/**
 * One page of the dead letters of every connector in scope, newest first, with the real totals.
 * Each queue's failed set is ordered by failure time, so its first `offset + limit` are enough to
 * merge the page.
 */
export async function pageDeadLetters(redis: RedisClient, scope: DeadLetterScope & { limit: number; offset: number }): Promise<DeadLetterPage> {
  const perQueue = await withQueues(redis, scope, async (queue, connector) => {
    const count = await queue.getFailedCount();
    const jobs = scope.limit > 0 ? await queue.getJobs(['failed'], 0, scope.offset + scope.limit - 1, false) : [];
    return { connector, count, jobs: jobs.map((job) => ({ job, connector, queue: queue.name })) };
  });
  const page = perQueue
    .flatMap((q) => q.jobs)
    .sort((a, b) => (b.job.finishedOn ?? 0) - (a.job.finishedOn ?? 0))
    .slice(scope.offset, scope.offset + scope.limit);
  // Attempt counts (one log read each) only for the page, not for the jobs skipped by the offset.
  const items = await withQueues(
    redis,
    { ...scope, connectors: [...new Set(page.map((p) => p.connector))], connector: undefined },
    async (queue, connector) => {
      const mine = page.filter((p) => p.queue === queue.name);
      const logs = await Promise.all(mine.map((p) => queue.getJobLogs(p.job.id!, 0, -1)));
      return mine.map((p, i) => [p, summary(p.job, connector, Math.max(logs[i]!.count, p.job.attemptsMade))] as const);
    },
  );
  const byEntry = new Map(items.flat());
  return {
    total: perQueue.reduce((n, q) => n + q.count, 0),
    counts: byConnector(perQueue.map((q) => [q.connector, q.count] as const)),
    items: page.map((p) => byEntry.get(p)!),
  };
}

/** How many dead letters each connector in scope has that failed more than `olderThanMs` ago (all when 0): what a purge would delete. */
export async function countDeadLetters(redis: RedisClient, scope: DeadLetterScope & { olderThanMs?: number }): Promise<Record<string, number>> {
  const cutoff = Date.now() - (scope.olderThanMs ?? 0);
  // The failed set is scored by failure time, as queue.clean() reads it.
  const counts = await withQueues(redis, scope, async (queue, connector) => [connector, await redis.zcount(queue.toKey('failed'), '-inf', cutoff)] as const);
  return byConnector(counts);
}

/** One dead letter with its event, payload and attempt history, or undefined. */
export async function showDeadLetter(redis: RedisClient, scope: DeadLetterScope & { id: string }): Promise<DeadLetter | undefined> {
  const found = await withQueues(redis, scope, async (queue, connector) => {
    const job = await queue.getJob(scope.id);
    if (!job || !(await job.isFailed())) return undefined;
    const h = await history(queue, scope.id);
    return {
      ...summary(job, connector, Math.max(h.length, job.attemptsMade)),
      event: job.data.event,
      payload: job.data.payload,
      history: h,
    } satisfies DeadLetter;
  });
  return found.find((d) => d !== undefined);
}

export interface RetryResult {
  retried: string[];
  /** Requested ids that are not dead letters (unknown, or already retried). */
  missing: string[];
}

/**
 * Puts dead letters back in their queue with a fresh attempt budget; retry.maxAge counts from now.
 * The job keeps its id, so the sink's idempotency key is unchanged.
 */
export async function retryDeadLetters(redis: RedisClient, scope: DeadLetterScope & ({ ids: readonly string[] } | { all: true })): Promise<RetryResult> {
  const retried: string[] = [];
  const wanted = 'ids' in scope ? new Set(scope.ids) : undefined;
  const now = Date.now();
  await withQueues(redis, scope, async (queue) => {
    const jobs: Job<DeliveryJobData>[] = [];
    if (wanted) {
      for (const id of wanted) {
        const job = await queue.getJob(id);
        if (job && (await job.isFailed())) jobs.push(job);
      }
    } else {
      const total = await queue.getFailedCount();
      for (let start = 0; start < total; start += 500) jobs.push(...(await queue.getJobs(['failed'], start, start + 499, true)));
    }
    for (const job of jobs) {
      // A job refused at enqueue is sent as it is: re-driving it is the operator's decision.
      const { refused: _refused, ...data } = job.data;
      await job.updateData({ ...data, redrivenAt: now });
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      retried.push(job.id!);
    }
  });
  const missing = wanted ? [...wanted].filter((id) => !retried.includes(id)) : [];
  return { retried, missing };
}

/** Deletes dead letters older than `olderThanMs` (all when 0); returns how many. */
export async function purgeDeadLetters(redis: RedisClient, scope: DeadLetterScope & { olderThanMs?: number }): Promise<number> {
  const counts = await withQueues(redis, scope, async (queue) => {
    let removed = 0;
    for (;;) {
      const ids = await queue.clean(scope.olderThanMs ?? 0, 1000, 'failed');
      // Frees their claims, so a back-fill can send them again (a crash before this keeps the
      // claims until their window ends: the letters stay purged, never sent twice).
      await releaseClaims(redis, queue, ids);
      removed += ids.length;
      if (ids.length < 1000) return removed;
    }
  });
  return counts.reduce((a, b) => a + b, 0);
}

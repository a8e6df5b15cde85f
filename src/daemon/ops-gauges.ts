import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { gauge } from '../core/metrics.js';
import type { DeliveryQueues } from '../queue/delivery-queues.js';
import type { DaemonRedis } from './daemon-redis.js';
import type { RunningSources } from './running-sources.js';
import { withTimeout } from './with-timeout.js';

const opsMetrics = {
  sourceConnected: gauge('mb_source_connected', '1 while the source has a live upstream connection, 0 otherwise (refreshed on scrape).', ['source']),
  leader: gauge(
    'mb_source_leader',
    '1 while this replica reads the source (its leader, or any replica under `leadership.readers: every-replica`), 0 while it stands by for the lease (refreshed on scrape).',
    ['source'],
  ),
  redisUp: gauge('mb_redis_up', "1 while the daemon's Redis connection is ready (refreshed on scrape)."),
  workerRunning: gauge('mb_worker_running', "1 while the connector queue's worker runs (refreshed on scrape).", ['connector']),
  oldestPending: gauge(
    'mb_source_oldest_pending_age_seconds',
    'Age of the oldest item a source has taken from upstream but the pipeline has not accepted yet; 0 when none waits (refreshed on scrape).',
    ['source'],
  ),
  cursorLag: gauge(
    'mb_source_cursor_lag_seconds',
    "How far a source's cursor is behind the upstream's newest item, for sources that report it (refreshed on scrape).",
    ['source'],
  ),
};

/** Gauges read from other components, refreshed on every /metrics scrape. Never throws. */
export async function refreshOpsGauges(parts: {
  redis: DaemonRedis | undefined;
  sources: RunningSources | undefined;
  queues: DeliveryQueues | undefined;
  logger: Logger;
}): Promise<void> {
  const { redis, sources, queues } = parts;
  const now = Date.now();
  for (const [name, { role }] of Object.entries(sources?.roles() ?? {})) {
    opsMetrics.leader.set({ source: name }, role === 'standby' ? 0 : 1);
    // A stand-by holds no upstream connection (its last term's value would linger otherwise).
    if (role === 'standby') opsMetrics.sourceConnected.set({ source: name }, 0);
  }
  for (const [name, source] of sources?.entries() ?? []) {
    opsMetrics.sourceConnected.set({ source: name }, source.state().status === 'connected' ? 1 : 0);
    const p = sources?.progressOf(name, source);
    if (!p) continue;
    opsMetrics.oldestPending.set({ source: name }, p.pending > 0 && p.oldestPendingSince !== undefined ? Math.max(0, now - p.oldestPendingSince) / 1000 : 0);
    if (p.lagMs !== undefined) opsMetrics.cursorLag.set({ source: name }, Math.max(0, p.lagMs) / 1000);
  }
  opsMetrics.redisUp.set(redis?.ready ? 1 : 0);
  for (const [connector, running] of Object.entries(queues?.workerStates() ?? {})) opsMetrics.workerRunning.set({ connector }, running ? 1 : 0);
  // Depth needs Redis: with Redis down the scrape still answers, with the last known depth.
  if (queues && redis?.ready) {
    await withTimeout(queues.depth(), 1_000, 'queue depth timed out').catch((err: unknown) =>
      parts.logger.debug({ err: errorMessage(err) }, 'could not refresh the queue depth gauge'),
    );
  }
}

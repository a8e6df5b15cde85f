import { compileRouter, createConnectors, type AssembleDeps, type ConnectorEntry } from '../pipeline/assemble.js';
import type { BridgeConfig } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { DigestStage } from '../pipeline/digest-stage.js';
import { Pipeline, type PipelineObserver } from '../pipeline/pipeline.js';
import { DeliveryQueues } from '../queue/delivery-queues.js';
import type { AttemptReport } from '../queue/delivery-worker.js';
import type { Router } from '../routing/router.js';
import { usesHashTags, type RedisEndpoint } from '../redis/redis-endpoint.js';
import type { ConfigDiff } from './config-diff.js';

/**
 * The parts built from config that carry an event from the pipeline to the sinks. A reload
 * builds a new set beside the running one, swaps it in, then retires the old.
 */
export interface DeliveryPath {
  connectors: ReadonlyMap<string, ConnectorEntry>;
  router: Router;
  queues: DeliveryQueues;
  pipeline: Pipeline;
  /** Flushes the router's due group digests into the pipeline. */
  digests: DigestStage;
}

/** How the daemon's queues connect and report; the same for every path it builds. */
export interface QueueSettings {
  /** Where Redis is, passwords included. */
  connection: RedisEndpoint;
  logger: Logger;
  onAttempt?: (attempt: AttemptReport) => void;
  /** Watches routing decisions (the tap publisher). */
  observer?: PipelineObserver;
}

/** Queues, pipeline and digest stage around `connectors` and `router`. Starts nothing. */
export function assembleDeliveryPath(
  config: BridgeConfig,
  connectors: ReadonlyMap<string, ConnectorEntry>,
  router: Router,
  settings: QueueSettings,
): DeliveryPath {
  const queues = new DeliveryQueues({
    connection: settings.connection,
    prefix: config.redis.keyPrefix,
    cluster: usesHashTags(config.redis),
    dedupTtlMs: config.redis.dedupTtl,
    connectors,
    logger: settings.logger.child({ component: 'queue' }),
    ...(settings.onAttempt ? { onAttempt: settings.onAttempt } : {}),
  });
  const pipeline = new Pipeline(router, queues, settings.logger.child({ component: 'pipeline' }), settings.observer);
  const digests = new DigestStage({
    digests: router.digests,
    handOver: (deliveries, unrendered) => pipeline.acceptDigest(deliveries, unrendered),
    logger: settings.logger.child({ component: 'digests' }),
  });
  return { connectors, router, queues, pipeline, digests };
}

/**
 * The path for a reloaded config: builds the added and changed connectors, keeps the others,
 * compiles the routes. Throws what assembling threw, having closed the connectors it created.
 */
export async function buildReloadedPath(config: BridgeConfig, diff: ConfigDiff, deps: AssembleDeps, settings: QueueSettings): Promise<DeliveryPath> {
  const created = await createConnectors({ ...config, connectors: diff.changedConnectors }, deps);
  const connectors = new Map(Object.keys(config.connectors).map((n) => [n, (diff.keptConnectors.get(n) ?? created.get(n))!]));
  try {
    return assembleDeliveryPath(config, connectors, compileRouter(config, connectors, deps), settings);
  } catch (err) {
    await closeConnectors(created).catch(() => undefined);
    throw err;
  }
}

/**
 * Retires `old` once `next` takes new events. The old workers finish what they hold (with the old
 * connectors, within `graceMs`) before the new ones start, so each job meets exactly one config;
 * jobs arriving meanwhile wait in Redis. Connectors `next` did not keep are closed last.
 */
export async function handOver(old: DeliveryPath, next: DeliveryPath, graceMs: number, log: Logger): Promise<void> {
  await old.digests.stop().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'previous digest stage did not stop cleanly'));
  await old.queues.stopWorkers(graceMs);
  await old.queues.close();
  await next.queues.startWorkers();
  for (const [name, e] of old.connectors) {
    if (next.connectors.get(name) !== e)
      await Promise.resolve(e.connector.close?.()).catch((err: unknown) =>
        log.warn({ connector: name, err: errorMessage(err) }, 'previous connector did not close cleanly'),
      );
  }
}

export async function closeConnectors(connectors: ReadonlyMap<string, ConnectorEntry>): Promise<void> {
  await Promise.all([...connectors.values()].map((e) => e.connector.close?.()));
}

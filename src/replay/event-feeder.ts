import { Redis } from 'ioredis';
import { compileRouter, createConnectors, type ConnectorEntry } from '../pipeline/assemble.js';
import { connectToolRedis, type ToolRedis } from '../redis/tool-redis.js';
import { createRedisClient } from '../redis/create-redis-client.js';
import type { RedisClient } from '../redis/redis-client.js';
import { usesHashTags } from '../redis/redis-endpoint.js';
import type { LoadedConfig } from '../config/load-config.js';
import { InputError } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import { DeliveryQueues } from '../queue/delivery-queues.js';
import type { Router } from '../routing/router.js';

export interface EventFeederOptions {
  loaded: LoadedConfig;
  logger: Logger;
  /** Print decisions only: no Redis, no queue. */
  dryRun: boolean;
  /** Only these routes, as if they were the only ones in the config. */
  routes?: string[];
  /** Redis URL instead of the config's (`--redis`). */
  redis?: string;
}

/** The command-line options `replay` and `backfill` share: `--dry-run`, `--route`, `--redis`. */
export interface FeedCommandOptions {
  dryRun?: boolean;
  route?: string[];
  redis?: string;
}

/** {@link EventFeederOptions} from the shared command-line options. */
export function feederOptions(loaded: LoadedConfig, logger: Logger, opts: FeedCommandOptions): EventFeederOptions {
  return { loaded, logger, dryRun: opts.dryRun ?? false, ...(opts.route ? { routes: opts.route } : {}), ...(opts.redis ? { redis: opts.redis } : {}) };
}

export interface FeedResult {
  /** Deliveries the routes decided (dry run: what they would decide with no throttle window open). */
  deliveries: { route: string; connector: string }[];
  enqueued: number;
  duplicates: number;
}

/**
 * Pushes stored or historical events through the same router and queue as the daemon, without
 * workers: the running daemon (or the next one started) delivers the jobs. Job ids are delivery
 * ids, so an event already queued or delivered within the dedup window is a duplicate, and
 * re-running a replay or back-fill is safe.
 */
export class EventFeeder {
  private constructor(
    /** The Redis handle (offline in a dry run), e.g. for sources' history reads. */
    readonly redis: RedisClient,
    private readonly router: Router,
    private readonly queues: DeliveryQueues | undefined,
    private readonly cleanup: () => Promise<void>,
  ) {}

  static async open(o: EventFeederOptions): Promise<EventFeeder> {
    const { config } = o.loaded;
    if (o.routes?.length) {
      const known = config.routes.map((r) => r.name);
      const unknown = o.routes.filter((r) => !known.includes(r));
      if (unknown.length)
        throw new InputError('route_unknown', `no route named ${unknown.map((r) => `"${r}"`).join(', ')} (routes: ${known.join(', ') || 'none'})`);
    }
    const routes = o.routes?.length ? config.routes.filter((r) => o.routes!.includes(r.name)) : config.routes;
    let target: ToolRedis | undefined;
    const redis: RedisClient = o.dryRun
      ? new Redis({ lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 })
      : createRedisClient((target = await connectToolRedis(o.loaded, o.redis)).endpoint, { maxRetriesPerRequest: 1, lazyConnect: true });
    let connectors = new Map<string, ConnectorEntry>();
    let queues: DeliveryQueues | undefined;
    const cleanup = async () => {
      await queues?.close();
      await Promise.all([...connectors.values()].map((e) => e.connector.close?.()));
      redis.disconnect();
      await target?.close();
    };
    try {
      if (target) {
        await redis.connect();
        if (target.origin === 'started')
          o.logger.info(`no daemon is running on ${config.redis.dataDir}: started its embedded redis-server; the jobs are delivered when the daemon runs`);
      }
      const deps = { redis, keyPrefix: `${config.redis.keyPrefix}:`, logger: o.logger, configDir: o.loaded.configDir };
      connectors = await createConnectors(config, deps);
      const router = compileRouter({ ...config, routes }, connectors, deps);
      if (target) {
        queues = new DeliveryQueues({
          connection: target.endpoint,
          prefix: config.redis.keyPrefix,
          cluster: usesHashTags(config.redis),
          // The same claim window as the daemon, so a replay inside it is a duplicate there too.
          dedupTtlMs: config.redis.dedupTtl,
          connectors,
          logger: o.logger,
        });
      }
      return new EventFeeder(redis, router, queues, cleanup);
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  async feed(event: BridgeEvent): Promise<FeedResult> {
    if (!this.queues) {
      const x = this.router.explain(event);
      return { deliveries: x.deliveries.map((d) => ({ route: d.route, connector: d.connector })), enqueued: 0, duplicates: 0 };
    }
    const deliveries = await this.router.route(event);
    const res = deliveries.length ? await this.queues.enqueue(deliveries) : { enqueued: 0, duplicates: 0 };
    return { deliveries: deliveries.map((d) => ({ route: d.route, connector: d.connector })), enqueued: res.enqueued, duplicates: res.duplicates };
  }

  close(): Promise<void> {
    return this.cleanup();
  }
}

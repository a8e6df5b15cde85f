import { hostname } from 'node:os';
import { compileRouter, createConnectors, type AssembleDeps } from '../pipeline/assemble.js';
import type { LoadedConfig } from '../config/load-config.js';
import { loadValidatedConfig } from '../config/load-validated-config.js';
import type { BridgeConfig } from '../config/schema.js';
import { parseDuration } from '../core/duration.js';
import type { Readiness } from '../http/ops-server.js';
import { RELOAD_PATH } from '../http/reload-endpoint.js';
import type { Logger } from '../core/log.js';
import { enableDefaultMetrics } from '../core/metrics.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { DeliveryQueues } from '../queue/delivery-queues.js';
import type { AttemptReport } from '../queue/delivery-worker.js';
import type { Router } from '../routing/router.js';
import type { Source, SourceContext, SourceState } from '../sources/source.js';
import { diffConfig } from './config-diff.js';
import { DaemonRedis } from './daemon-redis.js';
import { usesHashTags } from '../redis/redis-endpoint.js';
import { assembleDeliveryPath, buildReloadedPath, closeConnectors, handOver, type DeliveryPath, type QueueSettings } from './delivery-path.js';
import { OpsHttp } from './ops-http.js';
import { refreshOpsGauges } from './ops-gauges.js';
import { checkReadiness } from './readiness.js';
import { recordConfigLoaded } from './reload-metrics.js';
import { reloadApplied, reloadFailed, reloadNotTried, reloadRejected, type ReloadResult } from './reload-result.js';
import { TapPublisher } from '../tap/tap-publisher.js';
import { RunningSources } from './running-sources.js';
import { resyncSources } from './source-resync.js';
import { stopStep } from './stop-step.js';

export type { ReloadResult } from './reload-result.js';

/** Daemons started in this process so far (embedders, tests): each needs its own replica id. */
let daemonsInProcess = 0;

/**
 * `<hostname>:<pid>`, and `#2`, `#3`… for further daemons in the same process. Stable across a
 * container restart (same hostname, pid 1), so a restarted replica takes its own lease back at once.
 */
function defaultReplicaId(): string {
  daemonsInProcess += 1;
  return `${hostname()}:${process.pid}${daemonsInProcess > 1 ? `#${daemonsInProcess}` : ''}`;
}

export interface DaemonOptions {
  loaded: LoadedConfig;
  logger: Logger;
  /** Start the sources (false: only workers, e.g. a delivery-only replica or tests). @defaultValue true */
  sources?: boolean;
  /** Told about every finished delivery attempt (the demo prints a line per delivery). */
  onAttempt?: (attempt: AttemptReport) => void;
  /** Sources not in the config (embedders, tests), started after the configured ones, by name. */
  extraSources?: Readonly<Record<string, (ctx: SourceContext) => Source>>;
}

/**
 * The running bridge. Starts components in dependency order — redis → connectors → router →
 * queue → workers → sources → HTTP — and stops them in reverse; a reload swaps the delivery path
 * (connectors, router, queues) in place.
 */
export class Daemon {
  private redis: DaemonRedis | undefined;
  private path: DeliveryPath | undefined;
  private sources: RunningSources | undefined;
  private http: OpsHttp | undefined;
  private tap: TapPublisher | undefined;
  private stopping: Promise<void> | undefined;
  /** Reloads run one at a time, in order. */
  private reloading: Promise<unknown> = Promise.resolve();

  private constructor(
    private loaded: LoadedConfig,
    private readonly logger: Logger,
    /** `run --no-sources` starts none, and a reload starts none either. */
    private readonly withSources: boolean,
    private readonly extraSources: NonNullable<DaemonOptions['extraSources']>,
    private readonly onAttempt: DaemonOptions['onAttempt'],
  ) {}

  get config(): BridgeConfig {
    return this.loaded.config;
  }

  get keyPrefix(): string {
    return `${this.config.redis.keyPrefix}:`;
  }

  /** The Redis URL the daemon uses (password included: do not log it); empty under a Redis Cluster. */
  get redisUrl(): string {
    return this.redis?.url ?? '';
  }

  get httpAddress(): { host: string; port: number } | undefined {
    return this.http?.address;
  }

  get deliveryQueues(): DeliveryQueues | undefined {
    return this.path?.queues;
  }

  /** Where sources' events go; a reload replaces it. */
  get pipeline(): Pipeline | undefined {
    return this.path?.pipeline;
  }

  sourceStates(): Record<string, SourceState> {
    return this.sources?.states() ?? {};
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(options.loaded, options.logger, options.sources ?? true, options.extraSources ?? {}, options.onAttempt);
    try {
      await daemon.startAll();
    } catch (err) {
      await daemon.stop().catch(() => undefined);
      throw err;
    }
    return daemon;
  }

  private async startAll(): Promise<void> {
    const { config, logger: log } = this;
    enableDefaultMetrics();
    recordConfigLoaded();

    // 1. Redis
    this.redis = new DaemonRedis(config.redis, this.loaded.configDir, log);
    const redis = await this.redis.start();
    this.tap = new TapPublisher({
      redis,
      keyPrefix: config.redis.keyPrefix,
      maxAttempts: (c) => this.path?.queues.deliveryOptions(c)?.retry.maxAttempts,
      logger: log,
    });
    this.tap.start();

    // 2. Connectors and router
    const deps = this.assembleDeps(this.loaded);
    const connectors = await createConnectors(config, deps);
    log.info(
      { component: 'connectors', connectors: [...connectors.keys()] },
      `connectors: ${connectors.size} ready (${[...connectors.keys()].join(', ') || 'none'})`,
    );
    let router: Router | undefined;
    try {
      router = compileRouter(config, connectors, deps);
      log.info({ component: 'router', routes: config.routes.length }, `router: ${config.routes.length} route(s) compiled`);
      // 3. Queue and workers
      this.path = assembleDeliveryPath(config, connectors, router, this.queueSettings());
    } catch (err) {
      // Not in a path yet, so stop() would not see them.
      await stopStep(log, 'connectors', () => closeConnectors(connectors));
      throw err;
    }
    await this.path.queues.startWorkers();
    this.path.digests.start();
    log.info({ component: 'workers', queues: connectors.size }, `workers: delivering for ${connectors.size} connector queue(s)`);

    // 4. Sources
    this.sources = new RunningSources({
      redis,
      keyPrefix: this.keyPrefix,
      cluster: usesHashTags(config.redis),
      logger: log,
      configDir: () => this.loaded.configDir,
      pipeline: () => this.pipeline!,
      leadership: {
        readers: config.leadership.readers,
        leaseTtlMs: config.leadership.leaseTtl,
        renewEveryMs: config.leadership.renewEvery,
        replicaId: config.leadership.replicaId ?? defaultReplicaId(),
      },
    });
    if (this.withSources) {
      for (const [name, raw] of Object.entries(config.sources)) await this.sources.start(name, raw as { type: string });
      for (const [name, create] of Object.entries(this.extraSources)) await this.sources.start(name, { type: '(embedded)' }, create);
    }

    // 5. Operations HTTP server
    if (config.server.enabled) {
      this.http = await OpsHttp.start({
        server: config.server,
        logger: log,
        queues: this.path.queues,
        adminToken: () => this.config.server.adminToken,
        reload: () => {
          log.info({ component: 'reload', trigger: RELOAD_PATH }, `POST ${RELOAD_PATH}: reloading ${this.loaded.file}`);
          return this.reload();
        },
        readiness: () => this.readiness(),
        beforeMetrics: () => refreshOpsGauges({ redis: this.redis, sources: this.sources, queues: this.path?.queues, logger: log }),
      });
    }
  }

  private assembleDeps(loaded: LoadedConfig): AssembleDeps {
    return { redis: this.redis!.client!, keyPrefix: this.keyPrefix, logger: this.logger, configDir: loaded.configDir };
  }

  private queueSettings(): QueueSettings {
    const { onAttempt, tap } = this;
    if (!tap) return { connection: this.redis!.endpoint!, logger: this.logger, ...(onAttempt ? { onAttempt } : {}) };
    return {
      connection: this.redis!.endpoint!,
      logger: this.logger,
      observer: tap,
      onAttempt: (a) => {
        onAttempt?.(a);
        tap.attempt(a);
      },
    };
  }

  /** Redis answers PING within 1 s, every source is connected, every connector's worker runs. */
  async readiness(): Promise<Readiness> {
    return checkReadiness({
      redis: this.redis,
      sources: this.sources,
      queues: this.path?.queues,
      stopping: this.stopping !== undefined,
      stallAfterMs: parseDuration(this.config.server.stallAfter),
    });
  }

  /**
   * Re-reads the config file and, if it is valid, swaps routes, templates and connectors in place:
   * queued jobs stay in Redis and are picked up by the new workers; unchanged connectors and
   * sources are kept (sources are not reconnected). An invalid file changes nothing: every error
   * is logged and returned. Changes to `redis`, `server` host/port and `log` need a restart.
   */
  reload(): Promise<ReloadResult> {
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(): Promise<ReloadResult> {
    const log = this.logger.child({ component: 'reload' });
    if (this.stopping) return reloadNotTried();
    let next: LoadedConfig;
    try {
      next = await loadValidatedConfig(this.loaded.file);
    } catch (err) {
      return reloadRejected(this.loaded.file, err, log);
    }
    const prev = this.config;
    const old = this.path!;
    const diff = diffConfig(prev, next.config, old.connectors);
    // The running Redis and leadership settings stay in force until a restart.
    next.config.redis = prev.redis;
    next.config.leadership = prev.leadership;
    let path: DeliveryPath;
    try {
      path = await buildReloadedPath(next.config, diff, this.assembleDeps(next), this.queueSettings());
    } catch (err) {
      return reloadFailed(next, err, diff.needsRestart, log);
    }

    // Swap: new events go to the new pipeline at once; the old path drains before the new workers start.
    this.path = path;
    this.loaded = next;
    path.digests.start();
    this.http?.reloaded(prev.server, next.config.server, path.queues);
    await handOver(old, path, parseDuration(next.config.shutdown.grace), log);

    const sourceChanges = this.withSources ? await resyncSources(this.sources!, prev, next.config, new Set(Object.keys(this.extraSources)), log) : [];
    return reloadApplied(next.file, [...diff.changes, ...sourceChanges], diff.needsRestart, log);
  }

  /** Graceful stop, in reverse order. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const log = this.logger;
    const graceMs = parseDuration(this.config.shutdown.grace);
    await stopStep(log, 'http', () => this.http?.stop());
    await stopStep(log, 'sources', () => this.sources?.stopAll());
    await stopStep(log, 'digests', () => this.path?.digests.stop());
    await stopStep(log, 'workers', () => this.path?.queues.stopWorkers(graceMs), graceMs + 5_000);
    await stopStep(log, 'queue', () => this.path?.queues.close());
    await stopStep(log, 'connectors', () => this.path && closeConnectors(this.path.connectors));
    // After the workers: a tap sees the drain's last attempts.
    this.tap?.stop();
    await stopStep(log, 'redis', () => this.redis?.stop(), 10_000);
    log.info({ component: 'daemon' }, 'stopped');
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { compileRouter, createConnectors, type ConnectorEntry } from './assemble.js';
import { ConfigLoadError, formatIssue, type LoadedConfig } from './config/load-config.js';
import type { BridgeConfig } from './config/schema.js';
import type { BridgeEvent } from './core/event.js';
import { parseDuration } from './core/duration.js';
import { ConfigValidationError } from './core/config-error.js';
import { errorMessage } from './core/errors.js';
import { OpsServer, type Readiness } from './http/ops-server.js';
import { DASHBOARD_PATH, QueueDashboard } from './http/queue-dashboard.js';
import { RELOAD_PATH, ReloadEndpoint } from './http/reload-endpoint.js';
import type { Logger } from './core/log.js';
import { enableDefaultMetrics, gauge } from './core/metrics.js';
import { Pipeline } from './pipeline.js';
import { quarantine } from './quarantine.js';
import { recordConfigLoaded, recordReload, type ReloadOutcome } from './reload-metrics.js';
import { DeliveryQueues } from './queue/delivery-queues.js';
import type { AttemptReport } from './queue/delivery-worker.js';
import { connectRedis } from './redis/connect-redis.js';
import { EmbeddedRedis } from './redis/embedded-redis.js';
import type { Router } from './routing/router.js';
import { sourcePlugins } from './sources/registry.js';
import { EmitProgress } from './sources/emit-progress.js';
import type { Source, SourceContext, SourceProgress } from './sources/source.js';
import { stallReason } from './sources/stall-check.js';
import { loadValidatedConfig } from './config/load-validated-config.js';
import { redactRedisUrl, redisUrlWithPassword } from './config/redis-url.js';

const opsMetrics = {
  sourceConnected: gauge('mb_source_connected', '1 while the source has a live upstream connection, 0 otherwise (refreshed on scrape).', ['source']),
  redisUp: gauge('mb_redis_up', '1 while the daemon\'s Redis connection is ready (refreshed on scrape).'),
  workerRunning: gauge('mb_worker_running', '1 while the connector queue\'s worker runs (refreshed on scrape).', ['connector']),
  oldestPending: gauge('mb_source_oldest_pending_age_seconds', 'Age of the oldest item a source has taken from upstream but the pipeline has not accepted yet; 0 when none waits (refreshed on scrape).', ['source']),
  cursorLag: gauge('mb_source_cursor_lag_seconds', 'How far a source\'s cursor is behind the upstream\'s newest item, for sources that report it (refreshed on scrape).', ['source']),
};

/** What a reload did (or why it did not). */
export interface ReloadResult {
  ok: boolean;
  /** `stopping`: not tried, the daemon is shutting down. */
  outcome: ReloadOutcome | 'stopping';
  /** Every problem found, `file:line:col  path  message` where located. */
  errors: string[];
  /** What changed, e.g. `routes: 2 → 3`, `connector hooks: changed`, `source calls: restarted`. */
  changes: string[];
  /** Settings that changed in the file but only apply after a restart. */
  needsRestart: string[];
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
 * queue → workers → sources → HTTP — and stops them in reverse.
 */
export class Daemon {
  private embedded: EmbeddedRedis | undefined;
  private redis: Redis | undefined;
  private connectors = new Map<string, ConnectorEntry>();
  private router: Router | undefined;
  private queues: DeliveryQueues | undefined;
  private readonly sources = new Map<string, Source>();
  /** Progress seen through each source's emit calls (for sources without progress()). */
  private readonly emitProgress = new Map<string, EmitProgress>();
  private extraSources: NonNullable<DaemonOptions['extraSources']> = {};
  private server: OpsServer | undefined;
  private dashboard: QueueDashboard | undefined;
  private stopping: Promise<void> | undefined;
  /** Reloads run one at a time, in order. */
  private reloading: Promise<unknown> = Promise.resolve();
  /** `run --no-sources` starts none, and a reload starts none either. */
  private withSources = true;
  pipeline: Pipeline | undefined;
  redisUrl = '';

  private constructor(
    private loaded: LoadedConfig,
    private readonly logger: Logger,
    private readonly onAttempt?: (attempt: AttemptReport) => void,
  ) {}

  get config(): BridgeConfig {
    return this.loaded.config;
  }

  get keyPrefix(): string {
    return `${this.config.redis.keyPrefix}:`;
  }

  get httpAddress(): { host: string; port: number } | undefined {
    return this.server?.address;
  }

  get deliveryQueues(): DeliveryQueues | undefined {
    return this.queues;
  }

  sourceStates(): Record<string, ReturnType<Source['state']>> {
    return Object.fromEntries([...this.sources].map(([n, s]) => [n, s.state()]));
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const daemon = new Daemon(options.loaded, options.logger, options.onAttempt);
    daemon.extraSources = options.extraSources ?? {};
    try {
      await daemon.startAll(options.sources ?? true);
    } catch (err) {
      await daemon.stop().catch(() => undefined);
      throw err;
    }
    return daemon;
  }

  private async startAll(withSources: boolean): Promise<void> {
    const { config } = this;
    const log = this.logger;
    this.withSources = withSources;
    enableDefaultMetrics();
    recordConfigLoaded();

    // 1. Redis
    if (config.redis.url === 'embedded') {
      this.embedded = new EmbeddedRedis({ dataDir: this.resolvePath(config.redis.dataDir) });
      await this.embedded.start();
      this.redisUrl = this.embedded.url;
      log.info({ component: 'redis', url: this.redisUrl, dataDir: this.embedded.dataDir, pid: this.embedded.pid }, `redis: embedded redis-server on ${this.redisUrl} (AOF in ${this.embedded.dataDir})`);
    } else {
      this.redisUrl = redisUrlWithPassword(config.redis.url, config.redis.password);
    }
    this.redis = await connectRedis(this.redisUrl, { maxRetriesPerRequest: null });
    this.redis.on('error', (err) => log.debug({ component: 'redis', err: errorMessage(err) }, 'redis connection error'));
    if (!this.embedded) log.info({ component: 'redis', url: redactRedisUrl(this.redisUrl) }, `redis: connected to ${redactRedisUrl(this.redisUrl)}`);

    // 2. Connectors and router
    const deps = { redis: this.redis, keyPrefix: this.keyPrefix, logger: log, configDir: this.loaded.configDir };
    this.connectors = await createConnectors(config, deps);
    log.info({ component: 'connectors', connectors: [...this.connectors.keys()] }, `connectors: ${this.connectors.size} ready (${[...this.connectors.keys()].join(', ') || 'none'})`);
    this.router = compileRouter(config, this.connectors, deps);
    log.info({ component: 'router', routes: config.routes.length }, `router: ${config.routes.length} route(s) compiled`);

    // 3. Queue and workers
    this.queues = this.createQueues(config, this.connectors);
    this.pipeline = new Pipeline(this.router, this.queues, log.child({ component: 'pipeline' }));
    await this.queues.startWorkers();
    this.router.start();
    log.info({ component: 'workers', queues: this.connectors.size }, `workers: delivering for ${this.connectors.size} connector queue(s)`);

    // 4. Sources
    if (withSources) {
      for (const [name, raw] of Object.entries(config.sources)) await this.startSource(name, raw as { type: string });
      for (const [name, create] of Object.entries(this.extraSources)) await this.startSource(name, { type: '(embedded)' }, create);
    }

    // 5. Operations HTTP server
    if (config.server.enabled) {
      this.dashboard = this.createDashboard(config);
      const reloadEndpoint = new ReloadEndpoint({
        token: () => this.config.server.adminToken,
        reload: () => {
          this.logger.info({ component: 'reload', trigger: RELOAD_PATH }, `POST ${RELOAD_PATH}: reloading ${this.loaded.file}`);
          return this.reload();
        },
      });
      this.server = new OpsServer({
        host: config.server.host,
        port: config.server.port,
        logger: log,
        readiness: () => this.readiness(),
        beforeMetrics: () => this.refreshGauges(),
        extra: async (req, res) => (await reloadEndpoint.handle(req, res)) || this.serveDashboard(req, res),
      });
      await this.server.start();
      const a = this.server.address;
      const admin = this.dashboard ? ` ${DASHBOARD_PATH} ${RELOAD_PATH} (admin token)` : '';
      log.info({ component: 'http', host: a.host, port: a.port }, `http: /healthz /readyz /metrics${admin} on http://${a.host}:${a.port}`);
    }
  }

  private createQueues(config: BridgeConfig, connectors: ReadonlyMap<string, ConnectorEntry>): DeliveryQueues {
    return new DeliveryQueues({
      connection: this.redisUrl,
      prefix: config.redis.keyPrefix,
      cluster: config.redis.cluster,
      dedupTtlMs: config.redis.dedupTtl,
      connectors,
      logger: this.logger.child({ component: 'queue' }),
      ...(this.onAttempt ? { onAttempt: this.onAttempt } : {}),
    });
  }

  private async startSource(name: string, cfg: { type: string }, create?: (ctx: SourceContext) => Source): Promise<void> {
    const redis = this.redis!;
    const slog = this.logger.child({ source: name });
    const tracked = new EmitProgress();
    this.emitProgress.set(name, tracked);
    const ctx: SourceContext = {
      name,
      redis,
      keyPrefix: this.keyPrefix,
      logger: slog,
      configDir: this.loaded.configDir,
      // Looked up on every event, so a hot reload's new pipeline takes over without touching the source.
      emit: tracked.wrap((event: BridgeEvent) => this.pipeline!.accept(event)),
      emitBatch: tracked.wrap((events: BridgeEvent[]) => this.pipeline!.acceptBatch(events)),
      quarantine: (item) => quarantine(redis, this.keyPrefix, slog, { ...item, source: name }),
    };
    const source = create ? create(ctx) : sourcePlugins.get(cfg.type)!.create(cfg, ctx);
    this.sources.set(name, source);
    await source.start();
    this.logger.info({ component: 'source', source: name, type: cfg.type, state: source.state() }, `source ${name} (${cfg.type}): ${source.state().status}`);
  }

  private createDashboard(config: BridgeConfig): QueueDashboard | undefined {
    const token = config.server.adminToken;
    if (!token || !this.queues) return undefined;
    return new QueueDashboard({ token, queues: this.queues.dashboardQueues(), writable: config.server.dashboard.writable });
  }

  private async serveDashboard(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (this.dashboard) return this.dashboard.handle(req, res);
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false;
    res.writeHead(404, { 'content-type': 'text/plain' }).end('the queue dashboard is off: set server.adminToken to turn it on\n');
    return true;
  }

  /** Redis answers PING within 1 s, every source is connected, every connector's worker runs. */
  async readiness(): Promise<Readiness> {
    const checks: Readiness['checks'] = {};
    const redis = this.redis;
    if (!redis || redis.status !== 'ready') {
      checks.redis = { ok: false, detail: `connection ${redis?.status ?? 'not started'}` };
    } else {
      try {
        await withTimeout(redis.ping(), 1_000, 'PING took longer than 1 s');
        checks.redis = { ok: true };
      } catch (err) {
        checks.redis = { ok: false, detail: errorMessage(err) };
      }
    }
    const now = Date.now();
    const stallAfterMs = parseDuration(this.config.server.stallAfter);
    for (const [name, source] of this.sources) {
      const state = source.state();
      const progress = this.progressOf(name, source);
      const stalled = progress && stallReason(name, progress, now, stallAfterMs);
      const reason = stalled || (state.status === 'connected' ? undefined : `source ${name}: ${state.status}`);
      checks[`source:${name}`] = { ok: reason === undefined, ...(reason ? { reason } : {}), detail: progress ? { ...state, progress } : state };
    }
    const workers = this.queues?.workerStates() ?? {};
    const stopped = Object.entries(workers).filter(([, running]) => !running).map(([c]) => c);
    checks.workers = {
      ok: this.queues !== undefined && !this.stopping && stopped.length === 0,
      detail: stopped.length ? { stopped } : { running: Object.keys(workers).length },
    };
    const reasons = Object.entries(checks).flatMap(([name, c]) => (c.ok ? [] : [c.reason ?? `${name}: not ready`]));
    return { ready: reasons.length === 0, ...(reasons.length ? { reasons } : {}), checks };
  }

  /** The source's own progress report, else what its emit calls show. Never throws. */
  private progressOf(name: string, source: Source): SourceProgress | undefined {
    try {
      return source.progress?.() ?? this.emitProgress.get(name)?.progress();
    } catch (err) {
      this.logger.debug({ source: name, err: errorMessage(err) }, 'source progress() threw; using its emit calls instead');
      return this.emitProgress.get(name)?.progress();
    }
  }

  /** Gauges read from other components, refreshed on every /metrics scrape. Never throws. */
  private async refreshGauges(): Promise<void> {
    const now = Date.now();
    for (const [name, source] of this.sources) {
      opsMetrics.sourceConnected.set({ source: name }, source.state().status === 'connected' ? 1 : 0);
      const p = this.progressOf(name, source);
      if (!p) continue;
      opsMetrics.oldestPending.set({ source: name }, p.pending > 0 && p.oldestPendingSince !== undefined ? Math.max(0, now - p.oldestPendingSince) / 1000 : 0);
      if (p.lagMs !== undefined) opsMetrics.cursorLag.set({ source: name }, Math.max(0, p.lagMs) / 1000);
    }
    opsMetrics.redisUp.set(this.redis?.status === 'ready' ? 1 : 0);
    for (const [connector, running] of Object.entries(this.queues?.workerStates() ?? {})) opsMetrics.workerRunning.set({ connector }, running ? 1 : 0);
    // Depth needs Redis: with Redis down the scrape still answers, with the last known depth.
    if (this.queues && this.redis?.status === 'ready') {
      await withTimeout(this.queues.depth(), 1_000, 'queue depth timed out').catch((err: unknown) => this.logger.debug({ err: errorMessage(err) }, 'could not refresh the queue depth gauge'));
    }
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
    const result: ReloadResult = { ok: false, outcome: 'stopping', errors: [], changes: [], needsRestart: [] };
    if (this.stopping) {
      result.errors.push('the daemon is stopping');
      return result;
    }
    let next: LoadedConfig;
    try {
      next = await loadValidatedConfig(this.loaded.file);
    } catch (err) {
      result.errors = err instanceof ConfigLoadError ? err.issues.map(formatIssue) : [errorMessage(err)];
      for (const e of result.errors) log.error({ file: this.loaded.file }, `config reload rejected: ${e}`);
      log.error({ file: this.loaded.file, errors: result.errors.length }, `config reload rejected (${result.errors.length} problem(s)); still running the previous config`);
      result.outcome = 'rejected';
      recordReload('rejected');
      return result;
    }
    const prev = this.config;
    const cfg = next.config;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(prev.redis, cfg.redis)) result.needsRestart.push('redis');
    if (prev.server.enabled !== cfg.server.enabled || prev.server.host !== cfg.server.host || prev.server.port !== cfg.server.port) result.needsRestart.push('server.host/port/enabled');
    if (!same(prev.log, cfg.log)) result.needsRestart.push('log');
    // The running Redis settings stay in force until a restart.
    cfg.redis = prev.redis;

    // Connectors: keep the instances whose config did not change (no re-auth, no new clients).
    const kept = new Map<string, ConnectorEntry>();
    const changed: BridgeConfig['connectors'] = {};
    for (const [name, c] of Object.entries(cfg.connectors)) {
      const old = this.connectors.get(name);
      if (old && same(prev.connectors[name], c)) kept.set(name, old);
      else changed[name] = c;
    }
    const deps = { redis: this.redis!, keyPrefix: this.keyPrefix, logger: this.logger, configDir: next.configDir };
    let created: Map<string, ConnectorEntry>;
    let router: Router;
    let queues: DeliveryQueues;
    try {
      created = await createConnectors({ ...cfg, connectors: changed }, deps);
    } catch (err) {
      return this.reloadFailed(result, next, err, log);
    }
    const connectors = new Map([...Object.keys(cfg.connectors)].map((n) => [n, (kept.get(n) ?? created.get(n))!]));
    try {
      router = compileRouter(cfg, connectors, deps);
      queues = this.createQueues(cfg, connectors);
    } catch (err) {
      await Promise.all([...created.values()].map((e) => e.connector.close?.())).catch(() => undefined);
      return this.reloadFailed(result, next, err, log);
    }

    // Swap: new events go to the new pipeline at once. The old workers finish what they hold
    // (with the old connectors) before the new ones start, so each job meets exactly one config;
    // jobs arriving meanwhile wait in Redis.
    const old = { router: this.router, queues: this.queues, connectors: this.connectors };
    this.router = router;
    this.queues = queues;
    this.connectors = connectors;
    this.pipeline = new Pipeline(router, queues, this.logger.child({ component: 'pipeline' }));
    this.loaded = next;
    router.start();
    this.dashboard?.setQueues(queues.dashboardQueues());
    if ((!same(prev.server.adminToken, cfg.server.adminToken) || !same(prev.server.dashboard, cfg.server.dashboard)) && this.server) this.dashboard = this.createDashboard(cfg);

    if (prev.routes.length !== cfg.routes.length || !same(prev.routes, cfg.routes)) result.changes.push(`routes: ${prev.routes.length} → ${cfg.routes.length}`);
    for (const n of Object.keys(changed)) result.changes.push(`connector ${n}: ${prev.connectors[n] ? 'changed' : 'added'}`);
    for (const n of Object.keys(prev.connectors)) if (!(n in cfg.connectors)) result.changes.push(`connector ${n}: removed`);

    const graceMs = parseDuration(cfg.shutdown.grace);
    await old.router?.stop().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'previous router did not stop cleanly'));
    await old.queues?.stopWorkers(graceMs);
    await old.queues?.close();
    await queues.startWorkers();
    for (const [name, e] of old.connectors) {
      if (connectors.get(name) !== e) await Promise.resolve(e.connector.close?.()).catch((err: unknown) => log.warn({ connector: name, err: errorMessage(err) }, 'previous connector did not close cleanly'));
    }

    // Sources: only removed, added or changed ones are touched.
    if (this.withSources) {
      for (const [name, source] of [...this.sources]) {
        if (name in this.extraSources) continue; // not from the config file
        if (!(name in cfg.sources) || !same(prev.sources[name], cfg.sources[name])) {
          await source.stop().catch((err: unknown) => log.warn({ source: name, err: errorMessage(err) }, 'source did not stop cleanly'));
          this.sources.delete(name);
          this.emitProgress.delete(name);
          if (!(name in cfg.sources)) result.changes.push(`source ${name}: removed`);
        }
      }
      for (const [name, raw] of Object.entries(cfg.sources)) {
        if (this.sources.has(name)) continue;
        result.changes.push(`source ${name}: ${name in prev.sources ? 'restarted' : 'added'}`);
        try {
          await this.startSource(name, raw as { type: string });
        } catch (err) {
          log.error({ source: name, err: errorMessage(err) }, `source ${name} could not start after the reload: ${errorMessage(err)}`);
        }
      }
    }
    for (const what of result.needsRestart) log.warn({ section: what }, `config reload: ${what} changed; it applies after a restart`);
    result.ok = true;
    result.outcome = 'applied';
    recordReload('applied');
    log.info({ changes: result.changes }, `config reloaded from ${next.file}: ${result.changes.length ? result.changes.join('; ') : 'no changes'}`);
    return result;
  }

  private reloadFailed(result: ReloadResult, next: LoadedConfig, err: unknown, log: Logger): ReloadResult {
    const issues = err instanceof ConfigValidationError ? err.issues : [{ path: [] as (string | number)[], message: errorMessage(err) }];
    result.errors = issues.map((i) => (i.path.length ? formatIssue({ ...i, file: next.file, ...next.locate(i.path) }) : `${next.file}  ${i.message}`));
    for (const e of result.errors) log.error({ file: next.file }, `config reload failed: ${e}`);
    log.error({ file: next.file }, 'config reload failed; still running the previous config');
    result.outcome = 'failed';
    recordReload('failed');
    return result;
  }

  /** Graceful stop, in reverse order. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const log = this.logger;
    const graceMs = parseDuration(this.config.shutdown.grace);
    // Every step is bounded: with Redis already gone (killed, network down) a client's close can
    // wait forever, and a stop that never ends is worse than one that skips a courtesy.
    const step = async (what: string, fn: () => Promise<unknown> | undefined, limitMs = 5_000) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const done = await Promise.race([
          Promise.resolve(fn()).then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), limitMs))),
        ]);
        if (!done) log.warn({ component: what, limitMs }, `${what}: did not stop within ${limitMs} ms; going on (unfinished deliveries return to the queue after their lock expires)`);
      } catch (err) {
        log.error({ component: what, err: errorMessage(err) }, `${what}: error while stopping`);
      } finally {
        clearTimeout(timer);
      }
    };
    await step('http', () => this.server?.stop());
    await step('sources', () => Promise.all([...this.sources.values()].map((s) => s.stop())));
    await step('router', () => this.router?.stop());
    await step('workers', () => this.queues?.stopWorkers(graceMs), graceMs + 5_000);
    await step('queue', () => this.queues?.close());
    await step('connectors', () => Promise.all([...this.connectors.values()].map((e) => e.connector.close?.())));
    await step('redis', async () => {
      this.redis?.disconnect();
      await this.embedded?.stop();
    }, 10_000);
    log.info({ component: 'daemon' }, 'stopped');
  }

  private resolvePath(p: string): string {
    return p.startsWith('/') ? p : `${this.loaded.configDir}/${p}`;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

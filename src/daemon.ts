import { Redis } from 'ioredis';
import { compileRouter, createConnectors, type ConnectorEntry } from './assemble.js';
import type { LoadedConfig } from './config/load-config.js';
import type { BridgeConfig } from './config/schema.js';
import { parseDuration } from './duration.js';
import { errorMessage } from './errors.js';
import { OpsServer, type Readiness } from './http/ops-server.js';
import type { Logger } from './log.js';
import { enableDefaultMetrics } from './metrics.js';
import { Pipeline } from './pipeline.js';
import { quarantine } from './quarantine.js';
import { DeliveryQueues } from './queue/delivery-queues.js';
import type { AttemptReport } from './queue/delivery-worker.js';
import { EmbeddedRedis } from './redis/embedded-redis.js';
import type { Router } from './routing/router.js';
import { sourcePlugins } from './sources/registry.js';
import type { Source } from './sources/source.js';

export interface DaemonOptions {
  loaded: LoadedConfig;
  logger: Logger;
  /** Start the sources (false: only workers, e.g. a delivery-only replica or tests). @defaultValue true */
  sources?: boolean;
  /** Told about every finished delivery attempt (the demo prints a line per delivery). */
  onAttempt?: (attempt: AttemptReport) => void;
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
  private server: OpsServer | undefined;
  private stopping: Promise<void> | undefined;
  pipeline: Pipeline | undefined;
  redisUrl = '';

  private constructor(
    private readonly loaded: LoadedConfig,
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
    enableDefaultMetrics();

    // 1. Redis
    if (config.redis.url === 'embedded') {
      this.embedded = new EmbeddedRedis({ dataDir: this.resolvePath(config.redis.dataDir) });
      await this.embedded.start();
      this.redisUrl = this.embedded.url;
      log.info({ component: 'redis', url: this.redisUrl, dataDir: this.embedded.dataDir, pid: this.embedded.pid }, `redis: embedded redis-server on ${this.redisUrl} (AOF in ${this.embedded.dataDir})`);
    } else {
      this.redisUrl = withPassword(config.redis.url, config.redis.password);
    }
    this.redis = new Redis(this.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.redis.on('error', (err) => log.debug({ component: 'redis', err: errorMessage(err) }, 'redis connection error'));
    await this.redis.connect();
    if (!this.embedded) log.info({ component: 'redis', url: redactUrl(this.redisUrl) }, `redis: connected to ${redactUrl(this.redisUrl)}`);

    // 2. Connectors and router
    const deps = { redis: this.redis, keyPrefix: this.keyPrefix, logger: log, configDir: this.loaded.configDir };
    this.connectors = await createConnectors(config, deps);
    log.info({ component: 'connectors', connectors: [...this.connectors.keys()] }, `connectors: ${this.connectors.size} ready (${[...this.connectors.keys()].join(', ') || 'none'})`);
    this.router = compileRouter(config, this.connectors, deps);
    log.info({ component: 'router', routes: config.routes.length }, `router: ${config.routes.length} route(s) compiled`);

    // 3. Queue and workers
    this.queues = new DeliveryQueues({
      connection: this.redisUrl,
      prefix: config.redis.keyPrefix,
      cluster: config.redis.cluster,
      connectors: this.connectors,
      logger: log.child({ component: 'queue' }),
      ...(this.onAttempt ? { onAttempt: this.onAttempt } : {}),
    });
    this.pipeline = new Pipeline(this.router, this.queues, log.child({ component: 'pipeline' }));
    await this.queues.startWorkers();
    this.router.start();
    log.info({ component: 'workers', queues: this.connectors.size }, `workers: delivering for ${this.connectors.size} connector queue(s)`);

    // 4. Sources
    if (withSources) {
      for (const [name, raw] of Object.entries(config.sources)) {
        const cfg = raw as { type: string };
        const plugin = sourcePlugins.get(cfg.type)!;
        const redis = this.redis;
        const pipeline = this.pipeline;
        const slog = log.child({ source: name });
        const source = plugin.create(cfg, {
          name,
          redis,
          keyPrefix: this.keyPrefix,
          logger: slog,
          configDir: this.loaded.configDir,
          emit: (event) => pipeline.accept(event),
          quarantine: (item) => quarantine(redis, this.keyPrefix, slog, { ...item, source: name }),
        });
        this.sources.set(name, source);
        await source.start();
        log.info({ component: 'source', source: name, type: cfg.type, state: source.state() }, `source ${name} (${cfg.type}): ${source.state().status}`);
      }
    }

    // 5. Operations HTTP server
    if (config.server.enabled) {
      this.server = new OpsServer({ host: config.server.host, port: config.server.port, logger: log, readiness: () => this.readiness() });
      await this.server.start();
      const a = this.server.address;
      log.info({ component: 'http', host: a.host, port: a.port }, `http: /healthz /readyz /metrics on http://${a.host}:${a.port}`);
    }
  }

  async readiness(): Promise<Readiness> {
    const checks: Readiness['checks'] = {};
    try {
      await this.redis?.ping();
      checks.redis = { ok: this.redis?.status === 'ready' };
    } catch (err) {
      checks.redis = { ok: false, detail: errorMessage(err) };
    }
    for (const [name, source] of this.sources) {
      const state = source.state();
      checks[`source:${name}`] = { ok: state.status === 'connected', detail: state };
    }
    checks.workers = { ok: this.queues !== undefined && !this.stopping };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  /** Graceful stop, in reverse order. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const log = this.logger;
    const graceMs = parseDuration(this.config.shutdown.grace);
    const step = async (what: string, fn: () => Promise<unknown> | undefined) => {
      try {
        await fn();
      } catch (err) {
        log.error({ component: what, err: errorMessage(err) }, `${what}: error while stopping`);
      }
    };
    await step('http', () => this.server?.stop());
    await step('sources', () => Promise.all([...this.sources.values()].map((s) => s.stop())));
    await step('router', () => this.router?.stop());
    await step('workers', () => this.queues?.stopWorkers(graceMs));
    await step('queue', () => this.queues?.close());
    await step('connectors', () => Promise.all([...this.connectors.values()].map((e) => e.connector.close?.())));
    await step('redis', async () => {
      this.redis?.disconnect();
      await this.embedded?.stop();
    });
    log.info({ component: 'daemon' }, 'stopped');
  }

  private resolvePath(p: string): string {
    return p.startsWith('/') ? p : `${this.loaded.configDir}/${p}`;
  }
}

function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const u = new URL(url);
  if (!u.password) u.password = password;
  return u.toString();
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '<secret>';
    return u.toString();
  } catch {
    return url;
  }
}

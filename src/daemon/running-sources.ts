import type { RedisClient } from '../redis/redis-client.js';
import { errorMessage } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { quarantine } from '../quarantine/quarantine.js';
import { sourceKeyBase } from '../redis/redis-keys.js';
import { EmitProgress } from '../sources/emit-progress.js';
import { sourcePlugins } from '../sources/registry.js';
import type { Source, SourceContext, SourceLease, SourceProgress, SourceState } from '../sources/source.js';
import { SourceLeadership, type LeadershipSettings, type SourceRole } from './source-leadership.js';

export interface RunningSourcesDeps {
  redis: RedisClient;
  keyPrefix: string;
  /** `redis.cluster` is set: each source's keys share a hash tag. @defaultValue false */
  cluster?: boolean;
  logger: Logger;
  /** Read at each start, so a source (re)started by a reload resolves paths against the new file's folder. */
  configDir: () => string;
  /** Looked up on every event, so a hot reload's new pipeline takes over without touching the source. */
  pipeline: () => Pipeline;
  /** How replicas share the reading: without it, every replica reads every source (as `every-replica`). */
  leadership?: LeadershipSettings;
}

/**
 * The daemon's sources, by name: each one's context (emit into the current pipeline, quarantine),
 * and its progress as its emit calls show it, for sources that do not report their own. Under
 * `leadership.readers: leader` a source is added as a SourceLeadership that runs it only while
 * this replica holds its lease; `entries()` lists the sources running here, `roles()` all of them.
 */
export class RunningSources {
  private readonly sources = new Map<string, Source>();
  /** Sources read by one replica at a time: their lease loop, running or standing by. */
  private readonly leaderships = new Map<string, SourceLeadership>();
  /** Progress seen through each source's emit calls (for sources without progress()). */
  private readonly emitProgress = new Map<string, EmitProgress>();

  constructor(private readonly deps: RunningSourcesDeps) {}

  /**
   * Creates the source (by its config's `type`, or with `create` for one not from the config) and
   * starts it; under leader mode, starts its lease loop, which starts the source once this replica
   * holds the lease (resolves after the first attempt to take it).
   */
  async start(name: string, cfg: { type: string }, create?: (ctx: SourceContext) => Source): Promise<void> {
    const settings = this.deps.leadership;
    if (!settings || settings.readers === 'every-replica') return this.startSource(name, cfg, create);
    const leadership = new SourceLeadership({
      name,
      redis: this.deps.redis,
      keyBase: this.keyBaseOf(name),
      settings,
      logger: this.deps.logger.child({ source: name, component: 'leadership' }),
      lead: (lease) => this.startSource(name, cfg, create, lease),
      standDown: () => this.stopSource(name, this.deps.logger),
    });
    this.leaderships.set(name, leadership);
    await leadership.start();
  }

  private keyBaseOf(name: string): string {
    return sourceKeyBase(this.deps.keyPrefix, name, { cluster: this.deps.cluster ?? false });
  }

  private async startSource(name: string, cfg: { type: string }, create?: (ctx: SourceContext) => Source, lease?: SourceLease): Promise<void> {
    const { redis, keyPrefix, logger } = this.deps;
    const slog = logger.child({ source: name });
    const tracked = new EmitProgress();
    this.emitProgress.set(name, tracked);
    const ctx: SourceContext = {
      name,
      redis,
      keyPrefix,
      keyBase: this.keyBaseOf(name),
      logger: slog,
      configDir: this.deps.configDir(),
      emit: tracked.wrap((event: BridgeEvent) => this.deps.pipeline().accept(event)),
      emitBatch: tracked.wrap((events: BridgeEvent[]) => this.deps.pipeline().acceptBatch(events)),
      quarantine: (item) => quarantine(redis, keyPrefix, slog, { ...item, source: name }),
      ...(lease ? { lease } : {}),
    };
    const source = create ? create(ctx) : sourcePlugins.get(cfg.type)!.create(cfg, ctx);
    this.sources.set(name, source);
    try {
      await source.start();
    } catch (err) {
      // Forgotten when led: the lease loop releases the lease and may start a new one later.
      if (lease) await this.stopSource(name, logger);
      throw err;
    }
    logger.info({ component: 'source', source: name, type: cfg.type, state: source.state() }, `source ${name} (${cfg.type}): ${source.state().status}`);
  }

  /** Stops one source (and its lease loop, releasing the lease) and forgets it; a source that fails to stop is logged, not thrown. */
  async remove(name: string, log: Logger): Promise<void> {
    const leadership = this.leaderships.get(name);
    this.leaderships.delete(name);
    await leadership?.stop();
    await this.stopSource(name, log);
  }

  private async stopSource(name: string, log: Logger): Promise<void> {
    const source = this.sources.get(name);
    if (!source) return;
    await source.stop().catch((err: unknown) => log.warn({ source: name, err: errorMessage(err) }, 'source did not stop cleanly'));
    this.sources.delete(name);
    this.emitProgress.delete(name);
  }

  /**
   * Stops every source: led ones stop and release their lease (a stand-by takes over at its next
   * poll) and are no longer listed; the others stay listed, reporting their state.
   */
  async stopAll(): Promise<void> {
    await Promise.all([...this.leaderships.values()].map((l) => l.stop()));
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
  }

  /** Whether the source is known here: running, or standing by for its lease. */
  has(name: string): boolean {
    return this.sources.has(name) || this.leaderships.has(name);
  }

  names(): string[] {
    return [...new Set([...this.leaderships.keys(), ...this.sources.keys()])];
  }

  /** Who reads each known source: this replica as leader, as stand-by, or as one of every replica. */
  roles(): Record<string, SourceRole> {
    const replica = this.deps.leadership?.replicaId ?? '';
    const roles: Record<string, SourceRole> = {};
    for (const name of this.sources.keys()) roles[name] = { role: 'every-replica', replica };
    for (const [name, l] of this.leaderships) roles[name] = l.role();
    return roles;
  }

  entries(): [string, Source][] {
    return [...this.sources];
  }

  states(): Record<string, SourceState> {
    return Object.fromEntries([...this.sources].map(([n, s]) => [n, s.state()]));
  }

  /** The source's own progress report, else what its emit calls show. Never throws. */
  progressOf(name: string, source: Source): SourceProgress | undefined {
    try {
      return source.progress?.() ?? this.emitProgress.get(name)?.progress();
    } catch (err) {
      this.deps.logger.debug({ source: name, err: errorMessage(err) }, 'source progress() threw; using its emit calls instead');
      return this.emitProgress.get(name)?.progress();
    }
  }
}

import type { RedisClient } from '../redis/redis-client.js';
import { errorMessage } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { quarantine } from '../quarantine/quarantine.js';
import { sourceKeyBase } from '../redis/redis-keys.js';
import { EmitProgress } from '../sources/emit-progress.js';
import { sourcePlugins } from '../sources/registry.js';
import type { Source, SourceContext, SourceProgress, SourceState } from '../sources/source.js';

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
}

/**
 * The daemon's sources, by name: each one's context (emit into the current pipeline, quarantine),
 * and its progress as its emit calls show it, for sources that do not report their own.
 */
export class RunningSources {
  private readonly sources = new Map<string, Source>();
  /** Progress seen through each source's emit calls (for sources without progress()). */
  private readonly emitProgress = new Map<string, EmitProgress>();

  constructor(private readonly deps: RunningSourcesDeps) {}

  /** Creates the source (by its config's `type`, or with `create` for one not from the config) and starts it. */
  async start(name: string, cfg: { type: string }, create?: (ctx: SourceContext) => Source): Promise<void> {
    const { redis, keyPrefix, logger } = this.deps;
    const slog = logger.child({ source: name });
    const tracked = new EmitProgress();
    this.emitProgress.set(name, tracked);
    const ctx: SourceContext = {
      name,
      redis,
      keyPrefix,
      keyBase: sourceKeyBase(keyPrefix, name, { cluster: this.deps.cluster ?? false }),
      logger: slog,
      configDir: this.deps.configDir(),
      emit: tracked.wrap((event: BridgeEvent) => this.deps.pipeline().accept(event)),
      emitBatch: tracked.wrap((events: BridgeEvent[]) => this.deps.pipeline().acceptBatch(events)),
      quarantine: (item) => quarantine(redis, keyPrefix, slog, { ...item, source: name }),
    };
    const source = create ? create(ctx) : sourcePlugins.get(cfg.type)!.create(cfg, ctx);
    this.sources.set(name, source);
    await source.start();
    logger.info({ component: 'source', source: name, type: cfg.type, state: source.state() }, `source ${name} (${cfg.type}): ${source.state().status}`);
  }

  /** Stops one source and forgets it; a source that fails to stop is logged, not thrown. */
  async remove(name: string, log: Logger): Promise<void> {
    const source = this.sources.get(name);
    if (!source) return;
    await source.stop().catch((err: unknown) => log.warn({ source: name, err: errorMessage(err) }, 'source did not stop cleanly'));
    this.sources.delete(name);
    this.emitProgress.delete(name);
  }

  /** Stops every source (they stay listed, reporting their state). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
  }

  has(name: string): boolean {
    return this.sources.has(name);
  }

  names(): string[] {
    return [...this.sources.keys()];
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

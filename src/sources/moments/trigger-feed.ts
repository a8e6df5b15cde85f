import { errorMessage } from '../../core/errors.js';
import type { RateLimitedLog } from '../../core/log-rate-limit.js';
import type { RedisEpoch } from '../shared/redis-epoch.js';
import { stateKeyBase, type SourceContext } from '../source.js';
import type { RawItem } from './graphql-client.js';
import type { MomentsApi } from './moments-api.js';
import { TriggerCache, type TriggerChange } from './trigger-cache.js';
import { TriggerChanges } from './trigger-changes.js';
import { TriggerWatermark } from './trigger-watermark.js';

export interface TriggerFeedOptions {
  ctx: SourceContext;
  api: () => MomentsApi | undefined;
  /** The connection the watermark is written on. */
  epoch: RedisEpoch;
  log: RateLimitedLog;
  /** Redis lost the watermark: changes updated this long ago or later are offered again, ms. */
  lostWatermarkLookbackMs: number;
  retry: { initialDelayMs: number; maxDelayMs: number };
  /** Queues a task on the source's serial lane, behind the moments that arrived before it. */
  enqueue: (task: () => Promise<void>) => void;
  /** Settles once the live moments handed over before now were accepted (or refused). */
  liveAccepted: () => Promise<unknown>;
  isStopped: () => boolean;
  /** A failed trigger back-fill is retried with the source's backoff. */
  scheduleRetry: (task: () => Promise<void>, reason: string) => void;
}

/**
 * The trigger side of the moments source: the cache that enriches moments, live trigger changes
 * queued on the lane behind the moments that arrived before them, and trigger back-fills (queued
 * once, retried with backoff). What a change becomes and how a refused one is held is
 * TriggerChanges' job.
 */
export class TriggerFeed {
  readonly cache: TriggerCache;
  readonly changes: TriggerChanges;
  private readonly options: TriggerFeedOptions;
  private backfillQueued = false;

  constructor(options: TriggerFeedOptions) {
    this.options = options;
    const { ctx } = options;
    this.cache = new TriggerCache({ api: options.api, logger: ctx.logger });
    this.changes = new TriggerChanges({
      ctx,
      api: options.api,
      cache: this.cache,
      watermark: new TriggerWatermark(options.epoch.redis, stateKeyBase(ctx), ctx.lease),
      epoch: options.epoch,
      lostWatermarkLookbackMs: options.lostWatermarkLookbackMs,
      log: options.log,
      retry: options.retry,
      requestBackfill: () => this.requestBackfill(),
    });
  }

  /** A live `onCreateTrigger` / `onUpdateTrigger` notification. */
  onChange(kind: TriggerChange, raw: RawItem): void {
    this.options.enqueue(() => this.process(kind, raw));
  }

  /** Lists trigger changes missed since the watermark (lane task; retried with backoff on failure). */
  requestBackfill(): void {
    if (this.options.isStopped() || this.backfillQueued) return;
    this.backfillQueued = true;
    this.options.enqueue(async () => {
      this.backfillQueued = false;
      try {
        const found = await this.changes.backfill();
        const { name, logger } = this.options.ctx;
        if (found) logger.info({ found }, `moments source ${name}: trigger back-fill found ${found} change(s) missed live`);
      } catch (err) {
        this.options.scheduleRetry(async () => this.requestBackfill(), `trigger back-fill failed: ${errorMessage(err)}`);
      }
    });
  }

  private async process(kind: TriggerChange, raw: RawItem): Promise<void> {
    // After the moments that arrived before it; a refusal is held and retried by TriggerChanges, off the lane.
    await this.options.liveAccepted();
    await this.changes.handle(kind, raw);
  }
}

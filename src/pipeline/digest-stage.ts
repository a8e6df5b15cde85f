import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { DueDigest, RenderedDigest } from '../routing/group-digests.js';
import type { RenderFailure, RoutedDelivery } from '../routing/render-targets.js';

/** What the stage needs of routing's group digests (`Router.digests`). */
export interface DigestSource {
  readonly grouping: boolean;
  claimDue(): Promise<DueDigest[]>;
  render(d: DueDigest): RenderedDigest;
  complete(d: DueDigest): Promise<void>;
  reschedule(d: DueDigest, retryAtMs: number): Promise<void>;
}

/** Takes a digest's deliveries (and the payloads that failed to render); rejects to have the digest retried. */
export type DigestHandOver = (deliveries: RoutedDelivery[], unrendered: RenderFailure[]) => Promise<void>;

export interface DigestStageOptions {
  digests: DigestSource;
  /** Where due digests go: the pipeline's enqueue (`Pipeline.acceptDigest`). */
  handOver: DigestHandOver;
  logger: Logger;
  /** How often `start()` looks for due digests. @defaultValue 1000 */
  everyMs?: number;
}

/** A digest whose hand-over failed (the queue was down) is due again this much later. */
const FLUSH_RETRY_MS = 5_000;

/**
 * The digest stage of the data path: group digests fall due later than the events that fill
 * them, so a timer claims the due ones from routing, renders each and hands its deliveries to the
 * pipeline's enqueue, like any event's. Flushes never overlap, and `stop` waits for one in progress.
 */
export class DigestStage {
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<unknown>;

  constructor(private readonly options: DigestStageOptions) {}

  /** Starts the flush timer; nothing to do when no route groups. */
  start(): void {
    if (this.timer || !this.options.digests.grouping) return;
    this.timer = setInterval(() => {
      if (this.flushing) return;
      this.flushing = this.flushDue()
        .catch((err: unknown) => this.options.logger.error({ err: errorMessage(err) }, 'group digest flush failed; will retry'))
        .finally(() => (this.flushing = undefined));
    }, this.options.everyMs ?? 1000);
    this.timer.unref();
  }

  /** Stops the timer; resolves once a flush in progress is over. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
  }

  /** Hands on every digest due now (also called by the timer). Returns how many were handed on. */
  async flushDue(): Promise<number> {
    const { digests, handOver, logger } = this.options;
    let flushed = 0;
    for (const d of await digests.claimDue()) {
      const { deliveries, unrendered } = digests.render(d);
      try {
        await handOver(deliveries, unrendered);
      } catch (err) {
        logger.error({ route: d.route, events: d.events.length, err: errorMessage(err) }, 'group digest hand-over failed; retrying shortly');
        await digests.reschedule(d, d.claimedAtMs + FLUSH_RETRY_MS);
        continue;
      }
      await digests.complete(d);
      flushed++;
    }
    return flushed;
  }
}

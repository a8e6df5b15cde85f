import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { MAX_BUFFER, type LiveMoments } from './live-moments.js';
import { MAX_BATCH, type MomentBatches, type MomentEvent } from './moment-batches.js';
import { momentPagesSince } from './moment-pages.js';
import type { MomentsApi } from './moments-api.js';

export interface MomentGapFillOptions {
  /** The source's name (logs). */
  name: string;
  logger: Logger;
  batches: MomentBatches;
  live: LiveMoments;
  /** Moments listed per page. */
  pageSize: number;
  /** Without a cursor, how far back the first back-fill reads, ms. */
  backfillMs: number;
  /** The periodic back-fill's period, ms (sets the look-back when the API reports no connection state). */
  backfillEveryMs: number;
  /** The current API (undefined before start). */
  api: () => MomentsApi | undefined;
  isStopped: () => boolean;
  /** Queues a task on the source's serial lane. */
  enqueue: (task: () => Promise<void>) => void;
  /** A back-fill caught up: what was refused before is behind the cursor now. */
  succeeded: () => void;
  /** A failed back-fill is retried with the source's backoff (a pipeline-side failure). */
  scheduleRetry: (task: () => Promise<void>, reason: string) => void;
}

/**
 * Fills the gaps the live stream leaves (start, reconnects, refused hand-overs, Redis restarts):
 * reads every moment listed since the cursor, oldest first, through the same batches as the live
 * stream, then drains the live moments buffered meanwhile and opens the live stream again. Also
 * reads past windows for `history` (no cursor, no emit).
 */
export class MomentGapFill {
  private readonly options: MomentGapFillOptions;
  private clientSideLogged = false;
  private queued = false;

  constructor(options: MomentGapFillOptions) {
    this.options = options;
  }

  /** Holds live moments and queues one back-fill on the lane (once, however often it is asked). */
  request(reason: string): void {
    const { options } = this;
    if (options.isStopped()) return;
    options.live.hold();
    if (this.queued) return;
    this.queued = true;
    options.enqueue(async () => {
      this.queued = false;
      try {
        const api = options.api();
        if (api && !options.isStopped()) await this.run(api, reason);
        options.succeeded();
      } catch (err) {
        options.scheduleRetry(async () => this.request(reason), `back-fill failed: ${errorMessage(err)}`);
      }
    });
  }

  /** One back-fill from the cursor; throws when listing, Redis or the pipeline fails (the caller retries). */
  private async run(api: MomentsApi, reason: string): Promise<void> {
    const { batches, live, name } = this.options;
    // The cursor is read after every live batch in flight has landed (or failed); later live
    // batches are held in the buffer until this back-fill is done, so a failure is forgotten here.
    await live.settle();
    live.forgetRefusal();
    const position = await batches.loadCursor();
    // Without connection state the live stream may have moved the cursor past a gap it never
    // saw: look back two periods, so every moment is read by a back-fill within one period of
    // becoming listable (the seen set drops the ones already delivered).
    const lookback = api.onConnectionStateChange ? 0 : 2 * this.options.backfillEveryMs;
    const since = position ? new Date(Date.parse(position.createdAt) - lookback).toISOString() : new Date(Date.now() - this.options.backfillMs).toISOString();
    live.clearOverflow();
    let count = 0;
    for await (const page of momentPagesSince(api, since, { pageSize: this.options.pageSize, onClientSide: (what) => this.logClientSide(what) })) {
      for (let i = 0; i < page.length; i += MAX_BATCH) {
        if (this.options.isStopped()) return;
        count += await batches.process(page.slice(i, i + MAX_BATCH), true);
      }
    }
    // Live moments that arrived meanwhile, oldest first; new arrivals join the buffer until it is empty.
    while (live.buffered && !this.options.isStopped()) await batches.process(live.takeBuffered(), false);
    if (live.overflowed) throw new Error(`more than ${MAX_BUFFER} live moments arrived during back-fill; back-filling again`);
    live.open();
    this.options.logger.info(
      { source: name, since, emitted: count, reason },
      `moments source ${name}: back-fill (${reason}) from ${since} emitted ${count} moment(s); live`,
    );
  }

  /** Moments created in [since, until), oldest first, as the events the live stream emits. */
  async *history(api: MomentsApi, since: Date, until: Date): AsyncIterable<MomentEvent> {
    for await (const page of momentPagesSince(api, since.toISOString(), {
      pageSize: this.options.pageSize,
      until: until.toISOString(),
      onClientSide: (what) => this.logClientSide(what),
    })) {
      for (const raw of page) {
        const event = await this.options.batches.toEvent(raw);
        if (event) yield event;
      }
    }
  }

  private logClientSide(what: string): void {
    if (this.clientSideLogged) return;
    this.clientSideLogged = true;
    this.options.logger.warn(
      { source: this.options.name },
      `moments source ${this.options.name}: the engine's listMoments cannot ${what}; back-fills read the whole window and ${what === 'sort by createdAt' ? 'sort' : 'filter'} it here`,
    );
  }
}

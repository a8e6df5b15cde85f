import type { RateLimitedLog } from '../../core/log-rate-limit.js';
import type { RawItem } from './graphql-client.js';
import { MAX_BATCH, type MomentBatches, type MomentEvent } from './moment-batches.js';
import type { MomentsHealth } from './moments-health.js';

/** Live moments kept while a back-fill runs; beyond this the back-fill itself will find them. */
export const MAX_BUFFER = 10_000;

export interface LiveMomentsOptions {
  /** The source's name (logs). */
  name: string;
  batches: MomentBatches;
  health: MomentsHealth;
  log: RateLimitedLog;
  /** Live moments accepted into batches that have not started yet, at most. */
  maxLiveBacklog: number;
  /** Queues a task on the source's serial lane (which closes the open batch first). */
  enqueue: (task: () => Promise<void>) => void;
  isStopped: () => boolean;
  /** Too many live moments wait: back-fill from the cursor instead of holding them. */
  requestBackfill: (reason: string) => void;
  /** A batch was refused (or its commit failed): the cursor did not pass it, a back-fill brings it back. */
  handOverFailed: (err: unknown, count?: number) => void;
}

/**
 * The live stream's moments, in arrival order and in micro-batches: live moments that arrive while
 * the lane is busy join one open batch (up to MAX_BATCH), handled as a unit — the cursor moves only
 * once the whole batch is enqueued. No timer: an idle lane takes a lone moment at once, so batching
 * costs no latency and a burst costs a few round trips instead of four per moment.
 *
 * While a back-fill runs (`hold()` until `open()`), live moments wait in a buffer: one processed
 * first would move the cursor past the moments the back-fill has yet to read.
 */
export class LiveMoments {
  private readonly options: LiveMomentsOptions;
  private backfilling = false;
  private buffer: RawItem[] = [];
  private bufferOverflowed = false;
  /** Live moments waiting for a lane task that is already queued; closed when anything else is queued. */
  private liveBatch: RawItem[] | undefined;
  /** Live moments accepted into batches that have not started yet (bounded by maxLiveBacklog). */
  private pendingLive = 0;
  /** Whether the newest live batch handed over was accepted by the pipeline (false once one failed). */
  private emitted: Promise<boolean> = Promise.resolve(true);
  /** Settles once the newest batch's cursor commit finished; commits run in batch order. */
  private committed: Promise<void> = Promise.resolve();

  constructor(options: LiveMomentsOptions) {
    this.options = options;
  }

  /** Live moments held in memory: in batches not started yet, and in the back-fill buffer. */
  get waiting(): number {
    return this.pendingLive + this.buffer.length;
  }

  /** Whether live moments are held for a back-fill. */
  get holding(): boolean {
    return this.backfilling;
  }

  /** Hold live moments in the buffer until open(): a back-fill is due. */
  hold(): void {
    this.backfilling = true;
  }

  /** The back-fill caught up: trust the live stream again. */
  open(): void {
    this.backfilling = false;
  }

  /** Anything queued on the lane from now on runs after the open batch: arrivals start a new one. */
  closeBatch(): void {
    this.liveBatch = undefined;
  }

  /** Settles once the newest live batch was handed over; false when one was refused. */
  accepted(): Promise<boolean> {
    return this.emitted;
  }

  /** Waits until every live batch in flight was handed over and committed (or failed). */
  async settle(): Promise<void> {
    await this.emitted;
    await this.committed;
  }

  /**
   * For a back-fill about to read the cursor: the batches in flight have settled, later live
   * batches are held in the buffer until it is done, so an earlier refusal is forgotten here.
   */
  forgetRefusal(): void {
    this.emitted = Promise.resolve(true);
  }

  /** The back-fill starts reading: overflow counts from here. */
  clearOverflow(): void {
    this.bufferOverflowed = false;
  }

  /** The oldest buffered live moments, up to one batch (empty when none wait). */
  takeBuffered(): RawItem[] {
    this.buffer.sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    return this.buffer.splice(0, MAX_BATCH);
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** More live moments arrived during the back-fill than the buffer holds: some were dropped. */
  get overflowed(): boolean {
    return this.bufferOverflowed;
  }

  onMoment(raw: RawItem): void {
    const { options } = this;
    if (options.isStopped()) return;
    options.health.noteWaiting();
    if (this.backfilling) {
      if (this.buffer.length < MAX_BUFFER) this.buffer.push(raw);
      else this.bufferOverflowed = true;
      return;
    }
    if (this.pendingLive >= options.maxLiveBacklog) {
      // The pipeline is slower than the upstream: stop holding moments in memory. This one is not
      // committed, so the back-fill from the cursor reads it (and everything after it) again.
      options.log.warn(
        `moments ${options.name} backlog`,
        { source: options.name, backlog: this.pendingLive },
        `moments source ${options.name}: more than ${options.maxLiveBacklog} live moments waiting; switching to back-fill`,
      );
      options.requestBackfill('live backlog');
      return;
    }
    this.pendingLive += 1;
    if (this.liveBatch && this.liveBatch.length < MAX_BATCH) {
      this.liveBatch.push(raw);
      return;
    }
    const batch = [raw];
    options.enqueue(() => this.runBatch(batch));
    this.liveBatch = batch;
  }

  private async runBatch(batch: RawItem[]): Promise<void> {
    const { batches, handOverFailed } = this.options;
    this.pendingLive -= batch.length;
    // From here on, arrivals start the next batch, queued behind this one.
    if (this.liveBatch === batch) this.liveBatch = undefined;
    // A failure earlier in the lane switched to back-fill: these moments must wait behind it.
    if (this.backfilling) {
      for (const r of batch) this.onMoment(r);
      return;
    }
    let events: MomentEvent[];
    try {
      events = await batches.prepare(batch);
    } catch (err) {
      handOverFailed(err);
      return;
    }
    // Hand-overs stay in order: this batch goes only once the previous one was accepted. Its
    // preparation above overlapped that hand-over, and its own commit overlaps the next one.
    if (!(await this.emitted) || this.backfilling) {
      batches.release(events);
      for (const r of batch) this.onMoment(r);
      return;
    }
    if (events.length === 0) return;
    const handing = batches.handOver(events);
    this.emitted = handing.then((r) => {
      if (r.failed) handOverFailed(r.error, events.length - r.accepted);
      return !r.failed;
    });
    const previous = this.committed;
    this.committed = handing.then(async (r) => {
      await previous;
      try {
        await batches.commit(events.slice(0, r.accepted), false);
      } catch (err) {
        handOverFailed(err);
      } finally {
        batches.release(events);
      }
    });
  }
}

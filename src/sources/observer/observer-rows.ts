import { eventId, type BridgeEvent } from '../../core/event.js';
import { counter, gauge } from '../../core/metrics.js';
import type { RedisEpoch } from '../shared/redis-epoch.js';
import type { SeenWindow } from '../shared/seen-window.js';
import type { SourceContext } from '../source.js';
import { frameKey, type FrameSpec } from './frame-spec.js';
import type { ObserverRow } from './observer-api.js';
import type { ObserverFrames } from './observer-frames.js';
import { PendingEvents } from './pending-events.js';
import { identifyRow } from './row-identity.js';
import { observerRowSummary } from './row-summary.js';

const metrics = {
  rows: counter('mb_observer_rows_total', 'Observer rows turned into events', ['source', 'frame']),
  duplicateRows: counter('mb_observer_duplicate_rows_total', 'Observer rows dropped because their id was already emitted', ['source']),
  invalidRows: counter('mb_observer_invalid_rows_total', 'Observer rows that cannot be routed (not an object, or naming another call/client): quarantined', [
    'source',
    'frame',
  ]),
  emitFailures: counter('mb_observer_emit_failures_total', 'Observer events the pipeline could not take (retried)', ['source']),
  pending: gauge('mb_observer_pending_events', 'Observer rows and events waiting to be handed to the pipeline (in order, or for a retry)', ['source']),
  pendingDropped: counter(
    'mb_observer_pending_dropped_total',
    'Observer rows dropped from memory because too many were waiting (their frames are re-read once the pipeline takes events again)',
    ['source'],
  ),
};

/** What waits to be handed to the pipeline: a frame's row, or a ready event (summary). */
type PendingItem = { kind: 'row'; spec: FrameSpec; row: ObserverRow } | { kind: 'event'; event: BridgeEvent };

export interface ObserverRowsOptions {
  ctx: SourceContext;
  /** The connection seen marks are written on (see RedisEpoch). */
  epoch: RedisEpoch;
  /** The row ids emitted in the dedup window, on `epoch`'s connection. */
  seen: SeenWindow;
  /** Frames whose dropped rows are re-read once the pipeline recovers. */
  frames: ObserverFrames;
  /** Rows and events held in memory at most (see ObserverSourceOptions.maxPendingEvents). */
  cap: number;
  retryInitialDelayMs: number;
  isStopped: () => boolean;
}

/**
 * Rows (and summary events) on their way to the pipeline, in order: each row is checked (invalid →
 * quarantine), de-duplicated against its seen mark in Redis, handed over, and marked seen only
 * once the pipeline took it on the connection it was checked on. A refused item is retried
 * (PendingEvents); over the cap the oldest rows are dropped from memory and their frame re-read.
 */
export class ObserverRows {
  private readonly options: ObserverRowsOptions;
  private readonly ctx: SourceContext;
  private readonly pending: PendingEvents<PendingItem>;

  constructor(options: ObserverRowsOptions) {
    this.options = options;
    this.ctx = options.ctx;
    const { cap, ctx } = options;
    this.pending = new PendingEvents<PendingItem>({
      cap,
      initialDelayMs: options.retryInitialDelayMs,
      handle: (item) => (item.kind === 'row' ? this.handleRow(item.spec, item.row) : this.tryEmit(item.event)),
      onDrop: (item) => this.onDropped(item),
      onTaken: (waiting) => {
        metrics.pending.set({ source: ctx.name }, waiting);
        // Re-read dropped frames once the pipeline is healthy again and has room for their rows.
        if (options.frames.resyncPending > 0 && !this.pending.blocked && waiting < cap / 2) options.frames.resyncMarked();
      },
    });
  }

  /** Takes items again after `stop()`. */
  resume(): void {
    this.pending.resume();
  }

  /** Stops retrying; rows still waiting are not marked seen, so the next start re-reads them. */
  stop(): Promise<void> {
    return this.pending.stop();
  }

  enqueueRow(spec: FrameSpec, row: ObserverRow): void {
    // Rows can be dropped over the cap: their frame is re-read later (update() on a new frame).
    this.addPending({ kind: 'row', spec, row });
  }

  /** A ready event (summary): held and retried like a row, never dropped over the cap. */
  addEvent(event: BridgeEvent): void {
    this.addPending({ kind: 'event', event });
  }

  private addPending(item: PendingItem): void {
    this.pending.add(item, { droppable: item.kind === 'row' });
    metrics.pending.set({ source: this.ctx.name }, this.pending.size);
  }

  /** One row to the pipeline; true once it is there (or quarantined, or already emitted). */
  private async handleRow(spec: FrameSpec, raw: ObserverRow): Promise<boolean> {
    if (this.options.isStopped()) return true;
    const row = identifyRow(spec, raw);
    try {
      if (!row.ok) {
        metrics.invalidRows.inc({ source: this.ctx.name, frame: spec.kind });
        this.ctx.logger.warn({ frame: frameKey(spec) }, `observer: quarantined a row: ${row.reason}`);
        await this.ctx.quarantine({ kind: 'observer.row', reason: row.reason, raw });
        return true;
      }
      const epoch = this.options.epoch.current;
      if ((await this.options.seen.seenMany([row.upstreamId]))[0]) {
        metrics.duplicateRows.inc({ source: this.ctx.name });
        return true;
      }
      const event = { id: eventId(this.ctx.name, 'observer.row', row.upstreamId), source: this.ctx.name, kind: 'observer.row', time: row.time, data: row.data };
      await this.ctx.emit({ ...event, summary: observerRowSummary(event) });
      // Marked only after the pipeline took it: a crash in between re-emits (same id), never loses.
      // Handed over before a Redis reconnect, its job may be among the writes Redis lost: retried
      // (the seen check on the new Redis decides, and the queue drops it if its job is there).
      if (!this.options.epoch.holds(epoch)) return false;
      await this.options.seen.markMany([row.upstreamId], this.ctx.lease, 'observer seen row');
      metrics.rows.inc({ source: this.ctx.name, frame: spec.kind });
      return true;
    } catch (err) {
      metrics.emitFailures.inc({ source: this.ctx.name });
      this.ctx.logger.error({ frame: frameKey(spec), err: (err as Error).message }, 'observer: could not hand a row to the pipeline; retrying');
      return false;
    }
  }

  private onDropped(item: PendingItem): void {
    if (item.kind !== 'row') return;
    metrics.pendingDropped.inc({ source: this.ctx.name });
    if (this.options.frames.markDropped(item.spec)) {
      this.ctx.logger.warn(
        { frame: frameKey(item.spec), waiting: this.pending.size },
        'observer: too many rows waiting for the pipeline; dropping the oldest from memory — this frame is re-read once the pipeline takes events again',
      );
    }
  }

  /**
   * Emits a discovery or summary event; false when the pipeline refused it, or when Redis
   * reconnected meanwhile (the caller must not record it as emitted: Redis may have lost it).
   */
  async tryEmit(event: BridgeEvent): Promise<boolean> {
    const epoch = this.options.epoch.current;
    try {
      await this.ctx.emit(event);
      return this.options.epoch.holds(epoch);
    } catch (err) {
      metrics.emitFailures.inc({ source: this.ctx.name });
      this.ctx.logger.error({ kind: event.kind, err: (err as Error).message }, 'observer: could not hand an event to the pipeline; will retry');
      return false;
    }
  }
}

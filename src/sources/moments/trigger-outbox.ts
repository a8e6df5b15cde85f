import type { BridgeEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import { fullJitterBackoff } from '../../core/full-jitter.js';

/** One trigger change the pipeline has not accepted yet. */
export interface PendingChange {
  event: BridgeEvent;
  /** The trigger's updatedAt (normalized ISO): what the watermark may move to once it is accepted. */
  updatedAt: string;
  /** Epoch ms it was first offered. */
  since: number;
}

export interface TriggerOutboxOptions {
  /** Hands events to the pipeline; rejects when it could not take them (Redis down). */
  emit: (events: BridgeEvent[]) => Promise<void>;
  /** Called with each batch the pipeline accepted, in order. */
  accepted: (changes: PendingChange[]) => void | Promise<void>;
  /** Called on each failed attempt (for logs and state). */
  failed: (err: unknown, attempt: number, nextRetryInMs: number) => void;
  /** Called when the outbox is empty again after it had dropped changes (the caller back-fills them). */
  drainedAfterOverflow: () => void;
  /** Most changes held; past it new ones are dropped and left to the back-fill. @defaultValue 10000 */
  maxPending?: number;
  /** First retry delay cap (full jitter, doubling). @defaultValue 500 */
  initialDelayMs?: number;
  /** @defaultValue 30000 */
  maxDelayMs?: number;
  /** @defaultValue Math.random */
  random?: () => number;
}

/** Changes handed over per attempt: one queue round trip each. */
const BATCH = 500;

/**
 * Trigger changes the pipeline refused, retried in arrival order with exponential backoff and
 * full jitter until the pipeline takes them. Unlike moments, trigger changes have no cursor a
 * back-fill could replay exactly (a back-fill sees only each trigger's latest state), so they are
 * held here rather than dropped; memory stays bounded by `maxPending`, past which the newest are
 * dropped and the caller's back-fill (from its watermark, which never passes a held change)
 * brings their latest state back. Retrying never blocks the moments lane.
 */
export class TriggerOutbox {
  private readonly pending = new Map<string, PendingChange>();
  private readonly options: TriggerOutboxOptions;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private attempt = 0;
  /** Delay before the next attempt (0: at once). */
  private nextDelay = 0;
  private overflowed = false;
  private stopped = false;
  private lastError: string | undefined;

  constructor(options: TriggerOutboxOptions) {
    this.options = options;
  }

  get size(): number {
    return this.pending.size;
  }

  has(eventId: string): boolean {
    return this.pending.has(eventId);
  }

  /** Epoch ms the oldest held change has waited since, if any. */
  oldestSince(): number | undefined {
    return this.pending.values().next().value?.since;
  }

  /** The oldest held updatedAt: the watermark must not pass it. */
  oldestUpdatedAt(): string | undefined {
    let oldest: string | undefined;
    for (const c of this.pending.values()) if (oldest === undefined || c.updatedAt < oldest) oldest = c.updatedAt;
    return oldest;
  }

  /** Whether changes were dropped and not yet recovered. */
  get dropped(): boolean {
    return this.overflowed;
  }

  /** Why the last attempt failed, while changes are still held. */
  failure(): { attempt: number; lastError: string } | undefined {
    return this.pending.size && this.lastError ? { attempt: this.attempt, lastError: this.lastError } : undefined;
  }

  /**
   * Holds a change for retry: `failure` is the error of the caller's own hand-over that just
   * failed (the first retry then waits a backoff step); without it older changes are still held
   * and this one queues behind them.
   */
  hold(change: PendingChange, failure?: unknown): void {
    if (this.stopped || this.pending.has(change.event.id)) return;
    if (failure !== undefined && this.pending.size === 0) this.noteFailure(failure);
    if (this.pending.size >= (this.options.maxPending ?? 10_000)) {
      this.overflowed = true;
      return;
    }
    this.pending.set(change.event.id, change);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.flushing || this.stopped) return;
    const delay = this.nextDelay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.pending.size) this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  private noteFailure(err: unknown): void {
    this.attempt += 1;
    this.lastError = errorMessage(err);
    // Full jitter, as the real-time reconnects: replicas retrying against one Redis spread out.
    this.nextDelay = fullJitterBackoff(this.attempt, this.options.initialDelayMs ?? 500, this.options.maxDelayMs ?? 30_000, this.options.random);
    this.options.failed(err, this.attempt, this.nextDelay);
  }

  private async flush(): Promise<void> {
    while (this.pending.size && !this.stopped) {
      const batch = [...this.pending.values()].slice(0, BATCH);
      try {
        await this.options.emit(batch.map((c) => c.event));
      } catch (err) {
        this.noteFailure(err);
        return;
      }
      for (const c of batch) this.pending.delete(c.event.id);
      this.attempt = 0;
      this.nextDelay = 0;
      this.lastError = undefined;
      await this.options.accepted(batch);
    }
    if (this.pending.size === 0 && this.overflowed) {
      this.overflowed = false;
      this.options.drainedAfterOverflow();
    }
  }
}

import { fullJitterBackoff } from '../../core/full-jitter.js';

/**
 * Everything the Observer source has to hand to the pipeline waits here until the pipeline took
 * it: a FIFO worked through one item at a time (rows keep their arrival order), and, for items
 * the pipeline refused (Redis down), a retry with exponential backoff and full jitter per item.
 * Nothing leaves except by being taken, or — beyond `cap` — by being dropped from memory when the
 * owner says it can fetch it again (`droppable`), which it is told through `onDrop`.
 */

/** An item in hand this long means the pipeline is stuck (e.g. a Redis command queued while Redis is down). */
const STALL_MS = 1_000;

export interface PendingEventsOptions<T> {
  /** Takes one item: true when the pipeline has it (or it is in quarantine), false to retry it later. */
  handle: (value: T) => Promise<boolean>;
  /** Items held at most while the pipeline refuses or stalls; beyond, the oldest droppable one is dropped. @defaultValue 10000 */
  cap?: number;
  /** Upper bound of the first retry delay, ms. @defaultValue 200 */
  initialDelayMs?: number;
  /** Cap of the growing retry delay, ms. @defaultValue 10000 */
  maxDelayMs?: number;
  /** Told about each item dropped over the cap (the owner re-fetches it later). */
  onDrop?: (value: T) => void;
  /** Told after every item taken, with the number still waiting. */
  onTaken?: (waiting: number) => void;
}

interface Item<T> {
  value: T;
  droppable: boolean;
  attempts: number;
  dueAt: number;
}

export class PendingEvents<T> {
  private readonly fresh: Array<Item<T>> = [];
  private readonly retrying: Array<Item<T>> = [];
  private readonly cap: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private draining: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = Number.POSITIVE_INFINITY;
  private stopped = false;
  private inHand = 0;
  private inHandSince = 0;
  /** The last item handled was refused (and none taken since). */
  private refusing = false;
  /** Items dropped over the cap since start (the owner re-fetches them). */
  dropped = 0;

  constructor(private readonly options: PendingEventsOptions<T>) {
    this.cap = options.cap ?? 10_000;
    this.initialDelayMs = options.initialDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    if (!(this.cap >= 1)) throw new RangeError(`PendingEvents cap must be at least 1 (got ${this.cap})`);
  }

  /** Items held: waiting, retrying, and the one being handled. */
  get size(): number {
    return this.fresh.length + this.retrying.length + this.inHand;
  }

  /** Items waiting for a retry after the pipeline refused them. */
  get retryingCount(): number {
    return this.retrying.length;
  }

  /**
   * Whether the pipeline is refusing or stuck: the last item handled was refused, or the item in
   * hand has waited over a second. Only then does the cap drop items; a burst into a healthy pipeline (a
   * frame re-read after a reconnect) drains by itself and is let through whole.
   */
  get blocked(): boolean {
    return this.refusing || (this.inHand > 0 && Date.now() - this.inHandSince > STALL_MS);
  }

  add(value: T, options: { droppable: boolean }): void {
    if (this.stopped) return;
    if (this.size >= this.cap && this.blocked) this.dropOldest();
    this.fresh.push({ value, droppable: options.droppable, attempts: 0, dueAt: 0 });
    this.kick();
  }

  /** Takes items again after `stop()`. */
  resume(): void {
    this.stopped = false;
  }

  /** Stops retrying and waits for the item in hand; what is still waiting is forgotten. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.fresh.length = 0;
    this.retrying.length = 0;
    await this.draining;
  }

  /** Resolves once nothing is waiting or in hand (tests). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private dropOldest(): void {
    // Retrying items are older than fresh ones; the oldest of either that can be fetched again goes.
    for (const list of [this.retrying, this.fresh]) {
      const at = list.findIndex((i) => i.droppable);
      if (at >= 0) {
        const [item] = list.splice(at, 1);
        this.dropped += 1;
        this.options.onDrop?.(item!.value);
        return;
      }
    }
    // Only undroppable items (a few summaries): keep them all; they are few by construction.
  }

  private kick(): void {
    if (this.draining || this.stopped) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.fresh.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    for (let item = this.fresh.shift(); item && !this.stopped; item = this.fresh.shift()) {
      let taken: boolean;
      this.inHand = 1;
      this.inHandSince = Date.now();
      try {
        taken = await this.options.handle(item.value);
      } catch {
        taken = false; // handle reports its own errors; a throw is one more refusal
      } finally {
        this.inHand = 0;
      }
      if (this.stopped) return;
      this.refusing = !taken;
      if (taken) {
        // The pipeline takes items again: what waits for a retry goes now, oldest first.
        if (this.retrying.length > 0) this.releaseAll();
        this.options.onTaken?.(this.size);
        continue;
      }
      item.attempts += 1;
      // Full jitter over an exponential bound: items refused together do not retry together.
      item.dueAt = Date.now() + Math.max(10, fullJitterBackoff(item.attempts, this.initialDelayMs, this.maxDelayMs));
      this.retrying.push(item);
      this.schedule(item.dueAt);
    }
  }

  /** Makes sure the timer fires by `dueAt` (one timer for all items: the earliest due). */
  private schedule(dueAt: number): void {
    if (this.stopped || (this.timer && this.timerDueAt <= dueAt)) return;
    clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => this.release(), Math.max(0, dueAt - Date.now()));
  }

  private releaseAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Number.POSITIVE_INFINITY;
    this.fresh.unshift(...this.retrying.sort((a, b) => a.dueAt - b.dueAt));
    this.retrying.length = 0;
  }

  /** Moves every due item back into the work list, oldest first. */
  private release(): void {
    this.timer = undefined;
    this.timerDueAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const due = this.retrying.filter((i) => i.dueAt <= now);
    if (due.length > 0) {
      const keep = this.retrying.filter((i) => i.dueAt > now);
      this.retrying.length = 0;
      this.retrying.push(...keep);
      this.fresh.unshift(...due);
      this.kick();
    }
    let next = Number.POSITIVE_INFINITY;
    for (const i of this.retrying) next = Math.min(next, i.dueAt);
    if (Number.isFinite(next)) this.schedule(next);
  }
}

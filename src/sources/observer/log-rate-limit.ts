/**
 * A minimal rate limit for one repetitive log line (e.g. malformed messages from a broken server):
 * the first `burst` occurrences of each window are logged, the rest only counted, and the next
 * logged line says how many were left out. Local to the Observer source until a shared helper
 * lands (`src/log-rate-limit.ts`, being written on another branch); the metric counts them all.
 */
export interface LogRateLimitOptions {
  /** Lines logged per window. @defaultValue 10 */
  burst?: number;
  /** Window length, ms. @defaultValue 60000 */
  windowMs?: number;
}

export interface LogDecision {
  /** Whether to write this occurrence. */
  log: boolean;
  /** Occurrences left out since the last line written (to put in that line). */
  suppressed: number;
  /** This is the last line of the window: later ones are suppressed until it ends. */
  lastOfWindow: boolean;
}

export class LogRateLimit {
  private readonly burst: number;
  private readonly windowMs: number;
  private windowStart = Number.NEGATIVE_INFINITY;
  private logged = 0;
  private suppressed = 0;

  constructor(options: LogRateLimitOptions = {}) {
    this.burst = options.burst ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    if (!(this.burst >= 1) || !(this.windowMs > 0)) throw new RangeError(`LogRateLimit needs burst ≥ 1 and windowMs > 0 (got ${this.burst}, ${this.windowMs})`);
  }

  take(now = Date.now()): LogDecision {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.logged = 0;
    }
    if (this.logged >= this.burst) {
      this.suppressed += 1;
      return { log: false, suppressed: this.suppressed, lastOfWindow: false };
    }
    this.logged += 1;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return { log: true, suppressed, lastOfWindow: this.logged === this.burst };
  }
}

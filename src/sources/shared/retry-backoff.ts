import { fullJitterBackoff } from '../../core/full-jitter.js';

export interface RetryBackoffOptions {
  /** Cap of the first delay; the cap doubles per attempt. */
  initialDelayMs: number;
  /** The cap never grows past this. */
  maxDelayMs: number;
  /** Shortest delay handed out (a zero delay would retry in the same tick). @defaultValue 0 */
  minDelayMs?: number;
  /** Source of randomness for the jitter (tests may pin it). @defaultValue Math.random */
  random?: () => number;
}

/**
 * The reconnect and retry loop every source runs: count failed attempts, wait a full-jitter
 * delay (a random delay up to an exponential bound, so replicas that failed together do not retry
 * together), run the next attempt, start over once one succeeded. Timers it set are cancelled
 * together when the source stops.
 */
export class RetryBackoff {
  private readonly options: RetryBackoffOptions;
  private failures = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(options: RetryBackoffOptions) {
    this.options = options;
  }

  /** Failed attempts since the last success. */
  get attempt(): number {
    return this.failures;
  }

  /** Counts one more failed attempt and returns the delay before the next. */
  next(): number {
    this.failures += 1;
    const { initialDelayMs, maxDelayMs, minDelayMs = 0, random } = this.options;
    return Math.max(minDelayMs, fullJitterBackoff(this.failures, initialDelayMs, maxDelayMs, random));
  }

  /** An attempt succeeded: the next failure waits the shortest delay again. */
  reset(): void {
    this.failures = 0;
  }

  /** Runs `task` after `delayMs`, unless cancel() runs first. */
  after(delayMs: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Cancels every task scheduled with after(). */
  cancel(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

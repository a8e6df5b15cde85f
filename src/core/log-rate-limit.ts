import type { Logger } from './log.js';

/** Options of a {@link RateLimitedLog}. */
export interface LogRateLimitOptions {
  /** Lines per key that pass in each interval. @defaultValue 10 */
  burst: number;
  /** Length of one interval, in ms. @defaultValue 10000 */
  intervalMs: number;
  /** Keys tracked at once; past it the oldest key's window is closed (its summary written). @defaultValue 1000 */
  maxKeys: number;
  /** Clock, for tests. @defaultValue Date.now */
  now: () => number;
}

export const DEFAULT_LOG_RATE_LIMIT: LogRateLimitOptions = { burst: 10, intervalMs: 10_000, maxKeys: 1000, now: Date.now };

interface Window {
  start: number;
  passed: number;
  suppressed: number;
  level: Level;
}

type Level = 'warn' | 'error' | 'info';

/**
 * Bounds repeated log lines (43,000 warnings in 5 s for a stream of bad frames buried everything
 * else and cost more CPU than the frames). Per key, the first `burst` lines of each interval are
 * written; the rest are only counted, and one summary line per key and interval says how many were
 * suppressed. Metrics keep the exact counts; the log only has to show that it is happening and why.
 */
export class RateLimitedLog {
  private readonly options: LogRateLimitOptions;
  private readonly windows = new Map<string, Window>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    options: Partial<LogRateLimitOptions> = {},
  ) {
    this.options = { ...DEFAULT_LOG_RATE_LIMIT, ...options };
    if (!(this.options.burst >= 1) || !(this.options.intervalMs > 0)) throw new RangeError('log rate limit: burst must be ≥ 1 and intervalMs > 0');
  }

  warn(key: string, fields: object, message: string): void {
    this.write('warn', key, fields, message);
  }

  error(key: string, fields: object, message: string): void {
    this.write('error', key, fields, message);
  }

  info(key: string, fields: object, message: string): void {
    this.write('info', key, fields, message);
  }

  /** Writes the summary of every key with suppressed lines and starts fresh windows (shutdown, tests). */
  flush(): void {
    for (const [key, w] of this.windows) this.summarize(key, w);
    this.windows.clear();
    this.stopTimer();
  }

  private write(level: Level, key: string, fields: object, message: string): void {
    const now = this.options.now();
    let w = this.windows.get(key);
    if (w && now - w.start >= this.options.intervalMs) {
      this.summarize(key, w);
      this.windows.delete(key);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= this.options.maxKeys) this.evictOldest();
      w = { start: now, passed: 0, suppressed: 0, level };
      this.windows.set(key, w);
    }
    if (w.passed < this.options.burst) {
      w.passed++;
      this.logger[level](fields, message);
      return;
    }
    w.suppressed++;
    // A flood that stops must still get its summary: look again once its interval is over.
    this.startTimer();
  }

  private summarize(key: string, w: Window): void {
    if (w.suppressed === 0) return;
    const seconds = Math.round(this.options.intervalMs / 100) / 10;
    this.logger[w.level](
      { logKey: key, suppressed: w.suppressed, intervalMs: this.options.intervalMs },
      `${w.suppressed} more "${key}" log lines suppressed in ${seconds} s (at most ${this.options.burst} per ${seconds} s are written; metrics count every one)`,
    );
  }

  private evictOldest(): void {
    const [key, w] = this.windows.entries().next().value!;
    this.summarize(key, w);
    this.windows.delete(key);
  }

  /** Closes windows whose interval is over; the timer only runs while some window has suppressed lines. */
  private sweep(): void {
    const now = this.options.now();
    let pending = false;
    for (const [key, w] of this.windows) {
      if (now - w.start >= this.options.intervalMs) {
        this.summarize(key, w);
        this.windows.delete(key);
      } else if (w.suppressed > 0) {
        pending = true;
      }
    }
    if (!pending) this.stopTimer();
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), Math.max(100, Math.ceil(this.options.intervalMs / 2)));
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

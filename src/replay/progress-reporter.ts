import { SingleBar } from 'cli-progress';

export interface ProgressCounts {
  done: number;
  enqueued: number;
  duplicates: number;
  skipped: number;
}

export interface ProgressReporterOptions {
  label: string;
  /** Events expected; undefined when unknown (back-fill), then no percentage or ETA. */
  total?: number;
  /** The progress bar draws here when it is a TTY; otherwise log lines are written. @defaultValue process.stderr */
  stream?: NodeJS.WriteStream;
  /** Seconds between log lines when not a TTY. @defaultValue 5 */
  logEverySeconds?: number;
}

/**
 * Progress of a replay or back-fill: a `cli-progress` bar (count, rate, ETA) in a TTY, a log line
 * every few seconds otherwise (CI, systemd, `| tee`), where a redrawn bar would be noise.
 */
export class ProgressReporter {
  private readonly bar: SingleBar | undefined;
  private readonly stream: NodeJS.WriteStream;
  private readonly started = Date.now();
  private lastLog = Date.now();
  private counts: ProgressCounts = { done: 0, enqueued: 0, duplicates: 0, skipped: 0 };

  constructor(private readonly o: ProgressReporterOptions) {
    this.stream = o.stream ?? process.stderr;
    if (this.stream.isTTY) {
      const format =
        o.total === undefined
          ? `${o.label} {value} events | {rate}/s | enqueued {enqueued}, duplicates {duplicates}, skipped {skipped}`
          : `${o.label} [{bar}] {percentage}% | {value}/{total} events | {rate}/s | ETA {eta_formatted} | enqueued {enqueued}, duplicates {duplicates}, skipped {skipped}`;
      this.bar = new SingleBar({ format, stream: this.stream, hideCursor: true, etaBuffer: 200, fps: 10 });
      this.bar.start(o.total ?? 0, 0, { rate: '0', enqueued: 0, duplicates: 0, skipped: 0 });
    }
  }

  update(counts: ProgressCounts): void {
    this.counts = counts;
    const rate = this.rate();
    if (this.bar) {
      this.bar.update(counts.done, { rate: rate.toFixed(0), ...counts });
      return;
    }
    const every = (this.o.logEverySeconds ?? 5) * 1000;
    if (Date.now() - this.lastLog >= every) {
      this.lastLog = Date.now();
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Stops the bar and writes the final line. */
  finish(): void {
    this.bar?.stop();
    this.stream.write(`${this.line()} — done in ${((Date.now() - this.started) / 1000).toFixed(1)} s\n`);
  }

  private rate(): number {
    const s = (Date.now() - this.started) / 1000;
    return s > 0 ? this.counts.done / s : 0;
  }

  private line(): string {
    const { done, enqueued, duplicates, skipped } = this.counts;
    const total = this.o.total;
    const rate = this.rate();
    const eta = total !== undefined && rate > 0 && done < total ? `, ETA ${Math.ceil((total - done) / rate)} s` : '';
    const of = total !== undefined ? `/${total}` : '';
    return `${this.o.label}: ${done}${of} events (${rate.toFixed(0)}/s${eta}); enqueued ${enqueued}, duplicates ${duplicates}, skipped ${skipped}`;
  }
}

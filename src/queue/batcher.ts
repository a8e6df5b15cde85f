import type { Delivery, DeliveryResult } from '../../connectors/connector.js';
import { retryable } from '../../connectors/connector.js';
import { errorMessage } from '../core/errors.js';

export interface BatcherOptions {
  maxSize: number;
  windowMs: number;
  /** Timeout of one `deliverBatch` call. */
  timeoutMs: number;
}

type SendBatch = (deliveries: Delivery[], signal: AbortSignal) => Promise<DeliveryResult[]>;

interface Pending {
  delivery: Delivery;
  resolve: (result: DeliveryResult) => void;
}

/**
 * Gathers deliveries that arrive from concurrent worker slots into `deliverBatch` calls: a batch is
 * sent when it reaches `maxSize` or `windowMs` after its first delivery. Each caller gets its own
 * delivery's result, so every job is acknowledged (or retried) on its own.
 */
export class Batcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly send: SendBatch,
    private readonly options: BatcherOptions,
  ) {}

  deliver(delivery: Delivery): Promise<DeliveryResult> {
    return new Promise((resolve) => {
      this.pending.push({ delivery, resolve });
      if (this.pending.length >= this.options.maxSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  /** Aborts every batch call in flight (shutdown). */
  abortAll(reason: Error): void {
    for (const ac of this.inFlight) ac.abort(reason);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // Called with at least one delivery pending (the window timer exists only then, and is
    // cleared here); deliver() flushes as the batch reaches maxSize, so this is one batch.
    const batch = this.pending;
    this.pending = [];
    void this.sendBatch(batch);
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const ac = new AbortController();
    this.inFlight.add(ac);
    const timer = setTimeout(() => ac.abort(new Error(`batch timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    let results: DeliveryResult[];
    try {
      results = await this.send(
        batch.map((p) => p.delivery),
        ac.signal,
      );
      if (results.length !== batch.length) {
        results = batch.map(() => retryable(`deliverBatch returned ${results.length} results for ${batch.length} deliveries (connector bug)`));
      }
    } catch (err) {
      const reason = ac.signal.aborted ? errorMessage(ac.signal.reason) : `deliverBatch threw: ${errorMessage(err)}`;
      results = batch.map(() => retryable(reason));
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(ac);
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  }
}

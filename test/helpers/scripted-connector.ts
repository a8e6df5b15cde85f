import type { Connector, Delivery, DeliveryResult, PayloadRenderer } from '../../connectors/connector.js';
import { delivered, permanent, retryable } from '../../connectors/connector.js';

/** What one attempt should do. */
export type ScriptStep =
  | { do: 'deliver' }
  | { do: 'retry'; reason?: string; retryAfterMs?: number }
  | { do: 'permanent'; reason?: string }
  /** Waits (honouring the abort signal), then delivers. */
  | { do: 'slow'; ms: number }
  | { do: 'throw'; message?: string };

export interface CallRecord {
  deliveryId: string;
  eventId: string;
  attempt: number;
  at: number;
  result: DeliveryResult['status'] | 'aborted' | 'threw';
}

/**
 * A real Connector for queue tests that fails on command: `script(eventId, steps)` sets what each
 * successive attempt for that event does (then it delivers). It records every call.
 */
export class ScriptedConnector implements Connector {
  /** Every call, recorded when it starts (`result` is updated when it ends). */
  readonly calls: CallRecord[] = [];
  readonly deliveredIds = new Map<string, number>();
  private readonly scripts = new Map<string, ScriptStep[]>();
  private readonly waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  defaults?: Connector['defaults'];
  deliverBatch?: Connector['deliverBatch'];
  readonly batches: number[] = [];

  constructor(options: { batch?: boolean } = {}) {
    if (options.batch) {
      this.deliverBatch = async (deliveries, signal) => {
        this.batches.push(deliveries.length);
        return Promise.all(deliveries.map((d) => this.deliver(d, signal)));
      };
    }
  }

  script(eventId: string, steps: ScriptStep[]): void {
    this.scripts.set(eventId, [...steps]);
  }

  renderer(): PayloadRenderer {
    return { render: (event) => ({ text: event.id }) };
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    const step = this.scripts.get(delivery.event.id)?.shift() ?? { do: 'deliver' };
    const rec: CallRecord = { deliveryId: delivery.id, eventId: delivery.event.id, attempt: delivery.attempt, at: Date.now(), result: 'delivered' };
    this.calls.push(rec);
    this.notify();
    let result: DeliveryResult;
    switch (step.do) {
      case 'deliver':
        result = delivered();
        break;
      case 'retry':
        result = retryable(step.reason ?? 'scripted retry', step.retryAfterMs);
        break;
      case 'permanent':
        result = permanent(step.reason ?? 'scripted permanent failure');
        break;
      case 'throw':
        rec.result = 'threw';
        this.notify();
        throw new Error(step.message ?? 'scripted throw');
      case 'slow':
        try {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, step.ms);
            signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
          });
        } catch (err) {
          rec.result = 'aborted';
          this.notify();
          throw err;
        }
        result = delivered();
        break;
    }
    rec.result = result.status;
    if (result.status === 'delivered') this.deliveredIds.set(delivery.id, (this.deliveredIds.get(delivery.id) ?? 0) + 1);
    this.notify();
    return result;
  }

  callsFor(eventId: string): CallRecord[] {
    return this.calls.filter((c) => c.eventId === eventId);
  }

  /** Resolves when `predicate` holds (checked after every call), or rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private notify(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.predicate()) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}

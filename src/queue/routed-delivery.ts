import type { BridgeEvent } from '../core/event.js';

/** One delivery the router produced, its payload already rendered for `connector`. */
export type { RoutedDelivery } from '../routing/render-targets.js';

/** A BullMQ job's data: exactly what will be sent, plus the id the sink sees. */
export interface DeliveryJobData {
  deliveryId: string;
  event: BridgeEvent;
  route: string;
  connector: string;
  payload: unknown;
  /** Set by `dlq retry`: retry.maxAge counts from here instead of the first enqueue. */
  redrivenAt?: number;
  /**
   * Set at enqueue when the job must not be sent as it is (larger than maxPayloadBytes): the
   * worker dead-letters it at once with this reason. `dlq retry` clears it (the operator's call).
   */
  refused?: { code: 'payload_too_large'; reason: string };
}

/** One line of a job's attempt log (BullMQ job logs): the dead letter's history. */
export interface AttemptRecord {
  attempt: number;
  /** Epoch ms when the attempt ended. */
  at: number;
  outcome: 'retry' | 'rate-limited' | 'permanent' | 'gave-up' | 'timeout' | 'interrupted';
  reason: string;
  retryAfterMs?: number;
  delayMs?: number;
}

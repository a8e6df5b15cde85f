import type { DeliveryResult } from '../connector.js';

/**
 * Why a flush ended early. Every stage of a flush (lock, write budget, sheet layout, API call)
 * may have to stop it with one answer for all deliveries still pending; throwing this carries
 * that answer up to the connector, which tells it apart from an unexpected error.
 */
export class FlushStopped extends Error {
  constructor(readonly result: DeliveryResult) {
    super(result.status === 'delivered' ? 'delivered' : result.reason);
  }
}

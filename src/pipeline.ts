import type { BridgeEvent } from './event.js';
import type { Logger } from './log.js';
import { counter } from './metrics.js';
import type { DeliveryQueues } from './queue/delivery-queues.js';
import type { RoutedDelivery, Router } from './routing/router.js';

const received = counter('mb_events_received_total', 'Events accepted from sources', ['source', 'kind']);
const unrouted = counter('mb_events_unrouted_total', 'Events that matched no route', ['source', 'kind']);

/**
 * The data path in one place: event → router → queue. A source's `emit` is `accept` (and its
 * `emitBatch` is `acceptBatch`): it resolves once the events' deliveries are in Redis, so the
 * source may move its cursor.
 */
export class Pipeline {
  constructor(
    private readonly router: Router,
    private readonly queues: DeliveryQueues,
    private readonly logger: Logger,
  ) {
    router.onDigest(async (deliveries) => {
      await queues.enqueue(deliveries);
    });
  }

  async accept(event: BridgeEvent): Promise<void> {
    const deliveries = await this.route(event);
    if (deliveries.length) await this.queues.enqueue(deliveries);
  }

  /**
   * Routes each event in order (throttle/dedupe/group state sees them in that order), then
   * enqueues every delivery in one call: one queue round trip for the batch. Rejects if the
   * enqueue failed; some deliveries may be in Redis then, and a retry is deduplicated by
   * delivery id.
   */
  async acceptBatch(events: readonly BridgeEvent[]): Promise<void> {
    const all: RoutedDelivery[] = [];
    for (const event of events) {
      const deliveries = await this.route(event);
      for (const d of deliveries) all.push(d);
    }
    if (all.length) await this.queues.enqueue(all);
  }

  private async route(event: BridgeEvent): Promise<RoutedDelivery[]> {
    received.inc({ source: event.source, kind: event.kind });
    const deliveries = await this.router.route(event);
    // No delivery also means throttled, deduplicated or grouped; only count events no route matched.
    if (deliveries.length === 0 && this.router.match(event).length === 0) {
      unrouted.inc({ source: event.source, kind: event.kind });
      this.logger.debug({ event: event.id }, 'event matched no route');
    }
    return deliveries;
  }
}

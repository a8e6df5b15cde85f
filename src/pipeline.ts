import type { BridgeEvent } from './event.js';
import type { Logger } from './log.js';
import { counter } from './metrics.js';
import type { DeliveryQueues } from './queue/delivery-queues.js';
import type { Router } from './routing/router.js';

const received = counter('mb_events_received_total', 'Events accepted from sources', ['source', 'kind']);
const unrouted = counter('mb_events_unrouted_total', 'Events that matched no route', ['source', 'kind']);

/**
 * The data path in one place: event → router → queue. A source's `emit` is `accept`: it resolves
 * once the event's deliveries are in Redis, so the source may move its cursor.
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
    received.inc({ source: event.source, kind: event.kind });
    const deliveries = await this.router.route(event);
    if (deliveries.length === 0) {
      // No delivery also means throttled, deduplicated or grouped; only count events no route matched.
      if (this.router.match(event).length === 0) {
        unrouted.inc({ source: event.source, kind: event.kind });
        this.logger.debug({ event: event.id }, 'event matched no route');
      }
      return;
    }
    await this.queues.enqueue(deliveries);
  }
}

import { errorMessage } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import { counter } from '../core/metrics.js';
import type { DeliveryQueues } from '../queue/delivery-queues.js';
import { serializeFailure } from '../core/safe-snapshot.js';
import type { SetAside } from '../queue/set-aside.js';
import type { RenderFailure, RoutedDelivery } from '../routing/render-targets.js';
import { EventRoutingError, type RouteOutcome, type Router } from '../routing/router.js';

const received = counter('mb_events_received_total', 'Events accepted from sources', ['source', 'kind']);
const unrouted = counter('mb_events_unrouted_total', 'Events that matched no route', ['source', 'kind']);

/** One event's routing decision, as `tap` shows it. */
export interface RoutingNote {
  event: BridgeEvent;
  /** Routes that matched (0: unrouted). */
  matched: number;
  deliveries: readonly RoutedDelivery[];
  setAside: readonly SetAside[];
}

/**
 * Watches routing decisions (the live `tap`). The pipeline reads `active` once per event and
 * builds nothing while it is false, so an idle observer costs one property read.
 */
export interface PipelineObserver {
  readonly active: boolean;
  routed(note: RoutingNote): void;
}

/**
 * The data path in one place: event → router → queue. A source's `emit` is `accept` (and its
 * `emitBatch` is `acceptBatch`): it resolves once the events' deliveries are in Redis, so the
 * source may move its cursor.
 *
 * One bad item never stops the flow: an event whose routing throws, a payload that fails to
 * render and a job that cannot be serialized are quarantined alone with their reason, and a job
 * over the queue's size limit is dead-lettered unsent (see DeliveryQueues.enqueue); the rest of
 * the batch goes on and the call resolves. Redis failing still rejects the whole call.
 */
export class Pipeline {
  constructor(
    private readonly router: Router,
    private readonly queues: DeliveryQueues,
    private readonly logger: Logger,
    private readonly observer?: PipelineObserver,
  ) {}

  async accept(event: BridgeEvent): Promise<void> {
    const deliveries: RoutedDelivery[] = [];
    const aside: SetAside[] = [];
    await this.route(event, deliveries, aside);
    if (deliveries.length || aside.length) await this.queues.enqueue(deliveries, aside);
  }

  /**
   * Routes each event in order (throttle/dedupe/group state sees them in that order), then
   * enqueues every delivery in one call: one queue round trip for the batch. Rejects if the
   * enqueue failed; some deliveries may be in Redis then, and a retry is deduplicated by
   * delivery id.
   */
  async acceptBatch(events: readonly BridgeEvent[]): Promise<void> {
    const deliveries: RoutedDelivery[] = [];
    const aside: SetAside[] = [];
    for (const event of events) await this.route(event, deliveries, aside);
    if (deliveries.length || aside.length) await this.queues.enqueue(deliveries, aside);
  }

  /** A due group digest's deliveries, from the digest stage: enqueued like an event's; rejects (the stage retries the digest) if the enqueue failed. */
  async acceptDigest(deliveries: RoutedDelivery[], unrendered: RenderFailure[]): Promise<void> {
    await this.queues.enqueue(deliveries, unrendered.map(renderFailure));
  }

  private async route(event: BridgeEvent, deliveries: RoutedDelivery[], aside: SetAside[]): Promise<void> {
    received.inc({ source: event.source, kind: event.kind });
    let routed: RouteOutcome;
    try {
      routed = await this.router.routeWithFailures(event);
    } catch (err) {
      const detail = itemFault(err, event);
      if (detail === undefined) throw err; // Redis (or unknown): the whole call fails, the source keeps its cursor
      const unroutable: SetAside = { event, reason: 'unroutable', detail };
      aside.push(unroutable);
      if (this.observer?.active) this.observer.routed({ event, matched: 0, deliveries: [], setAside: [unroutable] });
      return;
    }
    for (const d of routed.deliveries) deliveries.push(d);
    for (const f of routed.unrendered) aside.push(renderFailure(f));
    if (this.observer?.active)
      this.observer.routed({ event, matched: routed.matched, deliveries: routed.deliveries, setAside: routed.unrendered.map(renderFailure) });
    // No delivery also means throttled, deduplicated or grouped; only count events no route matched.
    if (routed.matched === 0) {
      unrouted.inc({ source: event.source, kind: event.kind });
      this.logger.debug({ event: event.id }, 'event matched no route');
    }
  }
}

function renderFailure(f: RenderFailure): SetAside {
  return { event: f.event, reason: 'unrenderable', detail: `payload failed to render: ${f.error}`, route: f.route, connector: f.connector };
}

/**
 * Whether a routing error is the event's fault (returns why) rather than Redis's (undefined).
 * The router wraps matching failures in EventRoutingError; JSON.stringify of a throttle, dedupe or
 * group value throws RangeError/TypeError; anything else counts as the event's fault only if the
 * event itself cannot be serialized. Redis errors are none of these, so they still fail the call.
 */
function itemFault(err: unknown, event: BridgeEvent): string | undefined {
  if (err instanceof EventRoutingError) return errorMessage(err);
  if (err instanceof RangeError || err instanceof TypeError) return serializeFailure(err);
  try {
    JSON.stringify(event);
    return undefined;
  } catch (cause) {
    return `${errorMessage(err)} (the event cannot be serialized: ${serializeFailure(cause)})`;
  }
}

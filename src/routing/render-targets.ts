import { errorMessage } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import { counter } from '../core/metrics.js';
import type { Target } from './route-compiler.js';

/** One route's rendered payload for one connector: what the queue delivers. */
export interface RoutedDelivery {
  event: BridgeEvent;
  route: string;
  connector: string;
  payload: unknown;
}

/** One route's payload for one connector that failed to render: the caller sets it aside. */
export interface RenderFailure {
  event: BridgeEvent;
  route: string;
  connector: string;
  error: string;
}

/** Payloads (here) and throttle/dedupe keys (router.ts) that failed to render. */
export const renderErrors = counter('mb_route_render_errors_total', 'Payloads or keys that failed to render.', ['route', 'connector']);

/**
 * Renders each target's payload for `event` (an event or a group digest); a payload that cannot
 * render is counted and reported in `unrendered`, the others still go.
 */
export function renderTargets(
  route: { name: string; targets: readonly Target[] },
  event: BridgeEvent,
  out: RoutedDelivery[],
  unrendered: RenderFailure[],
): void {
  for (const t of route.targets) {
    try {
      out.push({ event, route: route.name, connector: t.connector, payload: t.renderer.render(event) });
    } catch (err) {
      renderErrors.inc({ route: route.name, connector: t.connector });
      unrendered.push({ event, route: route.name, connector: t.connector, error: errorMessage(err) });
    }
  }
}

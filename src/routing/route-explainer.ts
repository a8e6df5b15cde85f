import { errorMessage } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import type { Template } from '../templates/template-engine.js';
import { digestEvent, groupValues } from './digest-event.js';
import { formatValue } from './matchers.js';
import type { RoutedDelivery } from './render-targets.js';
import type { CompiledRoute, DisabledRoute } from './route-compiler.js';
import { isConditionFailure, routeMiss, type RouteMiss } from './route-predicates.js';

/** Why a route did not match, for `route` explanations and rule tests. */
export interface RouteDecision {
  route: string;
  index: number;
  status: 'matched' | 'no-match' | 'disabled' | 'not-reached';
  /** For no-match: the first check that failed. For not-reached: which route stopped evaluation. */
  reason?: string;
  /** For no-match on a `match` entry. */
  failed?: { field: string; expected: string; actual: string };
  /** not-reached: whether it would have matched. */
  wouldMatch?: boolean;
  continue: boolean;
  /** Rendered payloads (matched routes only). A grouped route renders a digest of this one event. */
  deliveries: { connector: string; payload?: unknown; error?: string }[];
  throttleKey?: string;
  dedupeKey?: string;
  groupKey?: Record<string, unknown>;
}

export interface RouteExplanation {
  event: BridgeEvent;
  /** The clock used for activeTimes (ISO). */
  at: string;
  routes: RouteDecision[];
  /** What `route()` would deliver now if no throttle/dedupe window were open (grouped routes deliver later, as digests). */
  deliveries: RoutedDelivery[];
}

/**
 * Pure dry run over every route, in config order: matched (with rendered payloads, keys and a
 * one-event digest preview for grouped routes), why not, disabled, or not reached behind a route
 * without `continue`. Touches no Redis and counts no metric.
 */
export function explainRoutes(routes: readonly CompiledRoute[], disabled: readonly DisabledRoute[], event: BridgeEvent, nowMs: number): RouteExplanation {
  const decisions: RouteDecision[] = [];
  const deliveries: RoutedDelivery[] = [];
  let stoppedBy: string | undefined;
  const all: { index: number; r?: CompiledRoute; d?: DisabledRoute }[] = [
    ...routes.map((r) => ({ index: r.index, r })),
    ...disabled.map((d) => ({ index: d.index, d })),
  ];
  all.sort((a, b) => a.index - b.index);
  for (const { index, r, d } of all) {
    if (!r) {
      decisions.push({ route: d!.name, index, status: 'disabled', reason: 'enabled: false', continue: d!.continue, deliveries: [] });
      continue;
    }
    const miss = routeMiss(r, event, nowMs);
    const base = { route: r.name, index: r.index, continue: r.continue };
    if (stoppedBy !== undefined) {
      decisions.push({
        ...base,
        status: 'not-reached',
        reason: `route "${stoppedBy}" matched first and has no continue: true`,
        wouldMatch: miss === undefined,
        deliveries: [],
      });
      continue;
    }
    if (miss !== undefined) {
      decisions.push({ ...base, status: 'no-match', ...describeMiss(r, miss, event, nowMs), deliveries: [] });
      continue;
    }
    decisions.push(matchedDecision(r, event, nowMs, deliveries));
    if (!r.continue) stoppedBy = r.name;
  }
  return { event, at: new Date(nowMs).toISOString(), routes: decisions, deliveries };
}

function matchedDecision(r: CompiledRoute, event: BridgeEvent, nowMs: number, deliveries: RoutedDelivery[]): RouteDecision {
  const decision: RouteDecision = { route: r.name, index: r.index, continue: r.continue, status: 'matched', deliveries: [] };
  if (r.throttle) decision.throttleKey = safeRender(r.throttle.key, event);
  if (r.dedupe?.key) decision.dedupeKey = safeRender(r.dedupe.key, event);
  const scope: BridgeEvent = r.group ? digestEvent(r.name, r.group.by, [event], nowMs) : event;
  if (r.group) decision.groupKey = groupValues(r.group.by, event);
  for (const t of r.targets) {
    try {
      const payload = t.renderer.render(scope);
      decision.deliveries.push({ connector: t.connector, payload });
      deliveries.push({ event: scope, route: r.name, connector: t.connector, payload });
    } catch (err) {
      decision.deliveries.push({ connector: t.connector, error: errorMessage(err) });
    }
  }
  return decision;
}

/** Words for a {@link RouteMiss}: the explanation of the check `routeMiss` found failing. */
function describeMiss(r: CompiledRoute, miss: RouteMiss, event: BridgeEvent, nowMs: number): Pick<RouteDecision, 'reason' | 'failed'> {
  if (miss === 'from') return { reason: `from: source "${event.source}" is not one of ${[...r.from!].join(', ')}` };
  if (miss === 'activeTimes') return { reason: `activeTimes: ${new Date(nowMs).toISOString()} is outside ${r.schedule!.description}` };
  if (miss === 'when') return { reason: `when: ${r.condition!.source} is false` };
  if (isConditionFailure(miss)) return { reason: `when: ${r.condition!.source} failed to evaluate (${miss.error}); counted as no match` };
  const actual = formatValue(miss.get(event));
  return { reason: `match: ${miss.path} is ${actual}, expected ${miss.expected}`, failed: { field: miss.path, expected: miss.expected, actual } };
}

function safeRender(t: Template, event: BridgeEvent): string {
  try {
    return t.render(event);
  } catch (err) {
    return `(render error: ${errorMessage(err)})`;
  }
}

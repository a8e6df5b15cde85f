import type { BridgeEvent } from '../core/event.js';
import type { CelCondition } from './cel-condition.js';
import type { FieldMatcher } from './matchers.js';
import type { ActiveSchedule } from './schedule.js';

/** What the match predicates read of a compiled route. */
export interface PredicateRoute {
  readonly from?: ReadonlySet<string>;
  readonly matchers: readonly FieldMatcher[];
  readonly schedule?: ActiveSchedule;
  readonly condition?: CelCondition;
}

/** A `when` that failed to evaluate: the CEL result itself, carrying the error. */
export type ConditionFailure = Extract<ReturnType<CelCondition['evaluate']>, { ok: false }>;

/**
 * The first check of a route that an event fails: `'from'`, the failing `match` entry itself,
 * `'activeTimes'`, `'when'` (false), or the failed CEL evaluation. Constants and objects that
 * already exist, so the hot path allocates nothing to say why.
 */
export type RouteMiss = 'from' | 'activeTimes' | 'when' | FieldMatcher | ConditionFailure;

/**
 * The one set of match predicates: routing (`Router.match`) and explanations (`explainRoutes`)
 * both ask this, so a rule cannot match one way and be explained another. Undefined: it matches.
 * Checks run cheapest first; the CEL `when` last.
 */
export function routeMiss(r: PredicateRoute, event: BridgeEvent, nowMs: number): RouteMiss | undefined {
  if (r.from && !r.from.has(event.source)) return 'from';
  const ms = r.matchers;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!;
    if (!m.test(event)) return m;
  }
  if (r.schedule && !r.schedule.isActive(nowMs)) return 'activeTimes';
  if (r.condition) {
    const result = r.condition.evaluate(event);
    if (!result.ok) return result;
    if (!result.value) return 'when';
  }
  return undefined;
}

/** The miss is a `when` that failed to evaluate (counted as no match), not a check that said no. */
export function isConditionFailure(miss: RouteMiss): miss is ConditionFailure {
  return typeof miss === 'object' && 'ok' in miss;
}

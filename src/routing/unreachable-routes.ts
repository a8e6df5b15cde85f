import { isDeepStrictEqual } from 'node:util';
import type { ConfigIssue } from '../core/config-error.js';
import type { RouteConfig } from './route-schema.js';

/**
 * Routes that can never match, by the router's semantics: routes are tried in order and the first
 * match stops evaluation unless it has `continue: true` (throttle, dedupe and grouping apply after
 * the match, so they do not let an event through to later routes). A later route is unreachable
 * when an earlier enabled, stopping route without `when` or `activeTimes` accepts every event the
 * later one accepts: its sources include the later route's, and each of its `match` entries is
 * also in the later route with the same value. That is conservative — it never reports a route
 * that some event could reach — so overlaps it cannot prove (regexes, CEL) are not reported.
 *
 * `routes` holds undefined for entries the schema rejected (they are skipped, keeping indexes).
 */
export function unreachableRoutes(routes: readonly (RouteConfig | undefined)[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  routes.forEach((later, j) => {
    if (!later?.enabled) return;
    for (let i = 0; i < j; i++) {
      const earlier = routes[i];
      if (!earlier || !stopsEverything(earlier) || !covers(earlier, later)) continue;
      const catchAll = !earlier.from && !earlier.match;
      issues.push({
        path: ['routes', j],
        message: `route "${later.name}" can never match: ${catchAll ? 'the catch-all' : 'the'} route "${earlier.name}" (routes[${i}]) above it takes every event this one would and stops there (continue: false); move this route above it, or set continue: true on "${earlier.name}"`,
      });
      return;
    }
  });
  return issues;
}

/** Enabled, stops at a match, and matches without conditions the static check cannot compare. */
function stopsEverything(r: RouteConfig): boolean {
  return r.enabled && !r.continue && r.when === undefined && r.activeTimes === undefined;
}

function covers(earlier: RouteConfig, later: RouteConfig): boolean {
  if (earlier.from && !(later.from && later.from.every((s) => earlier.from!.includes(s)))) return false;
  return Object.entries(earlier.match ?? {}).every(
    ([path, value]) => later.match !== undefined && path in later.match && isDeepStrictEqual(later.match[path], value),
  );
}

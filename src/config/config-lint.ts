import { routeSchema, type RouteConfig } from '../routing/route-schema.js';
import { unreachableRoutes } from '../routing/unreachable-routes.js';
import type { ConfigIssue } from '../core/config-error.js';
import { isRecord, targetName } from './cross-references.js';

/**
 * Things `run` accepts but that are almost certainly mistakes: connectors no route delivers to
 * (their workers run for nothing) and routes no event can reach. Reported by `check` as warnings.
 * Works on the raw document, so it also runs when other parts of the file are invalid.
 */
export function configWarnings(raw: unknown): ConfigIssue[] {
  const root = isRecord(raw) ? raw : {};
  const rawRoutes: unknown[] = Array.isArray(root.routes) ? root.routes : [];
  const routes = rawRoutes.map((r): RouteConfig | undefined => {
    const parsed = routeSchema.safeParse(r);
    return parsed.success ? parsed.data : undefined;
  });
  return [...unusedConnectors(root.connectors, rawRoutes, routes), ...unreachableRoutes(routes)];
}

function unusedConnectors(connectors: unknown, rawRoutes: unknown[], routes: readonly (RouteConfig | undefined)[]): ConfigIssue[] {
  if (!isRecord(connectors)) return [];
  const used = new Set<string>();
  const usedWhenEnabled = new Set<string>();
  rawRoutes.forEach((r, i) => {
    const targets: unknown[] = isRecord(r) && Array.isArray(r.to) ? r.to : [];
    const enabled = routes[i]?.enabled ?? !(isRecord(r) && r.enabled === false);
    for (const t of targets) {
      const name = targetName(t);
      if (name === undefined) continue;
      used.add(name);
      if (enabled) usedWhenEnabled.add(name);
    }
  });
  return Object.keys(connectors)
    .filter((name) => !usedWhenEnabled.has(name))
    .map((name) => ({
      path: ['connectors', name],
      message: used.has(name)
        ? `connector "${name}" is used only by disabled routes (enabled: false): it delivers nothing`
        : `connector "${name}" is used by no route: it delivers nothing (add it to a route's \`to:\`, or remove it)`,
    }));
}

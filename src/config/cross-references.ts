import type { ConfigIssue } from '../core/config-error.js';
import { noSuchName } from './did-you-mean.js';

/** Routes naming a source or connector that does not exist (works on raw, unvalidated input too). */
export function crossReferenceIssues(input: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const root = isRecord(input) ? input : {};
  const sources = isRecord(root.sources) ? Object.keys(root.sources) : [];
  const connectors = isRecord(root.connectors) ? Object.keys(root.connectors) : [];
  const routes = Array.isArray(root.routes) ? root.routes : [];
  routes.forEach((route: unknown, i) => {
    if (!isRecord(route)) return;
    if (Array.isArray(route.from)) {
      route.from.forEach((name: unknown, j) => {
        if (typeof name === 'string' && !sources.includes(name)) issues.push({ path: ['routes', i, 'from', j], message: noSuchName('source', name, sources) });
      });
    }
    if (Array.isArray(route.to)) {
      route.to.forEach((target: unknown, j) => {
        const name = targetName(target);
        const path = typeof target === 'string' ? ['routes', i, 'to', j] : ['routes', i, 'to', j, 'connector'];
        if (name !== undefined && !connectors.includes(name)) issues.push({ path, message: noSuchName('connector', name, connectors) });
      });
    }
  });
  return issues;
}

/** The connector a `to:` entry names (`ops-slack` or `{ connector: ops-slack, … }`). */
export function targetName(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  return isRecord(target) && typeof target.connector === 'string' ? target.connector : undefined;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

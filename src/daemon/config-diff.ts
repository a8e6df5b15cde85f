import type { ConnectorEntry } from '../pipeline/assemble.js';
import type { BridgeConfig } from '../config/schema.js';

/** What differs between the running config and a reloaded one, as far as a reload cares. */
export interface ConfigDiff {
  /** Sections that changed in the file but only apply after a restart. */
  needsRestart: string[];
  /** Running connectors whose config did not change: kept as they are (no re-auth, no new clients). */
  keptConnectors: Map<string, ConnectorEntry>;
  /** Connectors to build: added or changed. */
  changedConnectors: BridgeConfig['connectors'];
  /** What changed in routes and connectors, e.g. `routes: 2 → 3`, `connector hooks: changed`. */
  changes: string[];
}

/** Config sections compare by value: the parsed config is plain JSON data. */
export function sameConfig(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function diffConfig(prev: BridgeConfig, next: BridgeConfig, running: ReadonlyMap<string, ConnectorEntry>): ConfigDiff {
  const needsRestart: string[] = [];
  if (!sameConfig(prev.redis, next.redis)) needsRestart.push('redis');
  if (prev.server.enabled !== next.server.enabled || prev.server.host !== next.server.host || prev.server.port !== next.server.port)
    needsRestart.push('server.host/port/enabled');
  if (!sameConfig(prev.log, next.log)) needsRestart.push('log');
  if (!sameConfig(prev.leadership, next.leadership)) needsRestart.push('leadership');

  const keptConnectors = new Map<string, ConnectorEntry>();
  const changedConnectors: BridgeConfig['connectors'] = {};
  for (const [name, c] of Object.entries(next.connectors)) {
    const old = running.get(name);
    if (old && sameConfig(prev.connectors[name], c)) keptConnectors.set(name, old);
    else changedConnectors[name] = c;
  }

  const changes: string[] = [];
  if (prev.routes.length !== next.routes.length || !sameConfig(prev.routes, next.routes)) changes.push(`routes: ${prev.routes.length} → ${next.routes.length}`);
  for (const n of Object.keys(changedConnectors)) changes.push(`connector ${n}: ${prev.connectors[n] ? 'changed' : 'added'}`);
  for (const n of Object.keys(prev.connectors)) if (!(n in next.connectors)) changes.push(`connector ${n}: removed`);
  return { needsRestart, keptConnectors, changedConnectors, changes };
}

/** Whether a running source must stop for `next`: removed from it, or its config changed. */
export function sourceChanged(prev: BridgeConfig, next: BridgeConfig, name: string): boolean {
  return !(name in next.sources) || !sameConfig(prev.sources[name], next.sources[name]);
}

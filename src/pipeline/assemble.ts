import type { RedisClient } from '../redis/redis-client.js';
import { z } from 'zod';
import { connectorPlugins } from '../../connectors/registry.js';
import { ConfigValidationError, type ConfigIssue } from '../core/config-error.js';
import type { BridgeConfig } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { Router } from '../routing/router.js';
import { permanent, type Connector } from '../../connectors/connector.js';
import { deliveryOptionsSchema, type DeliveryOptionsInput } from '../queue/delivery-options-schema.js';

/**
 * Builds the parts of the pipeline that come straight from config: connector instances and the
 * compiled router. Shared by `run` (daemon) and `check`/`route`/`test`, so all of them see the
 * same errors.
 */

export interface ConnectorEntry {
  connector: Connector;
  options: DeliveryOptionsInput;
}

export interface AssembleDeps {
  redis: RedisClient;
  keyPrefix: string;
  logger: Logger;
  configDir: string;
}

const deliveryKeys = Object.keys(deliveryOptionsSchema.shape);

export async function createConnectors(config: BridgeConfig, deps: AssembleDeps): Promise<Map<string, ConnectorEntry>> {
  const { entries, issues } = await buildConnectors(config, deps);
  if (issues.length) {
    await closeAll(entries);
    throw new ConfigValidationError(issues);
  }
  return entries;
}

/** Every connector that can be built, and the problems of the others (paths from the config root). */
async function buildConnectors(config: BridgeConfig, deps: AssembleDeps): Promise<{ entries: Map<string, ConnectorEntry>; issues: ConfigIssue[] }> {
  const entries = new Map<string, ConnectorEntry>();
  const issues: ConfigIssue[] = [];
  for (const [name, raw] of Object.entries(config.connectors)) {
    const cfg = raw as { type: string } & Record<string, unknown>;
    const plugin = connectorPlugins.get(cfg.type);
    if (!plugin) {
      issues.push({ path: ['connectors', name, 'type'], message: `unknown connector type "${cfg.type}"` });
      continue;
    }
    try {
      const own = Object.fromEntries(Object.entries(cfg).filter(([k]) => !deliveryKeys.includes(k))) as z.output<typeof plugin.configSchema>;
      const options = Object.fromEntries(Object.entries(cfg).filter(([k]) => deliveryKeys.includes(k))) as DeliveryOptionsInput;
      const problems = plugin.configProblems?.(own) ?? [];
      issues.push(...problems.map((i) => ({ ...i, path: ['connectors', name, ...i.path] })));
      const connector = await plugin.create(own, {
        name,
        redis: deps.redis,
        keyPrefix: deps.keyPrefix,
        logger: deps.logger.child({ connector: name }),
        configDir: deps.configDir,
      });
      entries.set(name, { connector, options });
    } catch (err) {
      if (err instanceof ConfigValidationError) issues.push(...err.issues.map((i) => ({ ...i, path: ['connectors', name, ...i.path] })));
      else issues.push({ path: ['connectors', name], message: errorMessage(err) });
    }
  }
  return { entries, issues };
}

export function compileRouter(config: BridgeConfig, connectors: ReadonlyMap<string, ConnectorEntry>, deps: AssembleDeps): Router {
  return Router.compile(config.routes, {
    redis: deps.redis,
    keyPrefix: deps.keyPrefix,
    logger: deps.logger.child({ component: 'router' }),
    connectors: new Map([...connectors].map(([name, e]) => [name, e.connector])),
  });
}

/**
 * Compiles everything `run` would compile, touching no network: what `check` validates. Every
 * problem is collected — a broken connector does not hide a broken route — and thrown as one
 * {@link ConfigValidationError}. Routes naming a connector that failed (or that the schema
 * rejected: `invalidConnectors`) compile against a stand-in, so only the connector's own problem
 * is reported, not a second "no connector named" for each route.
 */
export async function validateConfig(config: BridgeConfig, deps: AssembleDeps & { invalidConnectors?: readonly string[] }): Promise<void> {
  const { entries, issues } = await buildConnectors(config, deps);
  const compiled = new Map(entries);
  for (const name of [...Object.keys(config.connectors), ...(deps.invalidConnectors ?? [])]) {
    if (!compiled.has(name)) compiled.set(name, { connector: STAND_IN, options: {} });
  }
  issues.push(...targetProblems(config, compiled));
  try {
    compileRouter(config, compiled, deps);
  } catch (err) {
    if (err instanceof ConfigValidationError) issues.push(...err.issues);
    else throw err;
  } finally {
    await closeAll(entries);
  }
  if (issues.length) throw new ConfigValidationError(issues);
}

/** The plugins' own checks of each route's per-target overrides (e.g. a webhook `url` override). */
function targetProblems(config: BridgeConfig, connectors: ReadonlyMap<string, ConnectorEntry>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.routes.forEach((route, i) => {
    route.to.forEach((target, j) => {
      if (typeof target === 'string' || !connectors.has(target.connector)) return;
      const own = config.connectors[target.connector] as ({ type: string } & Record<string, unknown>) | undefined;
      const plugin = own && connectorPlugins.get(own.type);
      if (!plugin?.configProblems) return;
      const overrides = Object.fromEntries(Object.entries(target).filter(([k]) => k !== 'connector'));
      for (const p of plugin.configProblems(own as never, overrides)) issues.push({ path: ['routes', i, 'to', j, ...p.path], message: p.message });
    });
  });
  return issues;
}

/** Takes the place of a connector whose config is invalid, so routes naming it still compile. */
const STAND_IN: Connector = {
  renderer: () => ({ render: () => null }),
  deliver: () => Promise.resolve(permanent('stand-in connector: never delivers')),
};

async function closeAll(entries: ReadonlyMap<string, ConnectorEntry>): Promise<void> {
  await Promise.all([...entries.values()].map((e) => e.connector.close?.()));
}

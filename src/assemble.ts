import type { Redis } from 'ioredis';
import { z } from 'zod';
import { deliveryOptionsSchema, type Connector, type DeliveryOptionsInput } from '../connectors/connector.js';
import { connectorPlugins } from '../connectors/registry.js';
import { ConfigValidationError, type ConfigIssue } from './config/config-error.js';
import type { BridgeConfig } from './config/schema.js';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';
import { Router } from './routing/router.js';

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
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
  configDir: string;
}

const deliveryKeys = Object.keys(deliveryOptionsSchema.shape);

export async function createConnectors(config: BridgeConfig, deps: AssembleDeps): Promise<Map<string, ConnectorEntry>> {
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
      const connector = await plugin.create(own, { name, redis: deps.redis, keyPrefix: deps.keyPrefix, logger: deps.logger.child({ connector: name }), configDir: deps.configDir });
      entries.set(name, { connector, options });
    } catch (err) {
      if (err instanceof ConfigValidationError) issues.push(...err.issues.map((i) => ({ ...i, path: ['connectors', name, ...i.path] })));
      else issues.push({ path: ['connectors', name], message: errorMessage(err) });
    }
  }
  if (issues.length) throw new ConfigValidationError(issues);
  return entries;
}

export function compileRouter(config: BridgeConfig, connectors: ReadonlyMap<string, ConnectorEntry>, deps: AssembleDeps): Router {
  return Router.compile(config.routes, {
    redis: deps.redis,
    keyPrefix: deps.keyPrefix,
    logger: deps.logger.child({ component: 'router' }),
    connectors: new Map([...connectors].map(([name, e]) => [name, e.connector])),
  });
}

/** Compiles everything `run` would compile, touching no network: what `check` validates. */
export async function validateConfig(config: BridgeConfig, deps: AssembleDeps): Promise<void> {
  const connectors = await createConnectors(config, deps);
  try {
    compileRouter(config, connectors, deps);
  } finally {
    await Promise.all([...connectors.values()].map((e) => e.connector.close?.()));
  }
}

import { Redis } from 'ioredis';
import { validateConfig } from '../pipeline/assemble.js';
import { analyseConfigFile, loadConfig, type ConfigAnalysis, type LoadConfigOptions, type LoadedConfig } from './load-config.js';
import { silentLogger } from '../core/log.js';

/**
 * Loads a config and compiles everything in it (connectors, routes, templates, CEL) without
 * touching the network, so `check`, `run`, `route` and `test` report the same errors.
 */
export async function loadValidatedConfig(path: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<LoadedConfig> {
  return withOfflineRedis((validate) => loadConfig(path, { ...options, validate }));
}

/** Like {@link loadValidatedConfig}, but returns every problem instead of throwing (for `check`). */
export async function analyseValidatedConfig(path: string): Promise<ConfigAnalysis> {
  return withOfflineRedis((validate) => analyseConfigFile(path, { validate }));
}

type Validate = NonNullable<LoadConfigOptions['validate']>;

async function withOfflineRedis<T>(body: (validate: Validate) => Promise<T>): Promise<T> {
  // Never connected: connectors and the router only keep the handle at compile time.
  const offline = new Redis({ lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  try {
    return await body((config, configDir, { invalidConnectors }) =>
      validateConfig(config, { redis: offline, keyPrefix: `${config.redis.keyPrefix}:`, logger: silentLogger(), configDir, invalidConnectors }),
    );
  } finally {
    offline.disconnect();
  }
}

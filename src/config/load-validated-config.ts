import { Redis } from 'ioredis';
import { validateConfig } from '../assemble.js';
import { loadConfig, type LoadedConfig } from './load-config.js';
import { silentLogger } from '../log.js';

/**
 * Loads a config and compiles everything in it (connectors, routes, templates, CEL) without
 * touching the network, so `check`, `run`, `route` and `test` report the same errors.
 */
export async function loadValidatedConfig(path: string, options: { env?: NodeJS.ProcessEnv } = {}): Promise<LoadedConfig> {
  // Never connected: connectors and the router only keep the handle at compile time.
  const offline = new Redis({ lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  try {
    return await loadConfig(path, {
      ...options,
      validate: (config, configDir) => validateConfig(config, { redis: offline, keyPrefix: `${config.redis.keyPrefix}:`, logger: silentLogger(), configDir }),
    });
  } finally {
    offline.disconnect();
  }
}

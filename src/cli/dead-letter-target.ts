import { loadOfflineConfig } from '../config/load-offline-config.js';
import { didYouMean } from '../config/did-you-mean.js';
import { InputError } from '../core/errors.js';
import { queueConnectors, type DeadLetterScope } from '../queue/dead-letters.js';
import { findConfigPath } from './config-path.js';
import { connectToolRedis } from '../redis/tool-redis.js';
import { createRedisClient } from '../redis/create-redis-client.js';
import type { RedisClient } from '../redis/redis-client.js';
import { usesHashTags } from '../redis/redis-endpoint.js';

export interface DeadLetterTargetOptions {
  config?: string;
  redis?: string;
  /** Key prefix when no config gives one. */
  prefix?: string;
  connector?: string;
}

/** Key prefix without a config: the config schema's default. */
const DEFAULT_PREFIX = 'mb';

/**
 * Connects to the dead letters `dlq` works on and runs `fn`: the config's Redis (or `--redis`,
 * which needs no config file). Connection settings and sink secrets of the config are not needed.
 * A `--connector` that neither the config nor Redis knows is an input error naming the known ones.
 */
export async function withDeadLetters<T>(opts: DeadLetterTargetOptions, fn: (redis: RedisClient, scope: DeadLetterScope) => Promise<T>): Promise<T> {
  const path = findConfigPath(opts.config);
  if (!path && !opts.redis) throw new InputError('config_missing', 'no config file: pass -c <file> or --redis <url> (or create ./config.yaml)');
  const loaded = path ? (await loadOfflineConfig(path, { keep: ['redis'], readSecretFiles: true })).loaded : undefined;
  const settings = loaded?.config.redis;
  // redis: embedded → the running daemon's server, or one started on its data dir for this command.
  const target = await connectToolRedis(loaded, opts.redis);
  const redis = createRedisClient(target.endpoint, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const prefix = opts.prefix ?? settings?.keyPrefix ?? DEFAULT_PREFIX;
    const configured = loaded ? Object.keys(loaded.config.connectors) : [];
    if (opts.connector) await checkConnector(opts.connector, configured, () => queueConnectors(redis, prefix), loaded?.file);
    const scope: DeadLetterScope = {
      prefix,
      cluster: settings ? usesHashTags(settings) : false,
      ...(opts.connector ? { connector: opts.connector } : {}),
      // Behind a cluster proxy (`cluster: true`) SCAN may see one node: look in the configured
      // connectors' queues there. With seeds, SCAN runs on every master.
      ...(settings?.cluster === true ? { connectors: configured } : {}),
    };
    return await fn(redis, scope);
  } finally {
    redis.disconnect();
    await target.close();
  }
}

/** Known: configured, or with a queue in Redis (a connector removed from the config may still hold dead letters). */
async function checkConnector(name: string, configured: string[], inRedis: () => Promise<string[]>, file: string | undefined): Promise<void> {
  if (configured.includes(name)) return;
  const known = [...new Set([...configured, ...(await inRedis())])].sort();
  if (known.includes(name)) return;
  const hint = didYouMean(name, known);
  const where = file ? `in ${file} or in Redis` : 'in Redis';
  throw new InputError(
    'dlq_connector_unknown',
    `no connector named "${name}" ${where}${hint ? ` — did you mean "${hint}"?` : ''} (known: ${known.length ? known.join(', ') : 'none'})`,
  );
}

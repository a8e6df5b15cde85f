import { isAbsolute, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { EmbeddedRedis } from './embedded-redis.js';
import { redisEndpoint, type RedisEndpoint } from './redis-endpoint.js';

export interface ToolRedis {
  /** URL of a single Redis (password applied separately, in `endpoint`); the first seed of a cluster. */
  url: string;
  /** What to connect to: the URL with `redis.password` applied, or the cluster's seeds. */
  endpoint: RedisEndpoint;
  /** Where it came from, for one log line. */
  origin: 'flag' | 'config' | 'running-daemon' | 'started';
  /** Stops the embedded server this tool started, if any. */
  close(): Promise<void>;
}

/**
 * The Redis a CLI tool (`dlq`, `replay`, `backfill`, `tap`) should use: `--redis` if given, else
 * `redis.url` or the `redis.cluster` seeds (`--redis` with a cluster config names one seed). With
 * `redis: embedded` it is the running daemon's server (found through the port file in
 * `redis.dataDir`), or, when no daemon runs, an embedded server this tool starts on the same data
 * dir (the AOF brings back the jobs) and stops when done. Without a config, `--redis` is one Redis.
 */
export async function connectToolRedis(loaded: LoadedConfig | undefined, override?: string): Promise<ToolRedis> {
  const none = async (): Promise<void> => undefined;
  if (!loaded) {
    if (!override) throw new Error('connectToolRedis: neither a config nor --redis');
    return { url: override, endpoint: { kind: 'single', url: override }, origin: 'flag', close: none };
  }
  const { redis } = loaded.config;
  const seeds = Array.isArray(redis.cluster) ? redis.cluster : undefined;
  const found = (url: string | undefined, origin: ToolRedis['origin'], close: () => Promise<void> = none): ToolRedis => ({
    url: url ?? seeds![0]!,
    endpoint: redisEndpoint(redis, url),
    origin,
    close,
  });
  if (override) return found(override, 'flag');
  if (seeds) return found(undefined, 'config');
  if (redis.url !== 'embedded') return found(redis.url, 'config');
  const dataDir = isAbsolute(redis.dataDir) ? redis.dataDir : resolve(loaded.configDir, redis.dataDir);
  const running = await EmbeddedRedis.findRunning(dataDir);
  if (running) return found(running.url, 'running-daemon');
  const server = new EmbeddedRedis({ dataDir });
  await server.start();
  return found(server.url, 'started', () => server.stop());
}

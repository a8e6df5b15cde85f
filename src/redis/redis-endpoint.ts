import { redactRedisUrl, redisUrlWithPassword } from '../config/redis-url.js';

/**
 * Where the bridge's Redis is, resolved from `redis.*` (and `--redis` of a CLI tool): one server
 * by URL, or a Redis Cluster by its seed nodes. Passwords are applied here (in the URL, or
 * `redis.password` for every node), so every connection is made the same way.
 */
export type RedisEndpoint = SingleRedisEndpoint | ClusterRedisEndpoint;

export interface SingleRedisEndpoint {
  kind: 'single';
  /** URL or socket path, password included. */
  url: string;
}

export interface ClusterRedisEndpoint {
  kind: 'cluster';
  /** Seed node URLs, password included (one reachable seed is enough). */
  seeds: string[];
  /** Announced address → address to connect to (`host:port` both). */
  natMap?: Record<string, string>;
}

/** The `redis.*` settings an endpoint is made from (a parsed `RedisConfig` is one). */
export interface RedisSettings {
  cluster: boolean | readonly string[];
  password?: string | undefined;
  natMap?: Record<string, string> | undefined;
}

/** Settings a caller may override: a CLI `--redis` URL, or the running embedded server's URL. */
export function redisEndpoint(redis: RedisSettings, url: string | undefined): RedisEndpoint {
  if (Array.isArray(redis.cluster)) {
    // `--redis` given with a cluster config names one seed of that cluster.
    const seeds = url ? [url] : [...redis.cluster];
    return { kind: 'cluster', seeds: seeds.map((s) => redisUrlWithPassword(s, redis.password)), ...(redis.natMap ? { natMap: redis.natMap } : {}) };
  }
  if (!url) throw new Error('redisEndpoint: no URL for a single Redis');
  return { kind: 'single', url: redisUrlWithPassword(url, redis.password) };
}

/** For log lines and messages: the URL, or the seeds, with passwords replaced by `<secret>`. */
export function describeEndpoint(endpoint: RedisEndpoint): string {
  return endpoint.kind === 'single' ? redactRedisUrl(endpoint.url) : `cluster ${endpoint.seeds.map(redactRedisUrl).join(', ')}`;
}

/** Whether keys get hash tags: `redis.cluster` lists seeds, or is `true` (a cluster behind a proxy). */
export function usesHashTags(redis: Pick<RedisSettings, 'cluster'>): boolean {
  return redis.cluster !== false;
}

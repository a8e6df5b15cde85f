import { didYouMean } from './did-you-mean.js';

/**
 * `redis.url` forms the daemon can use. ioredis itself takes any bare word as a host name, so a
 * typo such as `embeded` would only fail at start-up, as a DNS error on a host nobody meant; the
 * config refuses it instead, with the closest spelling.
 */
const FORMS =
  '`embedded`, a redis:// or rediss:// URL (redis://:password@host:6379/0), or a unix socket (unix:///run/redis/redis.sock or /run/redis/redis.sock)';

/** Why `url` is not a usable `redis.url`, or undefined when it is one. */
export function redisUrlProblem(url: string): string | undefined {
  if (url === 'embedded' || isSocketPath(url)) return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):(?!\d)/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss' || scheme === 'unix') {
    try {
      const parsed = new URL(url);
      if (scheme === 'unix' && !parsed.pathname.startsWith('/')) return `"${url}" names no socket path: write unix:///path/to/redis.sock`;
      if (scheme !== 'unix' && !url.startsWith(`${scheme}://`)) return `"${url}" is not a URL: write ${scheme}://host:port`;
      return undefined;
    } catch {
      return `"${url}" is not a valid URL; expected ${FORMS}`;
    }
  }
  const hint = didYouMean(url, ['embedded']);
  if (hint) return `"${url}" is not a Redis URL — did you mean "${hint}"? Expected ${FORMS}`;
  if (scheme) return `"${url}": unsupported scheme "${scheme}:"; expected ${FORMS}`;
  return `"${url}" is not a Redis URL (a bare host name is not accepted: write redis://${url.includes(':') ? url : `${url}:6379`}); expected ${FORMS}`;
}

/** `unix:///run/redis.sock` → `/run/redis.sock` (the form ioredis and BullMQ take); other URLs unchanged. */
export function normalizeRedisUrl(url: string): string {
  if (!/^unix:/i.test(url)) return url;
  const parsed = new URL(url);
  return `${decodeURIComponent(parsed.pathname)}${parsed.search}`;
}

/** Adds `redis.password` to a URL or socket path that has none of its own. */
export function redisUrlWithPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  if (isSocketPath(url)) {
    // ioredis reads options from a socket path's query string.
    return /[?&]password=/.test(url) ? url : `${url}${url.includes('?') ? '&' : '?'}password=${encodeURIComponent(password)}`;
  }
  const u = new URL(url);
  if (!u.password) u.password = password;
  return u.toString();
}

/** The URL with its password replaced by `<secret>`, for messages and logs. */
export function redactRedisUrl(url: string): string {
  if (isSocketPath(url)) return url.replace(/([?&]password=)[^&]*/, '$1<secret>');
  try {
    const u = new URL(url);
    if (!u.password) return url;
    return `${u.protocol}//${u.username}:<secret>@${u.host}${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

function isSocketPath(url: string): boolean {
  return url.startsWith('/') && !url.startsWith('//');
}

/** Why `url` is not a usable seed node of `redis.cluster`, or undefined when it is one. */
export function clusterSeedProblem(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') return `"${redactRedisUrl(url)}" is not a cluster node URL: write redis://host:port (rediss:// for TLS)`;
  try {
    const u = new URL(url);
    if (!u.hostname) return `"${redactRedisUrl(url)}" names no host: write ${scheme}://host:port`;
    if (u.pathname && u.pathname !== '/' && u.pathname !== '/0')
      return `"${redactRedisUrl(url)}" selects database ${u.pathname.slice(1)}: a Redis Cluster has database 0 only; remove ${u.pathname}`;
    return undefined;
  } catch {
    return `"${redactRedisUrl(url)}" is not a valid URL: write ${scheme}://host:port`;
  }
}

/** The redis settings {@link redisTopologyProblems} looks at. */
export interface RedisTopology {
  url?: string | undefined;
  cluster: boolean | readonly string[];
  natMap?: Record<string, string> | undefined;
}

/**
 * Settings that contradict each other, each with the key to fix: one Redis (`url`) or a cluster
 * (`cluster: [seeds]`), not both; `cluster: true` (hash tags only) needs a `url` that is not the
 * embedded server; seeds agree on TLS and password; `natMap` only means something for a cluster.
 */
export function redisTopologyProblems(redis: RedisTopology): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  const seeds = Array.isArray(redis.cluster) ? (redis.cluster as readonly string[]) : undefined;
  if (seeds && redis.url !== undefined)
    problems.push({
      key: 'url',
      message: `redis.url ("${redactRedisUrl(redis.url)}") and the seed nodes of redis.cluster both say where Redis is: remove redis.url (a cluster is reached through its seeds), or set redis.cluster: true to keep one URL with hash-tagged keys`,
    });
  if (redis.cluster === true && (redis.url === undefined || redis.url === 'embedded'))
    problems.push({
      key: 'cluster',
      message:
        'redis.cluster: true only hash-tags keys for the Redis at redis.url, and the embedded redis-server is not a cluster: list the cluster nodes (cluster: [redis://host:7000, …]) or set redis.url to the cluster proxy',
    });
  if (seeds) {
    const schemes = new Set(seeds.map((s) => s.slice(0, s.indexOf(':')).toLowerCase()));
    if (schemes.size > 1)
      problems.push({ key: 'cluster', message: 'redis.cluster mixes redis:// and rediss:// seeds: every node of a cluster speaks TLS or none does' });
    const passwords = new Set(seeds.map((s) => safeUrl(s)?.password).filter((p) => p));
    if (passwords.size > 1)
      problems.push({ key: 'cluster', message: 'redis.cluster seeds carry different passwords: a cluster has one; set it once with redis.password' });
  }
  if (redis.natMap && !seeds)
    problems.push({ key: 'natMap', message: 'redis.natMap maps the addresses cluster nodes announce: it needs redis.cluster to list seed nodes' });
  return problems;
}

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

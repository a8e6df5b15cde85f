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

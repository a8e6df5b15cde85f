import { Redis, type RedisOptions } from 'ioredis';
import { redactRedisUrl } from '../config/redis-url.js';
import { BridgeError, errorMessage } from '../core/errors.js';

/** Redis did not answer at start-up: the message names the URL tried (password redacted) and what to do. */
export class RedisUnreachableError extends BridgeError {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      'redis_unreachable',
      `cannot connect to Redis at ${redactRedisUrl(url)}: ${errorMessage(cause)}. Start Redis there, or fix redis.url (or the REDIS_URL it reads), or set redis.url: embedded to let the daemon run its own redis-server (see docs/troubleshooting.md#redis-unreachable)`,
      { cause },
    );
    this.name = 'RedisUnreachableError';
  }
}

/**
 * Connects an ioredis client and waits until it is ready. When the first attempt fails, ioredis
 * rejects with a bare "Connection is closed." and keeps retrying in the background; this stops it
 * and throws {@link RedisUnreachableError} with the socket error that really happened
 * (ECONNREFUSED, ENOTFOUND, NOAUTH …).
 */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis(url, { ...options, lazyConnect: true });
  let lastError: unknown;
  const remember = (err: unknown) => (lastError = err);
  redis.on('error', remember);
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new RedisUnreachableError(url, lastError ?? err);
  } finally {
    redis.off('error', remember);
  }
}

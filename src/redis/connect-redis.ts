import { redactRedisUrl } from '../config/redis-url.js';
import { BridgeError, errorMessage } from '../core/errors.js';
import { createRedisClient, type RedisClientOptions } from './create-redis-client.js';
import type { RedisClient } from './redis-client.js';
import type { Redis } from 'ioredis';
import { describeEndpoint, type RedisEndpoint } from './redis-endpoint.js';

/** Redis did not answer at start-up: the message names the URL tried (password redacted) and what to do. */
export class RedisUnreachableError extends BridgeError {
  constructor(
    /** The URL as given (password included: never log it), or the cluster seeds, passwords redacted. */
    readonly url: string,
    cause: unknown,
    cluster = false,
  ) {
    super(
      'redis_unreachable',
      cluster
        ? `cannot connect to the Redis Cluster at ${url}: ${errorMessage(cause)}. Check that the nodes in redis.cluster run and answer CLUSTER SLOTS (redis-cli -c -h <host> -p <port> cluster info), and redis.natMap if nodes announce addresses this host cannot reach (see docs/troubleshooting.md#redis-unreachable)`
        : `cannot connect to Redis at ${redactRedisUrl(url)}: ${errorMessage(cause)}. Start Redis there, or fix redis.url (or the REDIS_URL it reads), or set redis.url: embedded to let the daemon run its own redis-server (see docs/troubleshooting.md#redis-unreachable)`,
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
export async function connectRedis(url: string, options: RedisClientOptions = {}): Promise<Redis> {
  return (await connectRedisClient({ kind: 'single', url }, options)) as Redis;
}

/** {@link connectRedis} for any endpoint: one Redis, or a cluster (ready once its slots are known). */
export async function connectRedisClient(endpoint: RedisEndpoint, options: RedisClientOptions = {}): Promise<RedisClient> {
  const client = createRedisClient(endpoint, { ...options, lazyConnect: true });
  let lastError: unknown;
  const remember = (err: unknown) => (lastError = err);
  client.on('error', remember);
  client.on('node error', remember);
  try {
    await client.connect();
    return client;
  } catch (err) {
    client.disconnect();
    const where = endpoint.kind === 'single' ? endpoint.url : describeEndpoint(endpoint).replace(/^cluster /, '');
    throw new RedisUnreachableError(where, lastError ?? err, endpoint.kind === 'cluster');
  } finally {
    client.off('error', remember);
    client.off('node error', remember);
  }
}

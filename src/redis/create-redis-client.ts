import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { registerSecret } from '../core/secret-redaction.js';
import type { RedisClient } from './redis-client.js';
import type { ClusterRedisEndpoint, RedisEndpoint } from './redis-endpoint.js';

/** The connection settings callers choose; each means the same for one Redis and for a cluster. */
export interface RedisClientOptions {
  /** See ioredis; BullMQ workers need `null`. For a cluster it applies to every node connection. */
  maxRetriesPerRequest?: number | null;
  /** Connect on the first command or `connect()` only. @defaultValue false */
  lazyConnect?: boolean;
  connectTimeout?: number;
  commandTimeout?: number;
  /** Queue commands while disconnected. @defaultValue true */
  enableOfflineQueue?: boolean;
  /** Re-send commands in flight after a reconnect. @defaultValue true */
  autoResendUnfulfilledCommands?: boolean;
  /** Delay before the next reconnect, or null to give up (a cluster: reconnecting to the whole cluster). */
  retryStrategy?: (times: number) => number | null;
}

/**
 * The one place the daemon and the CLI open a Redis connection: a `Redis` for one server, a
 * `Cluster` for `redis.cluster` seeds (BullMQ takes either). Under a cluster the client follows
 * MOVED/ASK redirections and fail-overs by itself: a promoted replica takes its master's slots
 * and commands go on there after a slot refresh.
 */
export function createRedisClient(endpoint: RedisEndpoint, options: RedisClientOptions = {}): RedisClient {
  if (endpoint.kind === 'single') return new Redis(endpoint.url, options as RedisOptions);
  return new Cluster(endpoint.seeds.map(seedNode), clusterOptions(endpoint, options));
}

function seedNode(url: string): ClusterNode {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) };
}

function clusterOptions(endpoint: ClusterRedisEndpoint, options: RedisClientOptions): ClusterOptions {
  const { retryStrategy, lazyConnect, enableOfflineQueue, ...perNode } = options;
  const first = new URL(endpoint.seeds[0]!);
  const password = endpoint.seeds.map((s) => decodeURIComponent(new URL(s).password)).find((p) => p);
  const username = decodeURIComponent(first.username);
  if (password) registerSecret(password);
  const tls = first.protocol === 'rediss:';
  return {
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    // Without it, losing every node ends the client for good; the daemon must outlive a cluster restart.
    clusterRetryStrategy: retryStrategy ?? ((times) => Math.min(100 * times, 2_000)),
    enableReadyCheck: true,
    // A fail-over takes cluster-node-timeout plus an election: keep retrying CLUSTERDOWN/TRYAGAIN meanwhile.
    retryDelayOnClusterDown: 200,
    retryDelayOnFailover: 200,
    retryDelayOnTryAgain: 200,
    ...(endpoint.natMap ? { natMap: natMap(endpoint.natMap) } : {}),
    // TLS certificates name hosts, not the IPs nodes announce: connect by the name given.
    ...(tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    redisOptions: {
      ...perNode,
      ...(password ? { password } : {}),
      ...(username ? { username } : {}),
      ...(tls ? { tls: {} } : {}),
    },
  };
}

function natMap(map: Record<string, string>): Record<string, { host: string; port: number }> {
  return Object.fromEntries(
    Object.entries(map).map(([from, to]) => {
      const at = to.lastIndexOf(':');
      return [from, { host: to.slice(0, at), port: Number(to.slice(at + 1)) }];
    }),
  );
}

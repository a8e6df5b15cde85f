import type { BridgeConfig } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { connectRedisClient } from '../redis/connect-redis.js';
import { EmbeddedRedis } from '../redis/embedded-redis.js';
import type { RedisClient } from '../redis/redis-client.js';
import { describeEndpoint, redisEndpoint, type RedisEndpoint } from '../redis/redis-endpoint.js';

/**
 * The daemon's Redis: an embedded `redis-server` (`redis.url: embedded`), the configured one, or
 * the configured Redis Cluster, and the daemon's own connection to it. The endpoint (passwords
 * included) is what the queues connect with; only its redacted form is logged.
 */
export class DaemonRedis {
  private embedded: EmbeddedRedis | undefined;
  private connection: RedisClient | undefined;
  /** Where Redis is, passwords included; undefined until `start`. */
  endpoint: RedisEndpoint | undefined;

  constructor(
    private readonly config: BridgeConfig['redis'],
    /** A relative embedded `dataDir` is relative to the config file's folder. */
    private readonly configDir: string,
    private readonly log: Logger,
  ) {}

  /** The URL of a single Redis (password included); empty for a cluster or before `start`. */
  get url(): string {
    return this.endpoint?.kind === 'single' ? this.endpoint.url : '';
  }

  /** Starts the embedded server if configured, then connects. After a failure, `stop()` undoes what was done. */
  async start(): Promise<RedisClient> {
    const { config, log } = this;
    if (!Array.isArray(config.cluster) && config.url === 'embedded') {
      this.embedded = new EmbeddedRedis({ dataDir: config.dataDir.startsWith('/') ? config.dataDir : `${this.configDir}/${config.dataDir}` });
      await this.embedded.start();
      this.endpoint = { kind: 'single', url: this.embedded.url };
      log.info(
        { component: 'redis', url: this.embedded.url, dataDir: this.embedded.dataDir, pid: this.embedded.pid },
        `redis: embedded redis-server on ${this.embedded.url} (AOF in ${this.embedded.dataDir})`,
      );
    } else {
      this.endpoint = redisEndpoint(config, Array.isArray(config.cluster) ? undefined : config.url);
    }
    const client = await connectRedisClient(this.endpoint, { maxRetriesPerRequest: null });
    this.connection = client;
    client.on('error', (err) => log.debug({ component: 'redis', err: errorMessage(err) }, 'redis connection error'));
    client.on('node error', (err: unknown, node: string) => log.debug({ component: 'redis', node, err: errorMessage(err) }, 'redis cluster node error'));
    if (!this.embedded) log.info({ component: 'redis', url: describeEndpoint(this.endpoint) }, `redis: connected to ${describeEndpoint(this.endpoint)}`);
    return client;
  }

  /** The daemon's connection; undefined until `start` has connected. */
  get client(): RedisClient | undefined {
    return this.connection;
  }

  /** True while the connection can take commands. */
  get ready(): boolean {
    return this.client?.status === 'ready';
  }

  async stop(): Promise<void> {
    this.connection?.disconnect();
    await this.embedded?.stop();
  }
}

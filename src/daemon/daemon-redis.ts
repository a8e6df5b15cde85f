import type { Redis } from 'ioredis';
import type { BridgeConfig } from '../config/schema.js';
import { redactRedisUrl, redisUrlWithPassword } from '../config/redis-url.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { connectRedis } from '../redis/connect-redis.js';
import { EmbeddedRedis } from '../redis/embedded-redis.js';

/**
 * The daemon's Redis: an embedded `redis-server` (`redis.url: embedded`) or the configured one,
 * and the daemon's own connection to it. The URL (password included) is what the queues connect
 * with; only its redacted form is logged.
 */
export class DaemonRedis {
  private embedded: EmbeddedRedis | undefined;
  private connection: Redis | undefined;
  /** The URL, password included; empty until `start`. */
  url = '';

  constructor(
    private readonly config: BridgeConfig['redis'],
    /** A relative embedded `dataDir` is relative to the config file's folder. */
    private readonly configDir: string,
    private readonly log: Logger,
  ) {}

  /** Starts the embedded server if configured, then connects. After a failure, `stop()` undoes what was done. */
  async start(): Promise<Redis> {
    const { config, log } = this;
    if (config.url === 'embedded') {
      this.embedded = new EmbeddedRedis({ dataDir: config.dataDir.startsWith('/') ? config.dataDir : `${this.configDir}/${config.dataDir}` });
      await this.embedded.start();
      this.url = this.embedded.url;
      log.info(
        { component: 'redis', url: this.url, dataDir: this.embedded.dataDir, pid: this.embedded.pid },
        `redis: embedded redis-server on ${this.url} (AOF in ${this.embedded.dataDir})`,
      );
    } else {
      this.url = redisUrlWithPassword(config.url, config.password);
    }
    const client = await connectRedis(this.url, { maxRetriesPerRequest: null });
    this.connection = client;
    client.on('error', (err) => log.debug({ component: 'redis', err: errorMessage(err) }, 'redis connection error'));
    if (!this.embedded) log.info({ component: 'redis', url: redactRedisUrl(this.url) }, `redis: connected to ${redactRedisUrl(this.url)}`);
    return client;
  }

  /** The daemon's connection; undefined until `start` has connected. */
  get client(): Redis | undefined {
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

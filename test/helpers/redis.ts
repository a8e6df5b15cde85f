import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { EmbeddedRedis } from '../../src/redis/embedded-redis.js';

export interface TestRedis {
  url: string;
  port: number;
  server: EmbeddedRedis;
  /** A new ioredis client (closed by stop()). */
  client(): Redis;
  /** FLUSHALL. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a real redis-server on a free loopback port in a temp dir, one per test file:
 * `const redis = await startTestRedis()` in beforeAll, `await redis.stop()` in afterAll.
 */
export async function startTestRedis(options: { appendOnly?: boolean } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'mb-redis-'));
  const server = new EmbeddedRedis({ dataDir: dir, appendOnly: options.appendOnly ?? false });
  await server.start();
  const clients: Redis[] = [];
  // Tests stop and restart the server on purpose: a refused reconnect is expected, not news.
  const quiet = (c: Redis): Redis => c.on('error', () => undefined);
  const admin = quiet(new Redis(server.url, { maxRetriesPerRequest: null }));
  return {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    server,
    client() {
      const c = quiet(new Redis(server.url, { maxRetriesPerRequest: null }));
      clients.push(c);
      return c;
    },
    async flush() {
      await admin.flushall();
    },
    async stop() {
      for (const c of clients) c.disconnect();
      admin.disconnect();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, connectRedisClient, RedisUnreachableError } from '../../src/redis/connect-redis.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

describe('connectRedis', () => {
  it('connects to a Redis that answers', async () => {
    const client = await connectRedis(redis.url);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('a closed port: names the URL tried (password redacted), the socket error and what to do — not a bare "Connection is closed."', async () => {
    const url = `redis://:hunter2@127.0.0.1:${await closedPort()}/0`;
    const err = await connectRedis(url, { maxRetriesPerRequest: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnreachableError);
    const message = (err as Error).message;
    expect(message).toContain(`cannot connect to Redis at redis://:<secret>@127.0.0.1:${new URL(url).port}/0: connect ECONNREFUSED`);
    expect(message).toContain('fix redis.url');
    expect(message).toContain('docs/troubleshooting.md#redis-unreachable');
    expect(message).not.toContain('hunter2');
    expect((err as RedisUnreachableError).code).toBe('redis_unreachable');
  });

  it('a cluster whose seeds do not answer: names the seeds (passwords redacted), the cause and what to check', async () => {
    const seeds = [`redis://:hunter2@127.0.0.1:${await closedPort()}`, `redis://:hunter2@127.0.0.1:${await closedPort()}`];
    const err = await connectRedisClient({ kind: 'cluster', seeds }, { retryStrategy: () => null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnreachableError);
    const message = (err as Error).message;
    expect(message).toContain(`cannot connect to the Redis Cluster at redis://:<secret>@127.0.0.1:${new URL(seeds[0]!).port}, redis://:<secret>@127.0.0.1:`);
    expect(message).toContain('redis.cluster');
    expect(message).toContain('docs/troubleshooting.md#redis-unreachable');
    expect(message).not.toContain('hunter2');
  });
});

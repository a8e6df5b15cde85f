import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { queueName } from '../../src/queue/queue-names.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { baseUrl, startDaemon, until, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const TOKEN = 'dash-display-token-5d1e';
const PREFIX = 'dashview';
let redis: TestRedis;
let client: Redis;
let ok: WebhookReceiver;
let rejecting: WebhookReceiver;
let daemon: Daemon;

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
  ok = await startWebhookReceiver();
  rejecting = await startWebhookReceiver();
  rejecting.injectStatus(400, 1_000);
  process.env.MB_TEST_DISPLAY_TOKEN = TOKEN;
  daemon = await startDaemon(
    writeConfig(`
redis: { url: "${redis.url}", keyPrefix: ${PREFIX} }
server: { port: 0, adminToken: "\${MB_TEST_DISPLAY_TOKEN}" }
shutdown: { grace: 1s }
connectors:
  free: { type: webhook, url: "${ok.url}", allowPrivateNetworks: true }
  limited: { type: webhook, url: "${ok.url}", allowPrivateNetworks: true, rateLimit: { max: 1, duration: 30s } }
  rejected: { type: webhook, url: "${rejecting.url}", allowPrivateNetworks: true }
routes:
  - { name: all, to: [free, limited, rejected] }
`),
  );
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await ok?.stop();
  await rejecting?.stop();
  client?.disconnect();
  await redis?.stop();
});

interface ApiQueue {
  name: string;
  displayName?: string;
  description?: string;
  activeRateLimitTtl: number;
  jobs: { id: string; failedReason?: string; stacktrace: string[] }[];
}

async function apiQueues(query = ''): Promise<Map<string, ApiQueue>> {
  const res = await fetch(`${baseUrl(daemon)}/admin/queues/api/queues${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { queues: ApiQueue[] };
  return new Map(body.queues.map((q) => [q.displayName ?? q.name, q]));
}

let seq = 0;
function event(): BridgeEvent {
  seq++;
  return { id: `test:moment:${seq}`, source: 'test', kind: 'moment', time: new Date().toISOString(), data: { n: seq } };
}

describe('queue dashboard: what it shows', () => {
  it('shows a queue as rate limited only when the connector has a rate limit', async () => {
    const limiterKey = (connector: string) => `${PREFIX}:${queueName(connector)}:limiter`;
    // The worker's stand-in limiter leaves a live limiter key for its 1 s window after each job;
    // the old dashboard showed that as "rate limited 1s". Check inside that window: send until a
    // scrape is bracketed by a live key (a busy machine may take longer than 1 s per round).
    let seen: Map<string, ApiQueue> | undefined;
    for (let round = 0; round < 10 && !seen; round++) {
      const before = ok.received.length;
      await daemon.pipeline!.accept(event());
      await until('delivered to free', () => ok.received.length > before);
      const pttlBefore = await client.pttl(limiterKey('free'));
      const queues = await apiQueues();
      const pttlAfter = await client.pttl(limiterKey('free'));
      if (pttlBefore > 0 && pttlAfter > 0) seen = queues;
    }
    expect(seen, 'never scraped inside the limiter window').toBeDefined();
    expect(seen!.get('free')!.activeRateLimitTtl).toBe(0);
    expect(seen!.get('free')!.description).not.toMatch(/rate limit/);
    // max 1 per 30 s: after one delivery the configured limit does hold the queue back.
    const limited = seen!.get('limited')!;
    expect(limited.activeRateLimitTtl).toBeGreaterThan(1_000);
    expect(limited.activeRateLimitTtl).toBeLessThanOrEqual(30_000);
    expect(limited.description).toContain('rate limit: 1 per 30000 ms');

    // A sink's Retry-After pauses the queue the same way the worker does (queue.rateLimit): shown.
    const free = daemon.deliveryQueues!.bullQueues().get('free')!;
    await free.rateLimit(20_000);
    try {
      expect((await apiQueues()).get('free')!.activeRateLimitTtl).toBeGreaterThan(1_000);
    } finally {
      await free.removeRateLimitKey();
    }
  }, 60_000);

  it('shows a classified failure (HTTP 400) as its message, with no stack trace', async () => {
    await daemon.pipeline!.accept(event());
    const name = queueName('rejected');
    const failed = await until('a dead letter on rejected', async () => {
      const q = (await apiQueues(`?activeQueue=${encodeURIComponent(name)}&status=failed`)).get('rejected');
      return q && q.jobs.length > 0 && q;
    });
    const job = failed.jobs[0]!;
    expect(job.failedReason).toMatch(/^HTTP 400/);
    // An empty stacktrace makes the dashboard's Error tab show failedReason instead of a trace.
    expect(job.stacktrace).toEqual([]);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigLoadError, formatIssue, parseConfig } from '../../src/config/load-config.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { eventId } from '../../src/core/event.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import { queueName } from '../../src/queue/queue-names.js';
import { digestWindowSize } from '../helpers/digest-window-size.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { startDaemon, until, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const FILE = '/etc/bridge/config.yaml';

async function issuesOf(text: string): Promise<string[]> {
  try {
    await parseConfig(text, FILE, { env: {} });
  } catch (err) {
    if (err instanceof ConfigLoadError) return err.issues.map(formatIssue);
    throw err;
  }
  return [];
}

describe('redis.dedupTtl (how long delivery ids stay claimed)', () => {
  it('defaults to 24 h and takes a duration or milliseconds', async () => {
    expect((await parseConfig('redis: { url: embedded }\n', FILE, { env: {} })).config.redis.dedupTtl).toBe(86_400_000);
    expect((await parseConfig('redis: { dedupTtl: 90m }\n', FILE, { env: {} })).config.redis.dedupTtl).toBe(5_400_000);
    expect((await parseConfig('redis: { dedupTtl: 120000 }\n', FILE, { env: {} })).config.redis.dedupTtl).toBe(120_000);
  });

  it('rejects a non-duration and a window under 1 s, naming the field and its line', async () => {
    const bad = await issuesOf('redis:\n  dedupTtl: soon\n');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^\/etc\/bridge\/config\.yaml:2:\d+ {2}redis\.dedupTtl {2}.*soon/);
    const short = await issuesOf('redis:\n  dedupTtl: 10ms\n');
    expect(short).toEqual([expect.stringMatching(/redis\.dedupTtl {2}must be at least 1s \(got 10 ms\)$/)]);
  });
});

describe('the daemon claims delivery ids for redis.dedupTtl', () => {
  let redis: TestRedis;
  let sink: WebhookReceiver;
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
    sink = await startWebhookReceiver();
  });

  afterAll(async () => {
    await daemon?.stop();
    await sink?.stop();
    await redis?.stop();
  });

  it('claims an enqueued delivery for the configured window (at most 1/12 longer), and a repeat inside it is a duplicate', async () => {
    const file = writeConfig(`
redis: { url: "${redis.url}", keyPrefix: ttl, dedupTtl: 2m }
server: { enabled: false }
shutdown: { grace: 1s }
connectors:
  hook: { type: webhook, url: "${sink.url}", allowPrivateNetworks: true }
routes:
  - { name: all, match: { kind: note }, to: [hook] }
`);
    daemon = await startDaemon(file, { sources: false });
    const event = { id: eventId('test', 'note', 'n-1'), source: 'test', kind: 'note', time: new Date().toISOString(), data: { text: 'hello' } };
    await daemon.pipeline!.accept(event);
    await until('the delivery', () => sink.received.length === 1);

    const claims = `ttl:${queueName('hook')}:claims`;
    expect(await digestWindowSize(redis.client(), claims)).toBe(1);
    const [shard] = await redis.client().keys(`${claims}:*`);
    const pttl = await redis.client().pttl(shard!);
    // Claimed for 2 minutes (not the 24 h default) from the enqueue a moment ago, plus at most one
    // 10 s bucket; the former layout's dedup key is not written.
    expect(pttl).toBeGreaterThan(110_000);
    expect(pttl).toBeLessThanOrEqual(130_000);
    expect(await redis.client().exists(`ttl:${queueName('hook')}:de:${deliveryId(event.id, 'all', 'hook')}`)).toBe(0);

    // The delivered job may be trimmed; the claim alone keeps the repeat out.
    await daemon.pipeline!.accept(event);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.received).toHaveLength(1);
  });
});

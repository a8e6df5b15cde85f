import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { webhookConnector, type WebhookPayload } from '../../../connectors/webhook/index.js';
import type { Connector } from '../../../connectors/connector.js';
import { InputError } from '../../../src/core/errors.js';
import { showDeadLetter } from '../../../src/queue/dead-letters.js';
import type { DeliveryQueues } from '../../../src/queue/delivery-queues.js';
import { clearSecrets } from '../../../src/core/secret-redaction.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../simulators/sinks/webhook/webhook-receiver.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { until } from '../../helpers/daemon-kit.js';
import { makeQueues } from '../../queue/queue-test-kit.js';
import { capturingLogger, connectorContext, delivery, momentEvent, noSignal } from '../fixtures.js';

const token = (): string => randomBytes(18).toString('base64url');
const BEARER = token();
const API_KEY = token();
const QUERY_TOKEN = token();
const URL_PASSWORD = token();
const ALL_SECRETS = [BEARER, API_KEY, QUERY_TOKEN, URL_PASSWORD];

let redis: TestRedis;
let client: Redis;
let hook: WebhookReceiver;

async function make(config: Record<string, unknown>, ctx = {}): Promise<Connector<WebhookPayload>> {
  const parsed = webhookConnector.configSchema.parse({ type: 'webhook', allowPrivateNetworks: true, ...config });
  return (await webhookConnector.create(parsed, connectorContext(client, ctx))) as Connector<WebhookPayload>;
}

function withCredentials(): Record<string, unknown> {
  const u = new URL(`${hook.url}hooks/moments?tenant=club-a&token=${QUERY_TOKEN}`);
  return { url: u.toString(), headers: { Authorization: `Bearer ${BEARER}`, 'x-api-key': API_KEY, 'x-tenant': '{{ data.clientId }}' } };
}

function expectNoSecret(text: string, where: string): void {
  for (const s of ALL_SECRETS) expect(text.includes(s), `${where} holds a credential`).toBe(false);
}

/** Every value under `prefix` in Redis, as text: hashes, lists, sets, sorted sets, strings, streams. */
async function dumpRedis(prefix: string): Promise<string> {
  const keys = await client.keys(`${prefix}*`);
  const out: string[] = [];
  for (const key of keys) {
    const type = await client.type(key);
    if (type === 'hash') out.push(JSON.stringify(await client.hgetall(key)));
    else if (type === 'list') out.push(JSON.stringify(await client.lrange(key, 0, -1)));
    else if (type === 'set') out.push(JSON.stringify(await client.smembers(key)));
    else if (type === 'zset') out.push(JSON.stringify(await client.zrange(key, '0', '-1')));
    else if (type === 'string') out.push((await client.get(key)) ?? '');
    else if (type === 'stream') out.push(JSON.stringify(await client.xrange(key, '-', '+')));
  }
  return `${keys.length} keys: ${out.join('\n')}`;
}

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  hook = await startWebhookReceiver();
});
afterAll(async () => {
  await hook.stop();
  await redis.stop();
  clearSecrets();
});
beforeEach(() => hook.reset());

describe('webhook credentials are applied at delivery, never queued', () => {
  it('the rendered payload holds no credential; the receiver gets all of them', async () => {
    const c = await make(withCredentials());
    const payload = c.renderer().render(momentEvent) as WebhookPayload;
    expectNoSecret(JSON.stringify(payload), 'the payload');
    expect(payload.url).toBe(`${hook.url}hooks/moments?tenant=<secret>&token=<secret>`);
    expect(payload.headers).toEqual({ 'x-tenant': 'club-a' });
    expect(payload.staticHeaders).toEqual(['Authorization', 'x-api-key']);
    expect((await c.deliver(delivery(payload), noSignal())).status).toBe('delivered');
    const got = hook.received[0]!;
    expect(got.headers.authorization).toBe(`Bearer ${BEARER}`);
    expect(got.headers['x-api-key']).toBe(API_KEY);
    expect(got.headers['x-tenant']).toBe('club-a');
    expect(got.search).toBe(`?tenant=club-a&token=${QUERY_TOKEN}`);
  });

  it('URL userinfo is a credential too: stripped from the payload, sent as Basic auth', async () => {
    const u = new URL(`${hook.url}h`);
    u.username = 'bridge';
    u.password = URL_PASSWORD;
    const c = await make({ url: u.toString() });
    const payload = c.renderer().render(momentEvent) as WebhookPayload;
    expectNoSecret(JSON.stringify(payload), 'the payload');
    expect(payload.url).toBe(`${hook.url}h`);
    expect((await c.deliver(delivery(payload), noSignal())).status).toBe('delivered');
    expect(hook.received[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`bridge:${URL_PASSWORD}`).toString('base64')}`);
  });

  it('a rotated credential applies to deliveries queued before the reload', async () => {
    const old = await make({ url: `${hook.url}r`, headers: { Authorization: 'Bearer old-token-123456' } });
    const queued = old.renderer().render(momentEvent) as WebhookPayload;
    const rotated = await make({ url: `${hook.url}r`, headers: { Authorization: `Bearer ${BEARER}` } });
    expect((await rotated.deliver(delivery(queued), noSignal())).status).toBe('delivered');
    expect(hook.received[0]!.headers.authorization).toBe(`Bearer ${BEARER}`);
  });

  it('a delivery queued before the URL changed goes to the connector’s current target, with its current credentials', async () => {
    const old = await make({ url: `${hook.url}gone`, headers: { 'x-api-key': 'old-key-000000' } });
    const queued = old.renderer().render(momentEvent) as WebhookPayload;
    const now = await make({ url: `${hook.url}elsewhere`, headers: { 'x-api-key': API_KEY } });
    const result = await now.deliver(delivery(queued), noSignal());
    expect(result.status).toBe('delivered');
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]).toMatchObject({ path: '/elsewhere', headers: expect.objectContaining({ 'x-api-key': API_KEY }) });
  });

  it('with several targets and none matching, the delivery is permanent, saying what to do', async () => {
    const old = await make({ url: `${hook.url}gone`, headers: { 'x-api-key': API_KEY } });
    const queued = old.renderer().render(momentEvent) as WebhookPayload;
    const now = await make({ url: `${hook.url}elsewhere`, headers: { 'x-api-key': API_KEY } });
    now.renderer({ url: `${hook.url}second` });
    const result = await now.deliver(delivery(queued), noSignal());
    expect(result).toMatchObject({ status: 'permanent', reason: expect.stringMatching(/no longer sends to.*several other targets.*dlq retry/) });
    expect(hook.requests).toHaveLength(0);
  });

  it('two route targets differing only in credentials are refused at compile time', async () => {
    const c = await make({ url: `${hook.url}x`, headers: { Authorization: `Bearer ${BEARER}` } });
    expect(() => c.renderer({ headers: { Authorization: `Bearer ${API_KEY}` } })).toThrow(InputError);
    expect(() => c.renderer({ headers: { Authorization: `Bearer ${API_KEY}` } })).toThrow(/different credentials.*separate connector/);
    expect(() => c.renderer({ url: `${hook.url}y`, headers: { Authorization: `Bearer ${API_KEY}` } })).not.toThrow();
  });

  it('jobs already queued by an older version (full url and headers in the payload) are still sent as they are', async () => {
    const c = await make({ url: `${hook.url}new` });
    const legacy: WebhookPayload = { url: `${hook.url}legacy?k=v`, method: 'POST', headers: { 'x-legacy': 'yes' }, body: '{}' };
    expect((await c.deliver(delivery(legacy), noSignal())).status).toBe('delivered');
    expect(hook.received[0]).toMatchObject({ path: '/legacy', search: '?k=v', headers: expect.objectContaining({ 'x-legacy': 'yes' }) });
  });
});

describe('through the queue: Redis, the dead letter and the logs hold no credential', () => {
  let queues: DeliveryQueues;
  afterAll(() => queues?.close());

  it('delivers with the credentials; a receiver echoing them in a 400 leaves a truncated, redacted dead letter', async () => {
    const { logger, lines } = capturingLogger();
    const prefix = 'mbcred';
    const c = await make(withCredentials(), { logger });
    queues = makeQueues(redis.url, prefix, { hooks: { connector: c, options: { retry: { maxAttempts: 2, backoff: 10 } } } }, { logger });
    const renderer = c.renderer();
    const ev = (n: number) => ({ ...momentEvent, id: `moments:moment:cred-${n}` });
    await queues.enqueue([{ event: ev(1), route: 'r1', connector: 'hooks', payload: renderer.render(ev(1)) }]);
    // Before any worker runs, the queued job is in Redis: it must not hold a credential.
    expectNoSecret(await dumpRedis(prefix), 'Redis (queued job)');

    await queues.startWorkers();
    await until('first delivery', () => hook.received.length === 1);
    expect(hook.received[0]!.headers.authorization).toBe(`Bearer ${BEARER}`);
    expect(hook.received[0]!.search).toContain(QUERY_TOKEN);

    hook.injectEcho(400);
    await queues.enqueue([{ event: ev(2), route: 'r1', connector: 'hooks', payload: renderer.render(ev(2)) }]);
    const dead = await until('dead letter', async () => {
      const ids = await client.zrange(`${prefix}:${[...queues.bullQueues().values()][0]!.name}:failed`, '0', '-1');
      return ids.length ? showDeadLetter(client, { prefix, connector: 'hooks', id: ids[0]! }) : undefined;
    });
    // The receiver did echo the credentials…
    expect(hook.requests.at(-1)!.status).toBe(400);
    // …but the dead letter holds a redacted prefix of the answer.
    expect(dead.reason).toMatch(/^HTTP 400: POST \/hooks\/moments\?tenant=club-a&token=<secret>/);
    expect(dead.reason).toContain('authorization: <secret>');
    expectNoSecret(JSON.stringify(dead), 'the dead letter');
    expect(JSON.stringify(dead.history)).toContain('<secret>');
    expect(dead.history[0]!.reason.length).toBeLessThanOrEqual(1100);
    expectNoSecret(await dumpRedis(prefix), 'Redis (after the dead letter)');
    expect(lines.join('\n')).toContain('dead-lettered');
    expectNoSecret(lines.join('\n'), 'the log');
  });
});

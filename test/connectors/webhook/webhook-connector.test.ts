import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { webhookConnector, type WebhookPayload } from '../../../connectors/webhook/index.js';
import { isPrivateAddress } from '../../../connectors/webhook/ssrf-guard.js';
import type { Connector, DeliveryResult } from '../../../connectors/connector.js';
import { InputError, PayloadError } from '../../../src/core/errors.js';
import { clearSecrets } from '../../../src/core/secret-redaction.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../simulators/sinks/webhook/webhook-receiver.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { capturingLogger, connectorContext, delivery, momentEvent, noSignal, observerRowEvent } from '../fixtures.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
let redis: TestRedis;
let client: Redis;
let hook: WebhookReceiver;

async function make(config: Record<string, unknown> = {}, ctxOverrides = {}): Promise<Connector<WebhookPayload>> {
  const parsed = webhookConnector.configSchema.parse({
    type: 'webhook',
    url: `${hook.url}hooks/moments`,
    secret: SECRET,
    allowPrivateNetworks: true,
    ...config,
  });
  return (await webhookConnector.create(parsed, connectorContext(client, ctxOverrides))) as Connector<WebhookPayload>;
}

async function send(c: Connector<WebhookPayload>, event = momentEvent, id = 'dlv-1', signal = noSignal()): Promise<DeliveryResult> {
  return c.deliver(delivery(c.renderer().render(event) as WebhookPayload, event, id), signal);
}

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  hook = await startWebhookReceiver({ secret: SECRET });
});
afterAll(async () => {
  await hook.stop();
  await redis.stop();
  clearSecrets();
});
beforeEach(() => hook.reset());

describe('webhook payloads (written by hand)', () => {
  it('sends the whole event by default', async () => {
    const c = await make();
    const p = c.renderer().render(observerRowEvent) as WebhookPayload;
    expect(p).toEqual({ url: `${hook.url}hooks/moments`, method: 'POST', headers: {}, staticHeaders: [], body: expect.any(String) });
    expect(JSON.parse(p.body)).toEqual({
      id: 'calls:observer.row:call-9:17',
      source: 'calls',
      kind: 'observer.row',
      time: '2025-06-01T12:01:00.000Z',
      data: { callId: 'call-9', roomId: 'standup', clientsCount: 3, avgRttMs: 41.5, packetLossPct: 0.2 },
    });
  });

  it('renders a body template for a moment (objects stay objects)', async () => {
    const c = await make({
      method: 'PUT',
      headers: { 'x-tenant': '{{ data.clientId }}' },
      body: { type: 'moment.created', athlete: '{{ data.athleteId }}', title: '{{ data.triggerName }} ({{ data.eventId }})', matches: '{{ data.matches }}' },
    });
    const p = c.renderer().render(momentEvent) as WebhookPayload;
    expect(p.method).toBe('PUT');
    expect(p.headers).toEqual({ 'x-tenant': 'club-a' });
    expect(JSON.parse(p.body)).toEqual({
      type: 'moment.created',
      athlete: 'ath-7',
      title: 'HR > 170 (42)',
      matches: [
        { metric: 'heartrate', subMetric: 'bpm', value: 182 },
        { metric: 'speed', subMetric: 'kmh', value: 27.456 },
      ],
    });
  });

  it('rejects a body over maxBodyBytes at enqueue (PayloadError)', async () => {
    const c = await make({ maxBodyBytes: 100 });
    expect(() => c.renderer().render(momentEvent)).toThrow(PayloadError);
    expect(() => c.renderer().render(momentEvent)).toThrow(/the limit is maxBodyBytes = 100/);
  });

  it('rejects bad overrides (InputError) and bad config (zod)', async () => {
    const c = await make();
    expect(() => c.renderer({ secret: 'x' })).toThrow(InputError);
    expect(() => c.renderer({ headers: { 'x-a': '{{ data | nope }}' } })).toThrow(/cannot compile template/);
    const base = { type: 'webhook', url: 'https://example.com/h' };
    expect(webhookConnector.configSchema.safeParse({ ...base, headers: { 'webhook-signature': 'x' } }).success).toBe(false);
    expect(webhookConnector.configSchema.safeParse({ ...base, secret: 'plain-secret' }).error?.issues[0]?.message).toMatch(/whsec_/);
    expect(webhookConnector.configSchema.safeParse({ ...base, url: 'ftp://example.com/' }).success).toBe(false);
  });
});

describe('webhook delivery against the local receiver', () => {
  it('2xx is delivered with a Standard Webhooks signature the reference library accepts', async () => {
    const c = await make({ method: 'PUT', headers: { 'x-tenant': '{{ data.clientId }}' } });
    expect(await send(c, momentEvent, 'dlv-42')).toEqual({ status: 'delivered', info: { status: 204 } });
    expect(hook.received).toHaveLength(1);
    const got = hook.received[0]!;
    expect(got).toMatchObject({ method: 'PUT', path: '/hooks/moments', id: 'dlv-42', verified: true });
    expect(got.headers['x-tenant']).toBe('club-a');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    // The event as receivers know it (PRODUCT.md §4): the summary for the bridge's own layouts stays home.
    const { summary: _summary, ...contractEvent } = momentEvent;
    expect(got.body).toEqual(JSON.parse(JSON.stringify(contractEvent)));
  });

  it('a retry keeps the webhook-id so the receiver can deduplicate', async () => {
    const c = await make();
    hook.injectStatus(503);
    expect((await send(c, momentEvent, 'dlv-7')).status).toBe('retry');
    expect((await send(c, momentEvent, 'dlv-7')).status).toBe('delivered');
    expect(hook.requests.map((r) => [r.id, r.status])).toEqual([
      ['dlv-7', 503],
      ['dlv-7', 204],
    ]);
  });

  it('a receiver with another secret answers 401: permanent', async () => {
    const other = await startWebhookReceiver({ secret: `whsec_${randomBytes(24).toString('base64')}` });
    try {
      const c = await make({ url: other.url });
      expect(await send(c)).toMatchObject({ status: 'permanent', reason: expect.stringContaining('HTTP 401'), detail: { status: 401 } });
      expect(other.requests[0]!.verified).toBe(false);
    } finally {
      await other.stop();
    }
  });

  it.each([
    [410, undefined, 'permanent', undefined],
    [400, undefined, 'permanent', undefined],
    [404, undefined, 'permanent', undefined],
    [408, undefined, 'retry', undefined],
    [429, '30', 'retry', 30_000],
    [500, undefined, 'retry', undefined],
    [502, undefined, 'retry', undefined],
    [503, '2', 'retry', 2000],
  ] as const)('HTTP %i (Retry-After %s) → %s', async (status, retryAfter, outcome, retryAfterMs) => {
    const c = await make();
    hook.injectStatus(status, 1, retryAfter);
    const result = await send(c);
    expect(result).toMatchObject({ status: outcome, reason: expect.stringContaining(`HTTP ${status}`) });
    expect((result as { retryAfterMs?: number }).retryAfterMs).toBe(retryAfterMs);
    if (outcome === 'retry') {
      expect((await send(c)).status).toBe('delivered');
      expect(hook.received).toHaveLength(1);
    }
  });

  it('Retry-After as an HTTP date', async () => {
    const c = await make();
    hook.injectStatus(429, 1, new Date(Date.now() + 60_000).toUTCString());
    const result = (await send(c)) as { retryAfterMs?: number };
    expect(result.retryAfterMs).toBeGreaterThan(55_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('a timeout is retryable, and the next attempt succeeds', async () => {
    const c = await make();
    hook.injectDelay(3000);
    expect(await send(c, momentEvent, 'dlv-t', AbortSignal.timeout(150))).toMatchObject({ status: 'retry', reason: expect.stringContaining('network error') });
    expect((await send(c, momentEvent, 'dlv-t')).status).toBe('delivered');
  });

  it('a header that cannot be sent (a line break from upstream data) is permanent, nothing sent', async () => {
    const withBreak = await make({ headers: { 'x-athlete': '{{ data.athleteId }}' } });
    const evil = { ...momentEvent, data: { ...(momentEvent.data as Record<string, unknown>), athleteId: 'a\r\nx-injected: 1' } };
    const r1 = await send(withBreak, evil);
    expect(r1).toMatchObject({ status: 'permanent', reason: expect.stringContaining('cannot be sent as rendered') });
    expect(hook.received).toHaveLength(0);
  });

  it('a refused connection is retryable', async () => {
    const gone = await startWebhookReceiver();
    await gone.stop();
    const c = await make({ url: gone.url });
    expect(await send(c)).toMatchObject({ status: 'retry', reason: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('SSRF guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fe80::1', true],
    ['fd12:3456::1', true],
    ['::ffff:127.0.0.1', true],
    ['8.8.8.8', false],
    ['93.184.216.34', false],
    ['2606:4700:4700::1111', false],
  ])('%s private: %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it('refuses a loopback IP literal without sending anything', async () => {
    const c = await make({ allowPrivateNetworks: false });
    expect(await send(c)).toMatchObject({ status: 'permanent', reason: expect.stringContaining('allowPrivateNetworks') });
    expect(hook.requests).toHaveLength(0);
  });

  it('refuses a host name that resolves to loopback (checked in the socket lookup)', async () => {
    const port = new URL(hook.url).port;
    const c = await make({ url: `http://localhost:${port}/x`, allowPrivateNetworks: false });
    expect(await send(c)).toMatchObject({ status: 'permanent', reason: expect.stringMatching(/refusing to connect to localhost \((127\.0\.0\.1|::1)\)/) });
    expect(hook.requests).toHaveLength(0);
    const allowed = await make({ url: `http://localhost:${port}/x`, allowPrivateNetworks: true });
    expect((await send(allowed)).status).toBe('delivered');
  });
});

describe('secrets', () => {
  it('never writes the signing secret into logs or delivery results', async () => {
    const { logger, lines } = capturingLogger();
    const c = await make({}, { logger });
    const results = [await send(c)];
    hook.injectStatus(401);
    results.push(await send(c));
    for (const r of results) logger.info({ result: r }, 'delivery result');
    expect(lines).toHaveLength(2);
    const all = lines.join('\n') + JSON.stringify(results) + JSON.stringify(hook.requests.map((r) => r.headers));
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(SECRET.slice('whsec_'.length));
  });
});

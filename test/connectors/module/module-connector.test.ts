import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { moduleConnector } from '../../../connectors/module/index.js';
import type { Connector } from '../../../connectors/connector.js';
import { ConfigValidationError } from '../../../src/core/config-error.js';
import { InputError, PayloadError } from '../../../src/core/errors.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../simulators/sinks/webhook/webhook-receiver.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { connectorContext, delivery, momentEvent, noSignal, observerRowEvent } from '../fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
let redis: TestRedis;
let client: Redis;
let sink: WebhookReceiver;

function load(config: Record<string, unknown>): Promise<Connector> {
  const parsed = moduleConnector.configSchema.parse({ type: 'module', ...config });
  // Paths are relative to the config file's directory.
  return Promise.resolve(moduleConnector.create(parsed, connectorContext(client, { configDir: here })));
}

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  sink = await startWebhookReceiver();
});
afterAll(async () => {
  await sink.stop();
  await redis.stop();
});
beforeEach(() => sink.reset());

describe('type: module', () => {
  it('loads the documented example from a path relative to the config and delivers through it', async () => {
    const c = await load({ path: './fixtures/ntfy-connector.js', options: { url: sink.url, topic: 'coaches' } });
    expect(c.defaults).toEqual({ rateLimit: { max: 5, duration: 1000 } });
    const payload = c.renderer().render(momentEvent);
    expect(payload).toEqual({ title: 'HR > 170', text: 'Athlete ath-7 heart rate 182 bpm' });
    expect(await c.deliver(delivery(payload), noSignal())).toEqual({ status: 'delivered' });
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]).toMatchObject({ path: '/coaches', raw: 'Athlete ath-7 heart rate 182 bpm' });
    expect(sink.received[0]!.headers.title).toBe('HR > 170');

    sink.injectStatus(429, 1, '4');
    expect(await c.deliver(delivery(payload), noSignal())).toEqual({ status: 'retry', reason: 'HTTP 429', retryAfterMs: 4000 });
    sink.injectStatus(410);
    expect(await c.deliver(delivery(payload), noSignal())).toMatchObject({ status: 'permanent', reason: 'HTTP 410' });
  });

  it("validates the module's options with its own schema, naming the config path", async () => {
    const err = await load({ path: './fixtures/ntfy-connector.js', options: { url: 'not a url' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigValidationError);
    const paths = (err as ConfigValidationError).issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['connectors.c1.options.url', 'connectors.c1.options.topic']));
  });

  it.each([
    ['a missing file', { path: './fixtures/nope.js' }, 'module_load_failed', /cannot load .*nope\.js/],
    [
      'an export that is not a plugin',
      { path: './fixtures/misbehaving-connector.js', export: 'notAPlugin' },
      'module_invalid',
      /exports .*garbage.*notAPlugin.*throwing|must be a connector plugin/,
    ],
    ['a missing export', { path: './fixtures/misbehaving-connector.js' }, 'module_invalid', /export "default"/],
  ])('refuses %s with a clear InputError', async (_n, config, code, message) => {
    const err = await load(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe(code);
    expect((err as Error).message).toMatch(message);
  });

  it('turns a module that throws in deliver into a retryable result', async () => {
    const c = await load({ path: './fixtures/misbehaving-connector.js', export: 'throwing' });
    expect(await c.deliver(delivery({}), noSignal())).toEqual({ status: 'retry', reason: expect.stringContaining('deliver threw: boom') });
  });

  it('turns a malformed result into a permanent one, and render errors into PayloadError / InputError', async () => {
    const c = await load({ path: './fixtures/misbehaving-connector.js', export: 'garbage' });
    expect(await c.deliver(delivery({}), noSignal())).toMatchObject({ status: 'permanent', reason: expect.stringContaining('deliver returned "ok"') });
    expect(() => c.renderer().render(observerRowEvent)).toThrow(PayloadError);
    const ntfy = await load({ path: './fixtures/ntfy-connector.js', options: { url: sink.url, topic: 't' } });
    expect(() => ntfy.renderer({ channel: '#x' })).toThrow(InputError);
    expect(() => ntfy.renderer({ channel: '#x' })).toThrow(/unknown override keys: channel/);
  });
});

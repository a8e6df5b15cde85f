import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { pagerdutyConnector, type PagerdutyPayload } from '../../../connectors/pagerduty/index.js';
import type { Connector, DeliveryResult } from '../../../connectors/connector.js';
import { InputError, PayloadError } from '../../../src/core/errors.js';
import { clearSecrets } from '../../../src/core/secret-redaction.js';
import { startPagerdutyServer, type PagerdutyServer } from '../../../simulators/sinks/pagerduty/pagerduty-server.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import type { BridgeEvent } from '../../../src/core/event.js';
import { capturingLogger, connectorContext, delivery, momentEvent, noSignal, observerRowEvent, withSummary } from '../fixtures.js';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
let redis: TestRedis;
let client: Redis;
let pd: PagerdutyServer;

async function make(config: Record<string, unknown> = {}, ctxOverrides = {}): Promise<Connector<PagerdutyPayload>> {
  const parsed = pagerdutyConnector.configSchema.parse({ type: 'pagerduty', routingKey: ROUTING_KEY, url: pd.url, ...config });
  return (await pagerdutyConnector.create(parsed, connectorContext(client, ctxOverrides))) as Connector<PagerdutyPayload>;
}

async function send(
  c: Connector<PagerdutyPayload>,
  event = momentEvent,
  overrides: Record<string, unknown> = {},
  signal = noSignal(),
): Promise<DeliveryResult> {
  return c.deliver(delivery(c.renderer(overrides).render(event) as PagerdutyPayload, event), signal);
}

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  pd = await startPagerdutyServer({ routingKeys: [ROUTING_KEY] });
});
afterAll(async () => {
  await pd.stop();
  await redis.stop();
  clearSecrets();
});
beforeEach(() => pd.reset());

describe('PagerDuty payloads (written by hand)', () => {
  it('renders a moment as a trigger grouped by trigger + athlete + event', async () => {
    const c = await make();
    expect(c.renderer().render(momentEvent)).toEqual({
      event_action: 'trigger',
      dedup_key: 'moment:t-hr170:ath-7:42',
      client: 'moments-bridge',
      payload: {
        summary: 'HR > 170: Athlete ath-7 heart rate 182 bpm',
        source: 'moments',
        severity: 'error',
        timestamp: '2025-06-01T12:00:05.000Z',
        custom_details: {
          publicId: 'm-1001',
          triggerPublicId: 't-hr170',
          clientId: 'club-a',
          athleteId: 'ath-7',
          eventId: 42,
          triggerName: 'HR > 170',
          triggerMarker: 'red',
          moment: 'Athlete ath-7 heart rate 182 bpm',
          matches: [
            { metric: 'heartrate', subMetric: 'bpm', value: 182 },
            { metric: 'speed', subMetric: 'kmh', value: 27.456 },
          ],
          createdAt: '2025-06-01T12:00:05.000Z',
        },
      },
    });
  });

  it('renders an Observer row keyed by its event id', async () => {
    const c = await make();
    expect(c.renderer().render(observerRowEvent)).toEqual({
      event_action: 'trigger',
      dedup_key: 'calls:observer.row:call-9:17',
      client: 'moments-bridge',
      payload: {
        summary: 'observer.row from calls (calls:observer.row:call-9:17)',
        source: 'calls',
        severity: 'error',
        timestamp: '2025-06-01T12:01:00.000Z',
        custom_details: { callId: 'call-9', roomId: 'standup', clientsCount: 3, avgRttMs: 41.5, packetLossPct: 0.2 },
      },
    });
  });

  it('renders an event of a kind it does not know through the summary its source gave', async () => {
    const c = await make();
    const weather: BridgeEvent = {
      id: 'wx:weather.alert:w-1',
      source: 'wx',
      kind: 'weather.alert',
      time: '2025-06-01T13:00:00.000Z',
      data: { zone: 'north' },
      summary: { title: 'Storm warning', text: 'Gusts up to 90 km/h', groupKey: 'storm:north' },
    };
    expect(c.renderer().render(weather)).toEqual({
      event_action: 'trigger',
      dedup_key: 'storm:north',
      client: 'moments-bridge',
      payload: {
        summary: 'Storm warning: Gusts up to 90 km/h',
        source: 'wx',
        severity: 'error',
        timestamp: '2025-06-01T13:00:00.000Z',
        custom_details: { zone: 'north' },
      },
    });
    // Without a summary (or without its sentence): kind, source and id; keyed by the event id.
    const bare = c.renderer().render({ ...weather, summary: undefined }) as PagerdutyPayload;
    expect(bare.dedup_key).toBe('wx:weather.alert:w-1');
    expect(bare.payload!.summary).toBe('weather.alert from wx (wx:weather.alert:w-1)');
    expect((await send(c, weather)).status).toBe('delivered');
  });

  it('renders every configured field from templates', async () => {
    const c = await make({
      clientUrl: 'https://bridge.example/',
      summary: '{{ data.triggerName }} for {{ data.athleteId }}',
      severity: '{% if data.matches[0].value > 180 %}critical{% else %}warning{% endif %}',
      source: 'club {{ data.clientId }}',
      component: 'heartrate',
      group: 'event-{{ data.eventId }}',
      class: 'physiology',
      customDetails: { moment: '{{ data.moment }}', matches: '{{ data.matches }}' },
      links: [{ href: 'https://dash.example/m/{{ data.publicId }}', text: 'Open moment' }],
      images: [{ src: 'https://img.example/{{ data.athleteId }}.png', alt: 'athlete' }],
    });
    expect(c.renderer({ dedupKey: 'hr-{{ data.athleteId }}' }).render(momentEvent)).toEqual({
      event_action: 'trigger',
      dedup_key: 'hr-ath-7',
      client: 'moments-bridge',
      client_url: 'https://bridge.example/',
      payload: {
        summary: 'HR > 170 for ath-7',
        source: 'club club-a',
        severity: 'critical',
        timestamp: '2025-06-01T12:00:05.000Z',
        component: 'heartrate',
        group: 'event-42',
        class: 'physiology',
        custom_details: {
          moment: 'Athlete ath-7 heart rate 182 bpm',
          matches: [
            { metric: 'heartrate', subMetric: 'bpm', value: 182 },
            { metric: 'speed', subMetric: 'kmh', value: 27.456 },
          ],
        },
      },
      links: [{ href: 'https://dash.example/m/m-1001', text: 'Open moment' }],
      images: [{ src: 'https://img.example/ath-7.png', alt: 'athlete' }],
    });
  });

  it('a resolve carries only the dedup key', async () => {
    const c = await make();
    expect(c.renderer({ eventAction: 'resolve' }).render(momentEvent)).toEqual({
      event_action: 'resolve',
      dedup_key: 'moment:t-hr170:ath-7:42',
      client: 'moments-bridge',
    });
  });

  it('cuts the summary to 1024 characters, and PagerDuty accepts it', async () => {
    const long = withSummary({ ...momentEvent, data: { ...(momentEvent.data as object), moment: 'x'.repeat(3000) } });
    const c = await make();
    const p = c.renderer().render(long) as PagerdutyPayload;
    expect(p.payload!.summary).toHaveLength(1024);
    expect(p.payload!.summary.endsWith('…')).toBe(true);
    expect((await c.deliver(delivery(p, long), noSignal())).status).toBe('delivered');
  });

  it.each([
    ['a severity outside the four levels', { severity: '{{ data.triggerMarker }}' }, /severity rendered "red"/],
    [
      'a dedup key over 255 characters',
      { dedupKey: '{{ data.moment }}{{ data.moment }}{{ data.moment }}{{ data.moment }}{{ data.moment }}{{ data.moment }}{{ data.moment }}{{ data.moment }}' },
      /dedup_key is \d+ characters/,
    ],
    ['an event over 512 KB', { customDetails: { blob: 'y'.repeat(600_000) } }, /bytes; PagerDuty accepts/],
  ])('rejects %s at enqueue (PayloadError)', async (_n, config, message) => {
    const c = await make(config);
    expect(() => c.renderer().render(momentEvent)).toThrow(PayloadError);
    expect(() => c.renderer().render(momentEvent)).toThrow(message);
  });

  it('rejects unknown override keys and broken templates (InputError)', async () => {
    const c = await make();
    expect(() => c.renderer({ routingKey: 'x' })).toThrow(InputError);
    expect(() => c.renderer({ summary: '{{ data.x | nope }}' })).toThrow(/cannot compile template/);
  });
});

describe('PagerDuty delivery against the local Events API v2', () => {
  it('202 is delivered, with the routing key added only on the wire', async () => {
    const c = await make();
    const payload = c.renderer().render(momentEvent) as PagerdutyPayload;
    expect(JSON.stringify(payload)).not.toContain(ROUTING_KEY);
    expect(await c.deliver(delivery(payload), noSignal())).toEqual({ status: 'delivered', info: { status: 202, dedupKey: 'moment:t-hr170:ath-7:42' } });
    expect(pd.received).toHaveLength(1);
    expect(pd.received[0]).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: 'moment:t-hr170:ath-7:42', payload: payload.payload });
  });

  it('repeats group into one alert by dedup key; resolve closes it; a second resolve is dropped', async () => {
    const c = await make();
    const again = { ...momentEvent, id: 'moments:moment:m-1002', data: { ...(momentEvent.data as object), publicId: 'm-1002' } };
    await send(c);
    await send(c, again);
    expect(pd.alerts.get('moment:t-hr170:ath-7:42')).toMatchObject({ status: 'triggered', triggers: 2 });
    expect((await send(c, momentEvent, { eventAction: 'resolve' })).status).toBe('delivered');
    expect(pd.alerts.get('moment:t-hr170:ath-7:42')!.status).toBe('resolved');
    expect((await send(c, momentEvent, { eventAction: 'resolve' })).status).toBe('delivered');
    expect(pd.received.at(-1)!.applied).toBe(false);
  });

  it('400 is permanent with PagerDuty’s errors in the dead letter', async () => {
    const c = await make({ routingKey: 'not-a-known-routing-key-00000000' });
    expect(await send(c)).toEqual({
      status: 'permanent',
      reason: 'PagerDuty rejected the event (HTTP 400): Event object is invalid: Invalid routing key',
      detail: { status: 400, message: 'Event object is invalid', errors: ['Invalid routing key'] },
    });
  });

  it.each([401, 403, 404])('HTTP %i is permanent', async (status) => {
    const c = await make();
    pd.injectStatus(status);
    expect(await send(c)).toMatchObject({ status: 'permanent', reason: expect.stringContaining(`HTTP ${status}`) });
  });

  it('429 with Retry-After is retryable with retryAfterMs', async () => {
    const c = await make();
    pd.injectStatus(429, 1, 5);
    expect(await send(c)).toMatchObject({ status: 'retry', reason: expect.stringContaining('HTTP 429'), retryAfterMs: 5000 });
  });

  it('the server’s own per-routing-key limit answers 429 (retryable), and the next window succeeds', async () => {
    let now = 0;
    const limited = await startPagerdutyServer({ routingKeys: [ROUTING_KEY], perMinute: 2, now: () => now });
    try {
      const c = await make({ url: limited.url });
      expect((await send(c)).status).toBe('delivered');
      expect((await send(c)).status).toBe('delivered');
      expect(await send(c)).toMatchObject({ status: 'retry', reason: expect.stringContaining('HTTP 429') });
      now += 60_000;
      expect((await send(c)).status).toBe('delivered');
    } finally {
      await limited.stop();
    }
  });

  it.each([500, 502, 503])('HTTP %i is retryable, and the next attempt succeeds', async (status) => {
    const c = await make();
    pd.injectStatus(status);
    expect(await send(c)).toMatchObject({ status: 'retry', reason: expect.stringContaining(`HTTP ${status}`) });
    expect((await send(c)).status).toBe('delivered');
    expect(pd.received).toHaveLength(1);
  });

  it('a timeout is retryable, and the next attempt succeeds', async () => {
    const c = await make();
    pd.injectDelay(3000);
    expect(await send(c, momentEvent, {}, AbortSignal.timeout(150))).toMatchObject({ status: 'retry', reason: expect.stringContaining('network error') });
    expect((await send(c)).status).toBe('delivered');
  });

  it('a refused connection is retryable', async () => {
    const gone = await startPagerdutyServer();
    await gone.stop();
    const c = await make({ url: gone.url });
    expect(await send(c)).toMatchObject({ status: 'retry', reason: expect.stringContaining('network error') });
  });

  it('never writes the routing key into logs or delivery results', async () => {
    const { logger, lines } = capturingLogger();
    const c = await make({}, { logger });
    const results = [await send(c)];
    pd.injectStatus(503);
    results.push(await send(c));
    results.push(await send(await make({ routingKey: 'not-a-known-routing-key-00000000' }, { logger })));
    for (const r of results) logger.info({ result: r }, 'delivery result');
    expect(lines).toHaveLength(3);
    const all = lines.join('\n') + JSON.stringify(results);
    expect(all).not.toContain(ROUTING_KEY);
    expect(all).not.toContain('not-a-known-routing-key-00000000');
  });
});

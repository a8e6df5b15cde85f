import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { slackConnector } from '../../../connectors/slack/index.js';
import type { SlackPayload } from '../../../connectors/slack/index.js';
import type { Connector, DeliveryResult } from '../../../connectors/connector.js';
import type { BridgeEvent } from '../../../src/core/event.js';
import { InputError, PayloadError } from '../../../src/core/errors.js';
import { clearSecrets } from '../../../src/core/secret-redaction.js';
import { startSlackApiServer, type SlackApiServer } from '../../../simulators/sinks/slack/slack-api-server.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { capturingLogger, connectorContext, delivery, momentEvent, noSignal, observerRowEvent, withSummary } from '../fixtures.js';

const TOKEN = 'xoxb-test-token-1234567890';
let redis: TestRedis;
let client: Redis;
let slack: SlackApiServer;

async function make(config: Record<string, unknown> = {}, ctxOverrides = {}): Promise<Connector<SlackPayload>> {
  const parsed = slackConnector.configSchema.parse({ type: 'slack', token: TOKEN, apiUrl: slack.url, channel: '#ops', ...config });
  return (await slackConnector.create(parsed, connectorContext(client, ctxOverrides))) as Connector<SlackPayload>;
}

async function send(
  connector: Connector<SlackPayload>,
  event = momentEvent,
  overrides: Record<string, unknown> = {},
  signal = noSignal(),
): Promise<DeliveryResult> {
  const payload = connector.renderer(overrides).render(event) as SlackPayload;
  return connector.deliver(delivery(payload, event), signal);
}

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
  // Rate limiting is tested on its own below and in test/simulators/sinks/slack/; here every post is accepted.
  slack = await startSlackApiServer({
    tokens: [TOKEN],
    perChannelIntervalMs: 0,
    channels: { ops: { id: 'C0OPS' }, alerts: { id: 'C0ALERTS' }, private: { id: 'C0PRIV', member: false } },
  });
});
afterAll(async () => {
  await slack.stop();
  await redis.stop();
  clearSecrets();
});
beforeEach(async () => {
  slack.reset();
  await redis.flush();
});

describe('Slack payloads (written by hand)', () => {
  it('renders the default layout for a moment', async () => {
    const c = await make();
    expect(c.renderer().render(momentEvent)).toEqual({
      channel: '#ops',
      text: 'HR &gt; 170: Athlete ath-7 heart rate 182 bpm',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: ':red_circle: HR > 170', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: 'Athlete ath-7 heart rate 182 bpm' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Athlete*\nath-7' },
            { type: 'mrkdwn', text: '*Event*\n42' },
            { type: 'mrkdwn', text: '*Marker*\nred' },
            { type: 'mrkdwn', text: '*heartrate / bpm*\n182' },
            { type: 'mrkdwn', text: '*speed / kmh*\n27.46' },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'moments · moment m-1001 · 2025-06-01T12:00:05.000Z' }] },
      ],
    });
  });

  // A kind no connector knows (from a user's own source): the default layout comes from the
  // summary alone — title, color, text, fields (with the overflow entry), context.
  const weather: BridgeEvent = {
    id: 'wx:weather.alert:w-1',
    source: 'wx',
    kind: 'weather.alert',
    time: '2025-06-01T13:00:00.000Z',
    data: { opaque: true },
    summary: {
      title: 'Storm warning',
      text: 'Gusts up to 90 km/h',
      color: 'orange',
      fields: Array.from({ length: 11 }, (_, i) => ({ label: `zone ${i + 1}`, value: i === 0 ? 1.234 : 'north' })),
      fieldsName: 'zones',
      context: ['wx', 'bulletin 7'],
    },
  };
  it('renders an event of a kind it does not know through the summary its source gave', async () => {
    const c = await make();
    const p = c.renderer().render(weather) as SlackPayload;
    expect(p.text).toBe('Storm warning: Gusts up to 90 km/h');
    expect(p.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: ':large_orange_circle: Storm warning', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: 'Gusts up to 90 km/h' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*zone 1*\n1.23' },
          ...Array.from({ length: 8 }, (_, i) => ({ type: 'mrkdwn', text: `*zone ${i + 2}*\nnorth` })),
          { type: 'mrkdwn', text: '*More zones*\n2' },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'wx · bulletin 7' }] },
    ]);
    // Without a summary: the kind, source and id, and the data as JSON.
    const bare = c.renderer().render({ ...weather, summary: undefined }) as SlackPayload;
    expect(bare.text).toBe('weather.alert from wx');
    expect(bare.blocks![0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'weather.alert from wx', emoji: true } });
    expect(bare.blocks!.at(-1)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'wx:weather.alert:w-1 · 2025-06-01T13:00:00.000Z' }] });
    expect((await send(c, weather)).status).toBe('delivered');
  });

  it('renders the default layout for an Observer row', async () => {
    const c = await make();
    expect(c.renderer().render(observerRowEvent)).toEqual({
      channel: '#ops',
      text: 'Observer row from calls',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Observer: calls', emoji: true } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*callId*\ncall-9' },
            { type: 'mrkdwn', text: '*roomId*\nstandup' },
            { type: 'mrkdwn', text: '*clientsCount*\n3' },
            { type: 'mrkdwn', text: '*avgRttMs*\n41.5' },
            { type: 'mrkdwn', text: '*packetLossPct*\n0.2' },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'observer.row · calls:observer.row:call-9:17 · 2025-06-01T12:01:00.000Z' }] },
      ],
    });
  });

  it('escapes upstream text so it cannot ping @channel or forge links, in the default layout and in templates', async () => {
    const evil = withSummary({
      ...momentEvent,
      data: { ...(momentEvent.data as object), athleteId: '<!channel> & <https://evil.example|bank>', moment: 'hi <!here>' },
    });
    const c = await make({ text: 'Alert for {{ data.athleteId }} — <https://dash.example/m/{{ data.publicId }}|open>' });
    const templated = c.renderer().render(evil) as SlackPayload;
    expect(templated.text).toBe('Alert for &lt;!channel&gt; &amp; &lt;https://evil.example|bank&gt; — <https://dash.example/m/m-1001|open>');
    expect(templated.blocks).toBeUndefined();

    const plain = (await make()).renderer().render(evil) as SlackPayload;
    const all = JSON.stringify(plain);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<!here>');
    expect(all).not.toContain('<https://evil');
    expect(all).toContain('&lt;!channel&gt; &amp; &lt;https://evil.example|bank&gt;');
  });

  /**
   * Every upstream string the default layout shows, one at a time, set to a mention and a forged
   * link: each must come out escaped wherever it lands in mrkdwn (top-level text, section, field
   * label or value, context). Header blocks are plain_text, shown verbatim by Slack, so not checked.
   */
  const EVIL = '<!channel> & <https://evil.example|bank>';
  const ESCAPED = '&lt;!channel&gt; &amp; &lt;https://evil.example|bank&gt;';
  const moment = (data: Record<string, unknown>, top: Partial<BridgeEvent> = {}): BridgeEvent =>
    withSummary({ ...momentEvent, ...top, data: { ...(momentEvent.data as object), ...data } });
  const match = (m: Record<string, unknown>) => ({ matches: [{ metric: 'heartrate', subMetric: 'bpm', value: 182, ...m }] });
  const row = (data: Record<string, unknown>, top: Partial<BridgeEvent> = {}): BridgeEvent =>
    withSummary({ ...observerRowEvent, ...top, data: { ...(observerRowEvent.data as object), ...data } });
  const other: BridgeEvent = {
    id: 'calls:observer.call.started:c1',
    source: 'calls',
    kind: 'observer.call.started',
    time: '2025-06-01T12:00:00.000Z',
    data: { callId: 'c1' },
  };
  it.each<[string, BridgeEvent]>([
    ['moment triggerName', moment({ triggerName: EVIL })],
    ['moment text', moment({ moment: EVIL })],
    ['moment athleteId', moment({ athleteId: EVIL })],
    ['moment eventId', moment({ eventId: EVIL })],
    ['moment triggerMarker', moment({ triggerMarker: EVIL })],
    ['moment match metric', moment(match({ metric: EVIL }))],
    ['moment match subMetric', moment(match({ subMetric: EVIL }))],
    ['moment match value', moment(match({ value: EVIL }))],
    ['moment match value (object)', moment(match({ value: { note: EVIL } }))],
    ['moment publicId', moment({ publicId: EVIL })],
    ['moment createdAt', moment({ createdAt: EVIL })],
    ['moment source', moment({}, { source: EVIL })],
    ['Observer row field name', row({ [EVIL]: 1 })],
    ['Observer row field value', row({ roomId: EVIL })],
    ['Observer row nested value', row({ roomId: { name: EVIL } })],
    ['Observer row source', row({}, { source: EVIL })],
    ['Observer row id', row({}, { id: EVIL })],
    ['Observer row time', row({}, { time: EVIL })],
    ['other event data', { ...other, data: { callId: EVIL } }],
    ['other event source', { ...other, source: EVIL }],
    ['other event id', { ...other, id: EVIL }],
  ])('the default layout escapes upstream %s in every mrkdwn text', async (_where, event) => {
    const p = (await make()).renderer().render(event) as SlackPayload;
    const mrkdwn: string[] = [p.text ?? ''];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (o.type === 'mrkdwn' && typeof o.text === 'string') mrkdwn.push(o.text);
        Object.values(o).forEach(walk);
      }
    };
    walk(p.blocks);
    // The default layout has no links or mentions of its own: any <, > or bare & came from upstream.
    for (const text of mrkdwn) expect(text).not.toMatch(/[<>]|&(?!amp;|lt;|gt;)/);
    // And the text is shown (escaped), so the case is not passing by leaving it out.
    expect(mrkdwn.join('\n')).toContain(ESCAPED);
  });

  it('applies route overrides (channel, username, icon, blocks) and templates in blocks', async () => {
    const c = await make();
    const p = c
      .renderer({
        channel: '#alerts',
        username: 'Coach bot',
        iconEmoji: ':runner:',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*{{ data.triggerName }}* for {{ data.athleteId }}' } }],
      })
      .render(momentEvent);
    expect(p).toEqual({
      channel: '#alerts',
      text: 'HR &gt; 170: Athlete ath-7 heart rate 182 bpm',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*HR &gt; 170* for ath-7' } }],
      username: 'Coach bot',
      icon_emoji: ':runner:',
    });
  });

  it.each([
    ['an unknown override key', { chanel: '#x' }, /invalid route override.*chanel/],
    ['a template that does not compile', { text: '{{ data.x | nosuchfilter }}' }, /cannot compile template/],
  ])('rejects %s with an InputError', async (_name, overrides, message) => {
    const c = await make();
    expect(() => c.renderer(overrides)).toThrow(InputError);
    expect(() => c.renderer(overrides)).toThrow(message);
  });

  it('needs a channel on the connector or the route', async () => {
    const c = await make({ channel: undefined });
    expect(() => c.renderer()).toThrow(/no Slack channel/);
    expect((c.renderer({ channel: '#alerts' }).render(momentEvent) as SlackPayload).channel).toBe('#alerts');
  });

  it.each([
    ['text over 40,000 characters', { text: `${'x'.repeat(40_001)}` }, /msg_too_long/],
    ['a block without a type', { blocks: ['{{ data.moment }}'] }, /blocks\[0\] needs a string `type`/],
    ['more than 50 blocks', { blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) }, /51 blocks/],
    ['a header over 150 characters', { blocks: [{ type: 'header', text: { type: 'plain_text', text: '{{ data.moment }}'.repeat(10) } }] }, /header text/],
    ['an empty channel', { channel: '{{ data.nope }}' }, /channel template rendered empty/],
  ])('rejects a payload with %s at enqueue (PayloadError)', async (_name, config, message) => {
    const c = await make(config);
    expect(() => c.renderer().render(momentEvent)).toThrow(PayloadError);
    expect(() => c.renderer().render(momentEvent)).toThrow(message);
  });
});

describe('Slack delivery against the local Slack API', () => {
  it('posts the message and reports the ts', async () => {
    const c = await make({ username: 'Bridge', iconEmoji: ':zap:' });
    const result = await send(c);
    expect(result).toMatchObject({ status: 'delivered', info: { channel: 'C0OPS' } });
    expect(slack.received).toHaveLength(1);
    const got = slack.received[0]!;
    expect(got).toMatchObject({ channel: 'C0OPS', text: 'HR &gt; 170: Athlete ath-7 heart rate 182 bpm', username: 'Bridge', icon_emoji: ':zap:' });
    expect(got.blocks).toEqual((c.renderer().render(momentEvent) as SlackPayload).blocks);
    expect((result as unknown as { info: { ts: string } }).info.ts).toBe(got.ts);
  });

  it.each([
    ['invalid_auth', async () => make({ token: 'xoxb-wrong-token-000000' }), undefined],
    ['channel_not_found', async () => make({ channel: '#nope' }), undefined],
    ['not_in_channel', async () => make({ channel: '#private' }), undefined],
    ['invalid_blocks', async () => make({ blocks: [{ type: 'carousel', text: { type: 'mrkdwn', text: 'x' } }] }), undefined],
    ['msg_too_long', async () => make(), 'msg_too_long'],
    ['account_inactive', async () => make(), 'account_inactive'],
  ])('%s is permanent with the reason for the dead letter', async (code, build, inject) => {
    const c = await build();
    if (inject) slack.injectError(inject);
    const result = await send(c);
    expect(result).toMatchObject({ status: 'permanent', reason: `Slack error: ${code}`, detail: { error: code } });
    expect(slack.received).toHaveLength(0);
  });

  it('a 429 with Retry-After is retryable with retryAfterMs (the client does not retry it itself)', async () => {
    const c = await make();
    slack.injectStatus(429, 1, 7);
    const result = await send(c);
    expect(result).toEqual({ status: 'retry', reason: 'Slack rate limit (HTTP 429)', retryAfterMs: 7000 });
    expect(slack.requests).toHaveLength(1);
    expect(slack.received).toHaveLength(0);
  });

  it('the server’s own 1/s channel limit comes back as retryable with Retry-After', async () => {
    const limited = await startSlackApiServer({ tokens: [TOKEN] });
    try {
      const c = await make({ apiUrl: limited.url });
      expect((await send(c)).status).toBe('delivered');
      expect(await send(c)).toEqual({ status: 'retry', reason: 'Slack rate limit (HTTP 429)', retryAfterMs: 1000 });
      // Another channel has its own budget.
      expect((await send(c, momentEvent, { channel: '#alerts' })).status).toBe('delivered');
    } finally {
      await limited.stop();
    }
  });

  it.each([500, 502, 503])('HTTP %i is retryable, and the next attempt succeeds', async (status) => {
    const c = await make();
    slack.injectStatus(status);
    const first = await send(c);
    expect(first).toMatchObject({ status: 'retry', reason: expect.stringContaining(`HTTP ${status}`) });
    expect(slack.requests).toHaveLength(1); // no hidden client retries
    expect((await send(c)).status).toBe('delivered');
    expect(slack.received).toHaveLength(1);
  });

  it.each(['internal_error', 'fatal_error'])('ok:false %s is retryable', async (code) => {
    const c = await make();
    slack.injectError(code);
    expect(await send(c)).toEqual({ status: 'retry', reason: `Slack error: ${code}` });
  });

  it('a timeout (the attempt signal fires) is retryable, and the next attempt succeeds', async () => {
    const c = await make();
    slack.injectDelay(3000);
    const result = await send(c, momentEvent, {}, AbortSignal.timeout(150));
    expect(result).toMatchObject({ status: 'retry', reason: expect.stringMatching(/network error \((TimeoutError|AbortError|ABORT_ERR|23)\)/) });
    expect((await send(c)).status).toBe('delivered');
  });

  it('a refused connection is retryable', async () => {
    const gone = await startSlackApiServer();
    const url = gone.url;
    await gone.stop();
    const c = await make({ apiUrl: url });
    expect(await send(c)).toMatchObject({ status: 'retry', reason: expect.stringContaining('network error') });
  });
});

describe('Slack threads (threadBy, ts in Redis)', () => {
  it('posts follow-ups for the same key into one thread', async () => {
    const c = await make({ threadBy: '{{ data.eventId }}' });
    const second = { ...momentEvent, id: 'moments:moment:m-1002', data: { ...(momentEvent.data as object), publicId: 'm-1002' } };
    const otherEvent = { ...momentEvent, id: 'moments:moment:m-1003', data: { ...(momentEvent.data as object), publicId: 'm-1003', eventId: 43 } };
    expect((await send(c, momentEvent)).status).toBe('delivered');
    expect((await send(c, second)).status).toBe('delivered');
    expect((await send(c, otherEvent)).status).toBe('delivered');
    const [a, b, other] = slack.received;
    expect(a!.thread_ts).toBeUndefined();
    expect(b!.thread_ts).toBe(a!.ts);
    expect(other!.thread_ts).toBeUndefined();
    expect(await client.get('mb:connector:c1:thread:#ops:42')).toBe(a!.ts);
    expect(await client.get('mb:connector:c1:thread:#ops:43')).toBe(other!.ts);
    const ttl = await client.ttl('mb:connector:c1:thread:#ops:42');
    expect(ttl).toBeGreaterThan(6 * 86_400);
  });

  it('forgets a thread whose parent is gone and starts a new one on the next attempt', async () => {
    const c = await make({ threadBy: '{{ data.eventId }}' });
    await client.set('mb:connector:c1:thread:#ops:42', '1.000001');
    expect(await send(c)).toMatchObject({ status: 'retry', reason: expect.stringContaining('thread_not_found') });
    expect(await client.exists('mb:connector:c1:thread:#ops:42')).toBe(0);
    expect((await send(c)).status).toBe('delivered');
    expect(slack.received[0]!.thread_ts).toBeUndefined();
  });
});

describe('secrets', () => {
  it('never writes the token into logs or delivery results', async () => {
    const { logger, lines } = capturingLogger();
    const c = await make({}, { logger });
    const results: DeliveryResult[] = [];
    slack.injectStatus(503);
    results.push(await send(c));
    slack.injectStatus(429, 1, 1);
    results.push(await send(c));
    results.push(await send(c));
    results.push(await send(await make({ token: 'xoxb-wrong-token-000000' }, { logger })));
    for (const r of results) logger.info({ result: r }, 'delivery result');
    expect(lines.length).toBeGreaterThan(4);
    const all = lines.join('\n') + JSON.stringify(results);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('xoxb-wrong-token-000000');
  });
});

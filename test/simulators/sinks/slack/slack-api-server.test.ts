import { afterEach, describe, expect, it } from 'vitest';
import { LogLevel, WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { slackConnector, type SlackPayload } from '../../../../connectors/slack/index.js';
import type { Connector } from '../../../../connectors/connector.js';
import { startSlackApiServer, type SlackApiServer } from '../../../../simulators/sinks/slack/slack-api-server.js';
import { silentLogger } from '../../../../src/core/log.js';
import { momentEvent } from '../../../connectors/fixtures.js';

const TOKEN = 'xoxb-burst-token-0000000000';
let server: SlackApiServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function slackConnectorFor(url: string): Promise<Connector<SlackPayload>> {
  const config = slackConnector.configSchema.parse({ type: 'slack', token: TOKEN, apiUrl: url, channel: '#ops' });
  // The Slack connector only touches Redis for threads; none here, so an unconnected client is enough.
  const redis = new Redis({ lazyConnect: true });
  return (await slackConnector.create(config, { name: 'ops', redis, keyPrefix: 'mb:', logger: silentLogger(), configDir: '.' })) as Connector<SlackPayload>;
}

describe('Slack API server: per-channel rate limit', () => {
  it('a burst of 50 at once: one accepted, 49 answered 429 with Retry-After: 1, another channel unaffected', async () => {
    let now = 1_700_000_000_000;
    server = await startSlackApiServer({ tokens: [TOKEN], now: () => now });
    const web = new WebClient(TOKEN, { slackApiUrl: server.url, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => web.chat.postMessage({ channel: '#ops', text: `m${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(49);
    for (const r of rejected) expect(r.reason).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 1 });
    expect(server.requests.filter((r) => r.status === 429 && r.retryAfter === 1)).toHaveLength(49);
    expect((await web.chat.postMessage({ channel: '#alerts', text: 'other channel' })).ok).toBe(true);
    now += 1000;
    expect((await web.chat.postMessage({ channel: '#ops', text: 'after a second' })).ok).toBe(true);
  });

  it('50 moments posted in order, each retried after its Retry-After, arrive complete, in order and 1/s apart', async () => {
    let now = 1_700_000_000_000;
    server = await startSlackApiServer({ tokens: [TOKEN], now: () => now });
    const connector = await slackConnectorFor(server.url);
    const renderer = connector.renderer({ text: 'moment {{ data.publicId }}' });
    let rateLimited = 0;
    for (let i = 0; i < 50; i++) {
      const event = { ...momentEvent, id: `moments:moment:m-${i}`, data: { ...(momentEvent.data as object), publicId: `m-${i}` } };
      const d = { id: `d-${i}`, event, route: 'r', connector: 'ops', payload: renderer.render(event) as SlackPayload, attempt: 1 };
      for (;;) {
        const result = await connector.deliver(d, new AbortController().signal);
        if (result.status === 'delivered') break;
        // What the queue layer does: wait Retry-After (here: move the server clock), same attempt.
        expect(result).toMatchObject({ status: 'retry', retryAfterMs: 1000 });
        rateLimited += 1;
        now += result.status === 'retry' ? (result.retryAfterMs ?? 1000) : 0;
      }
    }
    expect(server.received.map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `moment m-${i}`));
    const gaps = server.received.slice(1).map((m, i) => m.receivedAt - server!.received[i]!.receivedAt);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
    expect(rateLimited).toBe(49);
  });
});

describe('Slack API server: protocol', () => {
  it('accepts JSON bodies with Bearer auth, like the real API', async () => {
    server = await startSlackApiServer({ perChannelIntervalMs: 0 });
    const post = async (body: unknown, token?: string) =>
      (await fetch(`${server!.url}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }).then((r) => r.json())) as { ok: boolean; error?: string; ts?: string; channel?: string };
    const ok = await post({ channel: '#ops', text: 'hi', blocks: [{ type: 'divider' }] }, TOKEN);
    expect(ok).toMatchObject({ ok: true, channel: 'COPS0' });
    expect(server.received[0]).toMatchObject({ text: 'hi', blocks: [{ type: 'divider' }], ts: ok.ts });
    expect(await post({ channel: '#ops', text: 'hi' })).toEqual({ ok: false, error: 'not_authed' });
    expect(await post({ channel: '#ops', text: 'hi' }, 'xoxp-user-token')).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await post({ channel: '#ops' }, TOKEN)).toEqual({ ok: false, error: 'no_text' });
    expect(await post({ channel: '#ops', text: 'x'.repeat(40_001) }, TOKEN)).toEqual({ ok: false, error: 'msg_too_long' });
    expect(await post({ channel: '#ops', blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }] }, TOKEN)).toMatchObject({
      ok: false,
      error: 'invalid_blocks',
    });
    expect(await post({ channel: '#ops', text: 'reply', thread_ts: '123.456' }, TOKEN)).toEqual({ ok: false, error: 'thread_not_found' });
    expect(await post({ channel: '#ops', text: 'reply', thread_ts: ok.ts }, TOKEN)).toMatchObject({ ok: true });
  });

  it('injected 5xx and delays reach the official client as HTTP errors and timeouts', async () => {
    server = await startSlackApiServer({ tokens: [TOKEN], perChannelIntervalMs: 0 });
    const web = new WebClient(TOKEN, {
      slackApiUrl: server.url,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: 100,
      logLevel: LogLevel.ERROR,
    });
    server.injectStatus(503);
    await expect(web.chat.postMessage({ channel: '#ops', text: 'a' })).rejects.toMatchObject({ code: 'slack_webapi_http_error', statusCode: 503 });
    server.injectDelay(1000);
    await expect(web.chat.postMessage({ channel: '#ops', text: 'b' })).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
    expect((await web.auth.test()).ok).toBe(true);
  });
});

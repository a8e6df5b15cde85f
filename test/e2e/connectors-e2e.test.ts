import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/core/log.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../simulators/moments/moments-simulator.js';
import { startPagerdutyServer, type PagerdutyServer } from '../../simulators/sinks/pagerduty/pagerduty-server.js';
import { startSlackApiServer, type SlackApiServer } from '../../simulators/sinks/slack/slack-api-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { until } from '../helpers/until.js';

/**
 * End to end: Moments simulator → moments source → route → BullMQ → connector → local server that
 * speaks the sink's API. Nothing in between is replaced.
 */

const SLACK_TOKEN = 'xoxb-e2e-token-0123456789';
const PD_KEY = 'e2eroutingkey0123456789abcdef012';
const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let redis: TestRedis;
let sim: MomentsSimulator;
let slack: SlackApiServer;
let pd: PagerdutyServer;
let hook: WebhookReceiver;
let daemon: Daemon | undefined;

beforeAll(async () => {
  redis = await startTestRedis();
  slack = await startSlackApiServer({ tokens: [SLACK_TOKEN], perChannelIntervalMs: 200 });
  pd = await startPagerdutyServer({ routingKeys: [PD_KEY] });
  hook = await startWebhookReceiver({ secret: WEBHOOK_SECRET });
});

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await sim?.stop();
  await redis.flush();
});

afterAll(async () => {
  await Promise.all([slack.stop(), pd.stop(), hook.stop()]);
  await redis.stop();
});

async function startBridge(routes: string): Promise<Daemon> {
  sim = await startMomentsSimulator();
  const dir = mkdtempSync(join(tmpdir(), 'mb-e2e-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `
redis: { url: "${redis.url}" }
server: { enabled: false }
sources:
  moments:
    type: moments
    cognitoEndpoint: "${sim.cognitoEndpoint}"
    graphqlUrl: "${sim.graphqlUrl}"
    clientId: sim-client
    username: demo
    password: demo-password
connectors:
  ops-slack:
    type: slack
    apiUrl: "${slack.url.endsWith('/') ? slack.url : `${slack.url}/`}"
    token: "${SLACK_TOKEN}"
    channel: "#ops"
    rateLimit: { max: 1, duration: 200ms }
  oncall:
    type: pagerduty
    url: "${pd.url}"
    routingKey: "${PD_KEY}"
  hooks:
    type: webhook
    url: "${hook.url}"
    secret: "${WEBHOOK_SECRET}"
    allowPrivateNetworks: true
routes:
${routes}
`,
  );
  const loaded = await loadValidatedConfig(file);
  daemon = await Daemon.start({ loaded, logger: silentLogger() });
  return daemon;
}

describe('end to end: simulator → route → queue → connector → local API server', () => {
  it('Slack: a moment becomes a chat.postMessage in the configured channel', async () => {
    slack.reset();
    await startBridge('  - { name: to-slack, match: { kind: moment }, to: [ops-slack] }');
    const m = sim.control.createMoment({ athleteId: 707, value: 182 });
    await until(() => slack.received.length === 1, 20_000, 'the Slack message');
    const msg = slack.received[0]!;
    expect(msg.channelName).toBe('ops');
    expect(msg.text).toContain(m.moment);
    expect(JSON.stringify(msg.blocks)).toContain('707');
  });

  it('PagerDuty: a moment becomes a trigger event with the routing key and a dedup key', async () => {
    await startBridge('  - { name: page, match: { kind: moment }, to: [oncall] }');
    const before = pd.received.length;
    const trigger = sim.control.createTrigger({ name: 'HR > 170' });
    const m = sim.control.createMoment({ triggerPublicId: trigger.publicId, athleteId: 303, value: 190 });
    await until(() => pd.received.length === before + 1, 20_000, 'the PagerDuty event');
    const ev = pd.received.at(-1)!;
    expect(ev.routing_key).toBe(PD_KEY);
    expect(ev.event_action).toBe('trigger');
    expect(ev.dedup_key).toBe(`moment:${trigger.publicId}:303:${m.eventId}`);
    expect(ev.payload?.summary).toBe(`HR > 170: ${m.moment}`);
  });

  it('webhook: a moment arrives signed (Standard Webhooks), with webhook-id = the delivery id', async () => {
    await startBridge('  - { name: hook, match: { kind: moment }, to: [hooks] }');
    const before = hook.received.length;
    const m = sim.control.createMoment({ athleteId: 505, publicId: 'kat-webhook-505' });
    await until(() => hook.received.length === before + 1, 20_000, 'the webhook');
    const got = hook.received.at(-1)!;
    expect(got.verified).toBe(true);
    const eventId = `moments:moment:${m.publicId}`;
    expect(got.id).toBe(deliveryId(eventId, 'hook', 'hooks'));
    // Pinned: receivers dedupe on webhook-id across our upgrades; changing it breaks their dedup.
    expect(got.id).toBe('1254048e40a3817a2d6c5332825afe71');
    // Verify independently with the reference implementation too.
    const body = new Webhook(WEBHOOK_SECRET).verify(got.raw, got.headers) as { id: string; data: { publicId: string } };
    expect(body.id).toBe(eventId);
    expect(body.data.publicId).toBe(m.publicId);
  });

  it('a burst of 50 moments to one Slack channel arrives complete, in creation order, within the rate limit, with no dead letters', async () => {
    slack.reset();
    const d = await startBridge('  - { name: burst, match: { kind: moment }, to: [ops-slack] }');
    const created = Array.from({ length: 50 }, (_, i) => sim.control.createMoment({ athleteId: 1000 + i }));
    await until(() => slack.received.length >= 50, 40_000, '50 Slack messages');
    expect(slack.received.map((m) => m.text)).toEqual(created.map((m) => expect.stringContaining(m.moment) as unknown as string));
    const gaps = slack.received.slice(1).map((m, i) => m.receivedAt - slack.received[i]!.receivedAt);
    // The server refuses anything closer than 200 ms with a 429, so an accepted message proves the spacing.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
    const depth = await d.deliveryQueues!.depth();
    expect(depth['ops-slack']?.failed ?? 0).toBe(0);
  }, 60_000);
});

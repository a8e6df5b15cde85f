import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../src/daemon.js';
import { startObserverSimulator, type RunningObserverSimulator } from '../src/simulators/observer/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../src/simulators/sinks/webhook-receiver.js';
import { baseUrl, sample, scrape, startDaemon, until, writeConfig } from './helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
let sim: RunningObserverSimulator;
let sink: WebhookReceiver;
let daemon: Daemon;
let file: string;

const SECRET = `whsec_${Buffer.from('reload-test-signing-key').toString('base64')}`;

/** `signed`: the connector signs (Standard Webhooks), which it does at delivery time, not at enqueue. */
function yaml(routes: string, signed = false): string {
  return `
redis: { url: "${redis.url}", keyPrefix: rl }
server: { port: 0 }
shutdown: { grace: 1s }
sources:
  calls:
    type: observer
    url: ${sim.url}
    accessToken: tok
    frames: [ { callSnapshots: { callId: H } } ]
connectors:
  hooks:
    type: webhook
    url: ${sink.url}
    allowPrivateNetworks: true
    ${signed ? `secret: ${SECRET}` : ''}
routes:
${routes}
`;
}

const HIGH = '  - { name: high, match: { data.severity: high }, to: [hooks] }';
const LOW = '  - { name: low, match: { data.severity: low }, to: [hooks] }';

const bySeverity = (severity: string) => sink.received.filter((r) => (r.body as { data?: { severity?: string } }).data?.severity === severity);

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startObserverSimulator({ accessToken: 'tok' });
  sink = await startWebhookReceiver();
  sim.control.startCall({ callId: 'H', clients: 1 });
  file = writeConfig(yaml(HIGH));
  daemon = await startDaemon(file);
  await until('frame open', () => sim.control.state().frames.some((f) => f.stream === 'callSnapshots:H'));
});

afterAll(async () => {
  await daemon?.stop();
  await sink?.stop();
  await sim?.stop();
  await redis?.stop();
});

describe('Daemon.reload (hot reload)', () => {
  it('applies a new route and a changed connector without losing a queued job or reconnecting the source', async () => {
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'H', row: { severity: 'low' } });
    // A job waiting in the queue while the config changes: the sink asks for a 1 s pause.
    sink.injectStatus(503, 1, '1');
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'H', row: { severity: 'high' } });
    await until('the first attempt failed', () => sink.requests.some((r) => r.status === 503));
    const authsBefore = sim.control.state().requests.authenticate;

    writeFileSync(file, yaml(`${HIGH}\n${LOW}`, true));
    const result = await daemon.reload();
    expect(result).toMatchObject({ ok: true, errors: [], needsRestart: [] });
    expect(result.changes).toEqual(['routes: 1 → 2', 'connector hooks: changed']);

    // The queued job survived the swap and went out through the new connector (now signing).
    await until('the retried delivery', () => bySeverity('high').length === 1);
    expect(bySeverity('high')[0]!.headers['webhook-signature']).toMatch(/^v1,/);
    // The new route matches now; the event from before the reload stays unrouted.
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'H', row: { severity: 'low' } });
    await until('the new route delivers', () => bySeverity('low').length === 1);
    expect(bySeverity('low')).toHaveLength(1);
    // The unchanged source kept its connection.
    expect(sim.control.state().requests.authenticate).toBe(authsBefore);
    expect(sim.control.state().connections).toBe(1);
    expect(sample(await scrape(baseUrl(daemon)), 'mb_config_reloads_total', { result: 'applied' })).toBe(1);
  });

  it('rejects a broken config, reports every error with file:line:col, and keeps the running one', async () => {
    const good = yaml(`${HIGH}\n${LOW}`, true);
    writeFileSync(
      file,
      good.replace('allowPrivateNetworks: true', 'allowPrivateNetworks: true\n    colour: red').replace('to: [hooks] }\n', 'to: [nowhere] }\n'),
    );
    const result = await daemon.reload();
    expect(result.ok).toBe(false);
    expect(result.errors).toHaveLength(2);
    expect(result.errors.join('\n')).toMatch(/config\.yaml:\d+:\d+ +connectors\.hooks\.colour +unknown key "colour"/);
    expect(result.errors.join('\n')).toMatch(/config\.yaml:\d+:\d+ +routes\[0\]\.to\[0\] +.*nowhere/);

    const before = bySeverity('high').length;
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'H', row: { severity: 'high' } });
    await until('the old config still delivers', () => bySeverity('high').length === before + 1);
    expect(bySeverity('high').at(-1)!.headers['webhook-signature']).toMatch(/^v1,/);
    expect(sample(await scrape(baseUrl(daemon)), 'mb_config_reloads_total', { result: 'rejected' })).toBe(1);
  });

  it('says which changes need a restart', async () => {
    writeFileSync(file, yaml(`${HIGH}\n${LOW}`, true).replace('shutdown: { grace: 1s }', 'shutdown: { grace: 1s }\nlog: { level: debug }'));
    const result = await daemon.reload();
    expect(result).toMatchObject({ ok: true, changes: [], needsRestart: ['log'] });
  });
});

import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import type { Source, SourceContext } from '../../src/sources/source.js';
import { startObserverSimulator, type RunningObserverSimulator } from '../../simulators/observer/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { baseUrl, sample, scrape, startDaemon, until, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

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

const tick = (n: number): BridgeEvent => ({ id: `feed:tick:${n}`, source: 'feed', kind: 'tick', time: new Date().toISOString(), data: { n } });

/** A webhook receiver that holds every answer until `release()` (a request in flight for as long as the test wants). */
async function startHoldingSink(): Promise<{ url: string; received: { path: string; n: number }[]; open(): number; release(): void; stop(): Promise<void> }> {
  const received: { path: string; n: number }[] = [];
  const waiting: (() => void)[] = [];
  let held = true;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const answer = () => {
        received.push({ path: req.url ?? '', n: (JSON.parse(body) as { n: number }).n });
        res.writeHead(200).end();
      };
      if (held) waiting.push(answer);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    open: () => waiting.length,
    release() {
      held = false;
      for (const answer of waiting.splice(0)) answer();
    },
    stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe('Daemon.reload with deliveries queued but not taken yet (issue #15)', () => {
  const config = (url: string) => `
redis: { url: "${redis.url}", keyPrefix: rq }
server: { enabled: false }
shutdown: { grace: 1s }
connectors:
  hook:
    type: webhook
    url: ${url}
    headers: { x-api-key: "\${RELOAD_TEST_KEY}" }
    allowPrivateNetworks: true
    body: { n: "{{ data.n }}" }
    concurrency: 1
routes:
  - { name: ticks, match: { kind: tick }, to: [hook] }
`;

  it('a delivery queued for the old URL goes to the new one after the reload, not to the dead letters', async () => {
    process.env.RELOAD_TEST_KEY = 'reload-test-api-key';
    const receiver = await startHoldingSink();
    const file = writeConfig(config(`${receiver.url}/old`));
    let ctx: SourceContext | undefined;
    const feed: Source = { start: async () => undefined, stop: async () => undefined, state: () => ({ status: 'connected', since: new Date().toISOString() }) };
    const d = await Daemon.start({ loaded: await loadValidatedConfig(file), logger: silentLogger(), extraSources: { feed: (c) => ((ctx = c), feed) } });
    try {
      // Concurrency 1: tick 1 is in flight (held at the receiver), tick 2 waits in the queue behind it.
      await ctx!.emit(tick(1));
      await until('tick 1 in flight', () => receiver.open() === 1);
      await ctx!.emit(tick(2));
      expect((await d.deliveryQueues!.depth()).hook).toMatchObject({ waiting: 1, active: 1 });

      // The connector's URL changes while tick 2 waits; the job holds /old without its credential.
      writeFileSync(file, config(`${receiver.url}/new`));
      const reloading = d.reload();
      await new Promise((r) => setTimeout(r, 300));
      receiver.release();
      expect(await reloading).toMatchObject({ ok: true, changes: ['connector hook: changed'] });
      await ctx!.emit(tick(3));

      const depth = await until('every tick delivered or dead-lettered', async () => {
        const q = (await d.deliveryQueues!.depth()).hook!;
        return receiver.received.length + q.failed >= 3 && q;
      });
      expect(depth.failed).toBe(0);
      expect(receiver.received).toEqual([
        { path: '/old', n: 1 },
        { path: '/new', n: 2 },
        { path: '/new', n: 3 },
      ]);
    } finally {
      await d.stop();
      await receiver.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../simulators/observer/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import type { TapAttempt, TapEvent, TapRecord } from '../../src/tap/tap-record.js';
import { startCli, stopCli, type RunningCli } from '../helpers/cli.js';
import { until, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

/** `tap` against a real daemon (`run` in a child process) fed by the Observer simulator. */

const TOKEN = 'tok-tap-7f3a91c2';
let redis: TestRedis;
let sim: RunningObserverSimulator;
let good: WebhookReceiver;
let flaky: WebhookReceiver;
let daemon: RunningCli;
let file: string;
const running: RunningCli[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startObserverSimulator({ accessToken: TOKEN });
  good = await startWebhookReceiver();
  flaky = await startWebhookReceiver();
  file = writeConfig(`
redis: { url: "${redis.url}", keyPrefix: tapt }
server: { enabled: false }
log: { format: json }
shutdown: { grace: 1s }
sources:
  calls: { type: observer, url: "${sim.url}", accessToken: ${TOKEN}, frames: [ { callSnapshots: { callId: T } } ] }
connectors:
  hooks: { type: webhook, url: "${good.url}", allowPrivateNetworks: true }
  flaky: { type: webhook, url: "${flaky.url}", allowPrivateNetworks: true, retry: { backoff: 50ms, maxBackoff: 100ms, maxAttempts: 2 } }
routes:
  - { name: high, match: { data.severity: high }, to: [hooks] }
  - { name: low, match: { data.severity: low }, to: [flaky] }
`);
  sim.control.startCall({ callId: 'T', clients: 1 });
  daemon = startCli(['run', '-c', file]);
  running.push(daemon);
  await daemon.waitFor('moments-bridge running');
  await until('frame open', () => sim.control.state().frames.some((f) => f.stream === 'callSnapshots:T'));
}, 60_000);

afterAll(async () => {
  for (const cli of running) await stopCli(cli);
  await flaky?.stop();
  await good?.stop();
  await sim?.stop();
  await redis?.stop();
});

const push = (row: Record<string, unknown>) => sim.control.pushRow({ kind: 'callSnapshots', callId: 'T', row });
const publishCalls = async () => Number(/cmdstat_publish:calls=(\d+)/.exec(await redis.client().info('commandstats'))?.[1] ?? 0);

async function tap(args: string[]): Promise<RunningCli> {
  const cli = startCli(['tap', '-c', file, ...args]);
  running.push(cli);
  await cli.waitFor(/daemon \S+ is streaming|"type":"hello"/);
  return cli;
}

const records = (cli: RunningCli): TapRecord[] =>
  cli
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TapRecord);

describe('moments-bridge tap', () => {
  it('with nobody tapping, the daemon publishes nothing', async () => {
    const before = await publishCalls();
    push({ severity: 'high', marker: 'idle' });
    await until('delivered while idle', () => good.received.some((r) => JSON.stringify(r.body).includes('idle')));
    expect(await publishCalls()).toBe(before);
    expect(await redis.client().exists('tapt:tap:listening')).toBe(0);
  });

  it('--json streams each event with its routes, and each attempt: delivered, retry, dead-lettered, unrouted; secrets redacted', async () => {
    const cli = await tap(['--json']);
    flaky.injectStatus(503, 1);
    flaky.injectStatus(503, 1);
    push({ severity: 'high', marker: 'h1', leaked: TOKEN });
    push({ severity: 'low', marker: 'l1' });
    push({ severity: 'none', marker: 'u1' });
    await until('both attempts on flaky', () => records(cli).filter((r) => r.type === 'attempt' && r.connector === 'flaky').length === 2);
    await until('hooks delivered', () => records(cli).some((r) => r.type === 'attempt' && r.connector === 'hooks'));

    const events = records(cli).filter((r): r is TapEvent => r.type === 'event');
    const byMarker = (m: string) => events.find((e) => (e.data as { marker?: string } | undefined)?.marker === m)!;
    expect(byMarker('h1')).toMatchObject({ source: 'calls', matched: 1, deliveries: [{ route: 'high', connector: 'hooks' }] });
    expect(byMarker('l1')).toMatchObject({ source: 'calls', matched: 1, deliveries: [{ route: 'low', connector: 'flaky' }] });
    expect(byMarker('u1')).toMatchObject({ matched: 0, deliveries: [] });
    expect((byMarker('h1').data as { leaked: string }).leaked).toBe('<secret>');
    expect(cli.output()).not.toContain(TOKEN);

    const attempts = records(cli).filter((r): r is TapAttempt => r.type === 'attempt');
    expect(attempts.find((a) => a.eventId === byMarker('h1').id)).toMatchObject({ route: 'high', connector: 'hooks', attempt: 1, outcome: 'delivered' });
    const low = attempts.filter((a) => a.eventId === byMarker('l1').id);
    expect(low.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'retry'],
      [2, 'dead-lettered'],
    ]);
    expect(low[0]!.reason).toContain('503');
  });

  it("filters: --route shows that route's events and deliveries only; --kind with --connector; a --source that matches nothing shows nothing", async () => {
    const byRoute = await tap(['--route', 'high']);
    const bySource = await tap(['--json', '--source', 'nosuch']);
    const byKind = await tap(['--json', '--kind', 'observer.row', '--connector', 'flaky']);
    push({ severity: 'low', marker: 'l2' });
    push({ severity: 'high', marker: 'h2' });
    await byRoute.waitFor(/delivered +high → hooks/);
    await until('flaky attempt seen by --kind observer.row --connector flaky', () => records(byKind).some((r) => r.type === 'attempt'));

    const lines = byRoute
      .output()
      .split('\n')
      .filter((l) => /^\d\d:\d\d/.test(l) && !l.includes('is streaming'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ event +calls:\S+ \(observer\.row from calls\) "Observer: calls": high → hooks$/);
    expect(lines[1]).toMatch(/ delivered +high → hooks {2}calls:\S+ {2}attempt 1, \d+ ms after the event$/);
    expect(records(bySource).filter((r) => r.type !== 'hello')).toEqual([]);
    const seen = records(byKind).filter((r) => r.type !== 'hello');
    expect(seen.every((r) => (r.type === 'event' ? r.deliveries.some((d) => d.connector === 'flaky') : r.type === 'attempt' && r.connector === 'flaky'))).toBe(
      true,
    );
    expect(seen.some((r) => r.type === 'event')).toBe(true);
  });

  it('--count stops after that many records; an unreachable Redis is exit 2 naming the URL', async () => {
    const counted = await tap(['--json', '--count', '1', '--route', 'high']);
    push({ severity: 'high', marker: 'h3' });
    const res = await counted.exited;
    expect(res.code).toBe(0);
    expect(records(counted).filter((r) => r.type !== 'hello')).toHaveLength(1);

    const gone = await startCli(['tap', '--redis', 'redis://127.0.0.1:1', '--prefix', 'x']).exited;
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('cannot reach Redis at redis://127.0.0.1:1');
  });
});

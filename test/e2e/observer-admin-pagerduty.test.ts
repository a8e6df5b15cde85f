import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/core/log.js';
import { startObserverSimulator, type RunningObserverSimulator } from '../../simulators/observer/index.js';
import { startPagerdutyServer, type PagerdutyServer } from '../../simulators/sinks/pagerduty/pagerduty-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { until } from '../helpers/until.js';

/**
 * End to end through the daemon: Observer simulator → observer source (built-in client, or the
 * stand-in `@huddle01/observer-client-sdk` installed next to the config file) → routes → BullMQ →
 * the real PagerDuty / webhook connectors → local servers that speak those APIs.
 */

const SDK_DIR = fileURLToPath(new URL('../fixtures/observer-sdk/', import.meta.url));
const SDK = '@huddle01/observer-client-sdk';
const PD_KEY = 'obsroutingkey0123456789abcdef0123';
const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TOKEN = 'tok-observer-e2e';

let redis: TestRedis;
let pd: PagerdutyServer;
let hook: WebhookReceiver;
let sim: RunningObserverSimulator | undefined;
let daemon: Daemon | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  pd = await startPagerdutyServer({ routingKeys: [PD_KEY] });
  hook = await startWebhookReceiver({ secret: WEBHOOK_SECRET });
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await sim?.stop();
  sim = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await redis.flush();
});
afterAll(async () => {
  await Promise.all([pd.stop(), hook.stop()]);
  await redis.stop();
});

/** Writes the config next to the stand-in SDK (so `sdk:` resolves) or in a temp dir, and starts the daemon. */
async function startBridge(sdk: boolean, source: string, rest: string): Promise<Daemon> {
  const dir = mkdtempSync(sdk ? join(SDK_DIR, '.tmp-e2e-') : join(tmpdir(), 'mb-obs-e2e-'));
  dirs.push(dir);
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `
redis: { url: "${redis.url}" }
server: { enabled: false }
sources:
  calls:
    type: observer
    url: "${sim!.url}"
    accessToken: "${TOKEN}"
    reconnect: { initialDelay: 20ms, maxDelay: 200ms }
${sdk ? `    sdk: "${SDK}"\n` : ''}${source}
${rest}
`,
  );
  daemon = await Daemon.start({ loaded: await loadValidatedConfig(file), logger: silentLogger() });
  return daemon;
}

async function control(action: string, body: Record<string, unknown>): Promise<unknown> {
  const res = await fetch(`${sim!.controlUrl}/${action}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

describe.each([
  { label: 'built-in client', sdk: false },
  { label: 'stand-in SDK', sdk: true },
])('Observer admin → PagerDuty ($label)', ({ sdk }) => {
  it('a worker going down opens a PagerDuty incident; coming back resolves it (same dedup_key)', async () => {
    sim = await startObserverSimulator({ accessToken: TOKEN });
    await startBridge(
      sdk,
      `    frames: [ { ongoingCalls: { pollEvery: 1s } } ]
    admin: { pollEvery: 100ms }`,
      `connectors:
  oncall: { type: pagerduty, url: "${pd.url}", routingKey: "${PD_KEY}" }
routes:
  - name: observer-worker-down
    match: { kind: observer.worker.state, data.down: true }
    to:
      - connector: oncall
        dedupKey: "observer-worker:{{ data.workerId }}"
        summary: "Observer worker {{ data.workerId }} is {{ data.state }}"
        severity: critical
  - name: observer-worker-up
    match: { kind: observer.worker.state, data.down: false, data.wasDown: true }
    to:
      - { connector: oncall, eventAction: resolve, dedupKey: "observer-worker:{{ data.workerId }}" }`,
    );
    const key = 'observer-worker:worker-1';
    const forKey = () => pd.received.filter((e) => e.dedup_key === key);
    const before = pd.received.length;
    await until(() => (sim!.control.state().requests.getWorkerState ?? 0) >= 2, 10_000, 'admin polls');
    expect(pd.received.length).toBe(before); // healthy workers page nobody

    await control('worker-down', { workerId: 'worker-1' });
    await until(() => pd.alerts.get(key)?.status === 'triggered', 20_000, 'the incident to open');
    expect(forKey()).toEqual([
      expect.objectContaining({
        routing_key: PD_KEY,
        event_action: 'trigger',
        applied: true,
        payload: expect.objectContaining({ summary: 'Observer worker worker-1 is down', severity: 'critical', source: 'calls' }),
      }),
    ]);

    await control('worker-up', { workerId: 'worker-1' });
    await until(() => pd.alerts.get(key)?.status === 'resolved', 20_000, 'the incident to resolve');
    expect(forKey().map((e) => [e.event_action, e.applied])).toEqual([
      ['trigger', true],
      ['resolve', true],
    ]);
    expect(pd.alerts.get(key)).toMatchObject({ status: 'resolved', triggers: 1 });
    pd.reset();
  }, 40_000);
});

describe('Observer rows through the stand-in SDK → webhook', () => {
  it('every row the simulator produced for the followed frames reaches the sink exactly once, across a socket drop', async () => {
    sim = await startObserverSimulator({ accessToken: TOKEN });
    sim.control.startCall({ callId: 'R', clients: 2 });
    hook.reset();
    await startBridge(
      true,
      `    frames: [ { ongoingCalls: { pollEvery: 100ms, frames: [callSnapshots, clientSnapshots] } } ]`,
      `connectors:
  hooks: { type: webhook, url: "${hook.url}", secret: "${WEBHOOK_SECRET}", allowPrivateNetworks: true }
routes:
  - { name: rows, match: { kind: observer.row }, to: [hooks] }`,
    );
    await until(() => sim!.control.state().frames.length === 3, 10_000, 'three frames (call R, two clients)');
    expect(sim.control.state().lastRequestId).toMatch(/^sdk-/);

    const produced: Array<Record<string, unknown>> = [];
    const round = () => produced.push(...sim!.control.snapshot('R'));
    round();
    round();
    const firstSession = sim.control.state().frames[0]!.session;
    expect(sim.control.dropSockets()).toBe(1);
    round(); // while the bridge is away: comes back through update() after the reconnect
    const reopened = () => sim!.control.state().frames.filter((f) => f.session !== firstSession).length === 3;
    await until(reopened, 10_000, 'frames re-opened on a new session after the drop');
    round();
    round();

    const seqs = () => new Set(hook.received.map((r) => (r.body as { data: { seq: number } }).data.seq));
    await until(() => seqs().size === produced.length, 30_000, `${produced.length} rows at the sink`);
    await new Promise((r) => setTimeout(r, 300)); // anything extra would show up now
    expect([...seqs()].sort((a, b) => a - b)).toEqual(produced.map((r) => r.seq as number).sort((a, b) => a - b));
    const ids = hook.received.map((r) => r.id);
    expect(new Set(ids).size).toBe(produced.length); // one webhook-id per row
    expect(hook.received.filter((r) => !r.duplicate)).toHaveLength(produced.length);
    expect(hook.received.every((r) => r.verified)).toBe(true);
    // The SDK gave some rows without an id: they still arrived, under a content-derived id.
    expect(hook.received.some((r) => /:sha:[0-9a-f]{20}$/.test((r.body as { id: string }).id))).toBe(true);
  }, 60_000);
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadValidatedConfig } from '../../../src/config/load-validated-config.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { silentLogger } from '../../../src/core/log.js';
import { startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../simulators/sinks/webhook/webhook-receiver.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { until } from '../../helpers/until.js';

/**
 * Nothing the Observer source hands over is emitted once and forgotten: Redis is stopped while
 * rows arrive, a call starts, a worker goes down and summaries are polled; after Redis returns the
 * upstream stays idle (nothing new to trigger a retry) and everything must still reach the sink.
 */

const SDK_DIR = fileURLToPath(new URL('../../fixtures/observer-sdk/', import.meta.url));
const TOKEN = 'tok-outage';

let redis: TestRedis;
let hook: WebhookReceiver;
let sim: RunningObserverSimulator | undefined;
let daemon: Daemon | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis({ appendOnly: true });
  hook = await startWebhookReceiver();
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await sim?.stop();
  sim = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await redis.flush();
  hook.reset();
});
afterAll(async () => {
  await hook.stop();
  await redis.stop();
});

type Body = { id: string; kind: string; data: Record<string, unknown> };

describe.each([
  { label: 'built-in client', sdk: false },
  { label: 'stand-in SDK', sdk: true },
])('Observer source during a Redis outage ($label)', ({ sdk }) => {
  it('rows, a call start, a worker going down and summaries produced while Redis is down all reach the sink after it returns', async () => {
    sim = await startObserverSimulator({ accessToken: TOKEN });
    sim.control.startCall({ callId: 'A', clients: 1 });
    const dir = mkdtempSync(sdk ? join(SDK_DIR, '.tmp-outage-') : join(tmpdir(), 'mb-obs-outage-'));
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
    url: "${sim.url}"
    accessToken: "${TOKEN}"
    reconnect: { initialDelay: 20ms, maxDelay: 200ms }
${sdk ? '    sdk: "@huddle01/observer-client-sdk"\n' : ''}    frames:
      - { ongoingCalls: { pollEvery: 200ms } }
      - { database: { resource: incidents } }
      - { summaryStats: { every: 400ms } }
    admin: { pollEvery: 200ms }
connectors:
  hooks: { type: webhook, url: "${hook.url}", allowPrivateNetworks: true, retry: { backoff: 100ms, maxBackoff: 500ms } }
routes:
  - { name: everything, from: [calls], to: [hooks] }
`,
    );
    daemon = await Daemon.start({ loaded: await loadValidatedConfig(file), logger: silentLogger() });
    const bodies = () => hook.received.filter((r) => r.status < 300).map((r) => r.body as Body);
    await until(
      () => bodies().some((b) => b.kind === 'observer.worker.state') && sim!.control.state().frames.length === 2,
      15_000,
      'first admin events and both frames open',
    );
    const produced: Array<Record<string, unknown>> = [sim.control.pushRow({ kind: 'callSnapshots', callId: 'A' })];
    await until(() => bodies().some((b) => b.data.seq === produced[0]!.seq), 10_000, 'a row before the outage');

    await redis.server.stop();
    for (let i = 0; i < 4; i++) {
      produced.push(sim.control.pushRow({ kind: 'callSnapshots', callId: 'A' }));
      produced.push(sim.control.pushRow({ kind: 'database', resource: 'incidents', row: { severity: 'high' } }));
      await new Promise((r) => setTimeout(r, 250));
    }
    sim.control.startCall({ callId: 'B', clients: 1 });
    sim.control.admin.setWorkerState('worker-1', 'down');
    await new Promise((r) => setTimeout(r, 1000));
    // From here the upstream is idle: no new rows, calls or state changes, and no more summaries.
    sim.control.failRequests({ method: 'getSummaryStats', code: 'unavailable' });
    const summariesAnswered = sim.control.state().requests.getSummaryStats ?? 0;
    await redis.server.start();

    const seqs = () =>
      new Set(
        bodies()
          .filter((b) => b.kind === 'observer.row')
          .map((b) => b.data.seq),
      );
    const summaries = () =>
      new Set(
        bodies()
          .filter((b) => b.kind === 'observer.summary')
          .map((b) => b.id),
      );
    await until(
      () =>
        produced.every((r) => seqs().has(r.seq)) &&
        bodies().some((b) => b.id === 'calls:observer.call.started:B') &&
        bodies().some((b) => b.kind === 'observer.worker.state' && b.data.workerId === 'worker-1' && b.data.down === true) &&
        summaries().size >= summariesAnswered,
      30_000,
      'everything produced during the outage at the sink',
    ).catch(() => undefined);
    expect([...seqs()].sort()).toEqual(produced.map((r) => r.seq).sort());
    expect(bodies().filter((b) => b.id === 'calls:observer.call.started:B')).toHaveLength(1);
    expect(bodies().filter((b) => b.kind === 'observer.worker.state' && b.data.workerId === 'worker-1' && b.data.down === true)).toHaveLength(1);
    // Every summary the service answered became one event (one id per polling period).
    expect(summariesAnswered).toBeGreaterThanOrEqual(5);
    expect(summaries().size).toBe(summariesAnswered);
  }, 60_000);
});

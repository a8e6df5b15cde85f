import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../simulators/observer/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import type { StatusSnapshot } from '../../src/status/status-snapshot.js';
import { runCli, startCli, stopCli, type RunningCli } from '../helpers/cli.js';
import { sample, scrape, until, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

/** `status` against a real daemon (`run` in a child process) fed by the Observer simulator. */

let redis: TestRedis;
let sim: RunningObserverSimulator;
let sink: WebhookReceiver;
let daemon: RunningCli;
let file: string;
let port: number;
const running: RunningCli[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: p } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return p;
}

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startObserverSimulator({ accessToken: 'tok' });
  sink = await startWebhookReceiver();
  port = await freePort();
  file = writeConfig(`
redis: { url: "${redis.url}", keyPrefix: stat }
server: { port: ${port} }
log: { format: json }
shutdown: { grace: 1s }
sources:
  calls: { type: observer, url: "${sim.url}", accessToken: tok, frames: [ { callSnapshots: { callId: S } } ] }
connectors:
  hooks: { type: webhook, url: "${sink.url}", allowPrivateNetworks: true }
  spare: { type: webhook, url: "${sink.url}", allowPrivateNetworks: true }
  stuck: { type: webhook, url: "http://127.0.0.1:9/refused", allowPrivateNetworks: true, retry: { backoff: 1h, maxBackoff: 1h } }
routes:
  - { name: stuck, match: { data.severity: stuck }, to: [stuck] }
  - { name: all, match: {}, to: [hooks] }
  - { name: never, match: { data.severity: never }, to: [spare] }
`);
  sim.control.startCall({ callId: 'S', clients: 1 });
  daemon = startCli(['run', '-c', file]);
  running.push(daemon);
  await daemon.waitFor('moments-bridge running');
  await until('frame open', () => sim.control.state().frames.some((f) => f.stream === 'callSnapshots:S'));
  for (const n of [1, 2, 3]) sim.control.pushRow({ kind: 'callSnapshots', callId: 'S', row: { n } });
  await until('3 delivered', () => sink.received.length >= 3);
  // One delivery that fails (connection refused) and waits an hour for its retry: delayed 1, retries 1.
  sim.control.pushRow({ kind: 'callSnapshots', callId: 'S', row: { severity: 'stuck' } });
  await until('stuck retried', async () => sample(await scrape(`http://127.0.0.1:${port}`), 'mb_queue_jobs_retried_total', { connector: 'stuck' }) === 1);
}, 60_000);

afterAll(async () => {
  for (const cli of running) await stopCli(cli);
  await sink?.stop();
  await sim?.stop();
  await redis?.stop();
});

describe('moments-bridge status', () => {
  it("-c finds the ops server; shows readiness, the source's state and events, each connector with worker, delivered, depth (a delayed retry), retries, dead letters", async () => {
    const res = await runCli(['status', '-c', file]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`moments-bridge at http://127.0.0.1:${port} — ready, redis up`);
    expect(res.stdout).toMatch(/^SOURCE +STATE +EVENTS +CURSOR LAG +OLDEST PENDING +ROLE$/m);
    expect(res.stdout).toMatch(/^calls +connected +[3-9]\d* .* leader$/m);
    expect(res.stdout).toMatch(/^CONNECTOR +WORKER +DELIVERED +WAITING +ACTIVE +DELAYED +RETRIES +DEAD-LETTERED +DEAD LETTERS KEPT$/m);
    expect(res.stdout).toMatch(/^hooks +running +[3-9]\d* +0 +0 +0 +0 +0 +0$/m);
    expect(res.stdout).toMatch(/^spare +running +0 +0 +0 +0 +0 +0 +0$/m);
    expect(res.stdout).toMatch(/^stuck +running +0 +0 +0 +1 +1 +0 +0$/m);
  });

  it('--json (as `top`): one document with sources, connectors and depth', async () => {
    const res = await runCli(['top', '--url', `http://127.0.0.1:${port}`, '--json']);
    expect(res.code).toBe(0);
    const s = JSON.parse(res.stdout) as StatusSnapshot;
    expect(s).toMatchObject({ url: `http://127.0.0.1:${port}`, ready: true, redisUp: true, reasons: [] });
    expect(s.sources).toEqual([expect.objectContaining({ name: 'calls', state: 'connected', ok: true, role: 'leader' })]);
    expect(s.sources[0]!.events).toBeGreaterThanOrEqual(3);
    expect(s.connectors.map((c) => c.name)).toEqual(['hooks', 'spare', 'stuck']);
    expect(s.connectors[2]).toMatchObject({ delivered: 0, retries: 1, deadLettered: 0, depth: { waiting: 0, active: 0, delayed: 1, failed: 0 } });
    expect(s.connectors[0]).toMatchObject({
      workerRunning: true,
      retries: 0,
      deadLettered: 0,
      depth: { waiting: 0, active: 0, delayed: 0, prioritized: 0, failed: 0 },
    });
    expect(s.connectors[0]!.delivered).toBeGreaterThanOrEqual(3);
  });

  it('--watch refreshes with rates from successive scrapes', async () => {
    const cli = startCli(['status', '--url', `http://127.0.0.1:${port}`, '--watch', '--interval', '1', '--json']);
    running.push(cli);
    await until(
      'two refreshes',
      () =>
        cli
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{')).length >= 2,
      15_000,
    );
    const before = (JSON.parse(cli.output().split('\n')[0]!) as StatusSnapshot).connectors[0]!.delivered;
    for (const n of [4, 5]) sim.control.pushRow({ kind: 'callSnapshots', callId: 'S', row: { n } });
    const grown = await until(
      'a refresh with the new deliveries',
      () =>
        cli
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as StatusSnapshot)
          .find((s) => (s.connectors[0]?.delivered ?? 0) >= before + 2),
      15_000,
    );
    expect(grown.connectors[0]!.deliveredPerSecond).toBeGreaterThan(0);
    expect(grown.connectors[1]!.deliveredPerSecond).toBe(0);
    await stopCli(cli);
  });

  it('exits 2 naming the URL when no daemon answers', async () => {
    const closed = await freePort();
    const res = await runCli(['status', '--url', `http://127.0.0.1:${closed}`]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`no moments-bridge daemon answering at http://127.0.0.1:${closed}/`);
    expect(res.stderr).toContain('is it running?');
    expect(res.stdout).toBe('');
  });

  it('--interval 0 is refused before anything runs (exit 1)', async () => {
    const res = await runCli(['status', '--watch', '--interval', '0']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`option '--interval <seconds>' argument '0' is invalid. Expected a whole number ≥ 1.`);
  });
});

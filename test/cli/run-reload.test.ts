import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../simulators/observer/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { until, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let sim: RunningObserverSimulator;
let sink: WebhookReceiver;
const running: RunningCli[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startObserverSimulator({ accessToken: 'tok' });
  sink = await startWebhookReceiver();
});

afterAll(async () => {
  for (const cli of running) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  await sink?.stop();
  await sim?.stop();
  await redis?.stop();
});

function yaml(prefix: string, callId: string, routes: string[]): string {
  return `
redis: { url: "${redis.url}", keyPrefix: ${prefix} }
server: { port: 0 }
log: { format: json }
shutdown: { grace: 1s }
sources:
  calls: { type: observer, url: "${sim.url}", accessToken: tok, frames: [ { callSnapshots: { callId: ${callId} } } ] }
connectors:
  hooks: { type: webhook, url: "${sink.url}", allowPrivateNetworks: true }
routes:
${routes.map((r) => `  - ${r}`).join('\n')}
`;
}

const delivered = (callId: string, severity: string) =>
  sink.received.filter((r) => {
    const data = (r.body as { data?: { severity?: string; callId?: string } }).data;
    return data?.callId === callId && data.severity === severity;
  }).length;

async function started(args: string[]): Promise<RunningCli> {
  const cli = startCli(args);
  running.push(cli);
  await cli.waitFor('moments-bridge running');
  return cli;
}

describe('moments-bridge run: hot reload', () => {
  it('SIGHUP: an added route starts matching; a broken config is rejected with file:line:col and the old one keeps working', async () => {
    sim.control.startCall({ callId: 'S', clients: 1 });
    const file = writeConfig(yaml('hup', 'S', ['{ name: high, match: { data.severity: high }, to: [hooks] }']));
    const cli = await started(['run', '-c', file]);
    await until('frame open', () => sim.control.state().frames.some((f) => f.stream === 'callSnapshots:S'));

    sim.control.pushRow({ kind: 'callSnapshots', callId: 'S', row: { severity: 'low' } });
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'S', row: { severity: 'high' } });
    await until('high delivered', () => delivered('S', 'high') === 1);
    expect(delivered('S', 'low')).toBe(0);

    writeFileSync(
      file,
      yaml('hup', 'S', ['{ name: high, match: { data.severity: high }, to: [hooks] }', '{ name: low, match: { data.severity: low }, to: [hooks] }']),
    );
    cli.child.kill('SIGHUP');
    await cli.waitFor(/config reloaded from .*routes: 1 → 2/);
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'S', row: { severity: 'low' } });
    await until('low delivered by the new route', () => delivered('S', 'low') === 1);

    // Broken: a YAML type error and an unknown connector. Both are logged with file:line:col.
    writeFileSync(file, yaml('hup', 'S', ['{ name: high, match: { data.severity: high }, to: [pager] }']).replace('port: 0', 'port: zero'));
    cli.child.kill('SIGHUP');
    await cli.waitFor('still running the previous config');
    const rejected = cli
      .output()
      .split('\n')
      .filter((l) => l.includes('config reload rejected:'));
    expect(rejected).toHaveLength(2);
    expect(rejected.join('\n')).toMatch(/config\.yaml:3:\d+ +server\.port /);
    expect(rejected.join('\n')).toMatch(/config\.yaml:\d+:\d+ +routes\[0\]\.to\[0\] +no connector named \\"pager\\"/);
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'S', row: { severity: 'low' } });
    await until('the previous config still routes low', () => delivered('S', 'low') === 2);

    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('--watch: saving the file reloads it', async () => {
    sim.control.startCall({ callId: 'W', clients: 1 });
    const file = writeConfig(yaml('watch', 'W', ['{ name: high, match: { data.severity: high }, to: [hooks] }']));
    const cli = await started(['run', '-c', file, '--watch']);
    await until('frame open', () => sim.control.state().frames.some((f) => f.stream === 'callSnapshots:W'));
    writeFileSync(file, yaml('watch', 'W', ['{ name: low, match: { data.severity: low }, to: [hooks] }']));
    await cli.waitFor(/config file changed: reloading/);
    await cli.waitFor(/config reloaded from/);
    sim.control.pushRow({ kind: 'callSnapshots', callId: 'W', row: { severity: 'low' } });
    await until('low delivered after the watched change', () => delivered('W', 'low') === 1);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { Daemon } from '../../src/daemon.js';
import { silentLogger } from '../../src/log.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../src/simulators/moments/moments-simulator.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/simulators/sinks/webhook-receiver.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { until } from '../helpers/until.js';

/**
 * The "no moment lost" promise through the whole daemon: 100 moments, two socket drops with
 * moments created while the bridge was disconnected, and a daemon restart in between — every
 * moment reaches the sink exactly once.
 */

let redis: TestRedis;
let sim: MomentsSimulator;
let hook: WebhookReceiver;
let configFile: string;

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startMomentsSimulator();
  hook = await startWebhookReceiver({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
  configFile = join(mkdtempSync(join(tmpdir(), 'mb-gap-')), 'config.yaml');
  writeFileSync(
    configFile,
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
    reconnect: { initialDelay: 100ms, maxDelay: 500ms }
connectors:
  hooks: { type: webhook, url: "${hook.url}", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", allowPrivateNetworks: true }
routes:
  - { name: all-moments, match: { kind: moment }, to: [hooks] }
`,
  );
});

afterAll(async () => {
  await sim.stop();
  await hook.stop();
  await redis.stop();
});

const startDaemon = async () => Daemon.start({ loaded: await loadValidatedConfig(configFile), logger: silentLogger() });

describe('moments: gap-free through socket drops and a daemon restart', () => {
  it('delivers exactly 100 distinct moments, none twice', async () => {
    const created: string[] = [];
    const create = (n: number) => {
      for (let i = 0; i < n; i++) created.push(sim.control.createMoment({ athleteId: created.length % 7 }).publicId);
    };
    const disconnected = async (n: number) => {
      sim.control.refuseRealtime(true);
      sim.control.dropSockets();
      create(n); // published to no one: only the back-fill can find these
      await new Promise((r) => setTimeout(r, 300));
      sim.control.refuseRealtime(false);
    };

    let daemon = await startDaemon();
    create(20);
    await until(() => hook.received.length >= 20, 20_000, '20 webhooks');
    await disconnected(15); // drop 1
    create(15);
    await until(() => hook.received.length >= 50, 20_000, '50 webhooks');

    await daemon.stop();
    create(10); // while the daemon is down
    daemon = await startDaemon();
    create(20);
    await until(() => hook.received.length >= 80, 20_000, '80 webhooks');
    await disconnected(5); // drop 2
    create(15);
    await until(() => hook.received.length >= 100, 20_000, '100 webhooks');
    await new Promise((r) => setTimeout(r, 1_000)); // room for any late duplicate
    await daemon.stop();

    expect(created).toHaveLength(100);
    const delivered = hook.received.map((w) => (w.body as { data: { publicId: string } }).data.publicId);
    expect(delivered).toHaveLength(100);
    expect(new Set(delivered).size).toBe(100);
    expect(new Set(delivered)).toEqual(new Set(created));
    expect(hook.received.filter((w) => w.duplicate)).toEqual([]);
  }, 90_000);
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/core/log.js';
import { startMomentsSimulator, type MomentsSimulator, type MomentsSimulatorOptions } from '../../simulators/moments/moments-simulator.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startTestRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { until } from '../helpers/until.js';

/**
 * The "no moment lost" promise through the whole daemon: 100 moments, two socket drops with 30
 * moments created while the bridge was disconnected (plus 10 while it was stopped), and a daemon
 * restart in between — every
 * moment reaches the sink exactly once — against each engine variant the bridge must fit: the
 * vendor's documented types, an Amplify-style schema, and an engine that hides its schema.
 */

/** The complete documents example of docs/moments-engine.md, run here so the docs stay true. */
function documentedVendorDocuments(): string {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/moments-engine.md', import.meta.url)), 'utf8');
  const block = /<!-- vendor-documents:start -->\s*```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/moments-engine.md lost its vendor-documents block');
  return block;
}

interface Variant {
  name: string;
  sim: MomentsSimulatorOptions;
  /** Extra YAML under the source (4-space indent). */
  extra: () => string;
  /** Write the config beside this directory's node_modules (an SDK installed next to the config). */
  configBeside?: string;
  /** `cluster`: the daemon runs on a Redis Cluster (`redis.cluster: [seeds]`). @defaultValue redis */
  backend?: 'redis' | 'cluster';
}

/** Holds the stand-in `@dataworks-technology/moments`, written from seed 000 alone. */
const MOMENTS_SDK_DIR = fileURLToPath(new URL('../fixtures/moments-sdk/', import.meta.url));

const VARIANTS: Variant[] = [
  { name: 'vendor schema, default config (documents discovered)', sim: { schema: 'vendor' }, extra: () => '' },
  { name: 'amplify schema, default config (documents discovered)', sim: { schema: 'amplify' }, extra: () => '' },
  { name: 'vendor schema, introspection off, documents from config', sim: { schema: 'vendor', introspection: false }, extra: documentedVendorDocuments },
  // The SDK hides its reconnects (no connection-state callback): the periodic back-fill closes the gaps.
  {
    name: 'the official SDK (stand-in) installed next to the config',
    sim: { schema: 'vendor' },
    extra: () => '    sdk: "@dataworks-technology/moments"\n    backfillEvery: 1s\n',
    configBeside: MOMENTS_SDK_DIR,
  },
];
// The same promise on a Redis Cluster (3 masters, 3 replicas): source state and queue in their own slots.
VARIANTS.push({ ...VARIANTS[0]!, name: `${VARIANTS[0]!.name}, on a Redis Cluster`, backend: 'cluster' });

let redis: TestRedis;
let cluster: TestRedisCluster;
let hook: WebhookReceiver;
const made: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  cluster = await startTestRedisCluster();
  hook = await startWebhookReceiver({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
}, 60_000);

afterAll(async () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  await hook.stop();
  await redis.stop();
  await cluster.stop();
});

function writeConfig(sim: MomentsSimulator, variant: Variant): string {
  const dir = mkdtempSync(variant.configBeside ? join(variant.configBeside, '.run-') : join(tmpdir(), 'mb-gap-'));
  made.push(dir);
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `
redis: ${variant.backend === 'cluster' ? JSON.stringify({ cluster: cluster.urls }) : `{ url: "${redis.url}" }`}
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
${variant.extra()}
connectors:
  hooks: { type: webhook, url: "${hook.url}", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", allowPrivateNetworks: true }
routes:
  - { name: all-moments, match: { kind: moment }, to: [hooks] }
`,
  );
  return file;
}

describe.each(VARIANTS)('moments: gap-free through socket drops and a daemon restart — $name', (variant) => {
  let sim: MomentsSimulator;
  beforeEach(async () => {
    await (variant.backend === 'cluster' ? cluster.flush() : redis.flush());
    hook.reset();
    sim = await startMomentsSimulator(variant.sim);
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('delivers exactly 100 distinct moments, none twice', async () => {
    const configFile = writeConfig(sim, variant);
    const startDaemon = async () => Daemon.start({ loaded: await loadValidatedConfig(configFile), logger: silentLogger() });
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
    await disconnected(15); // drop 2: 30 created while the socket was down, over both drops
    create(5);
    await until(() => hook.received.length >= 100, 20_000, '100 webhooks');
    await new Promise((r) => setTimeout(r, 1_000)); // room for any late duplicate
    await daemon.stop();

    expect(created).toHaveLength(100);
    const delivered = hook.received.map((w) => (w.body as { data: { publicId: string } }).data.publicId);
    expect(delivered).toHaveLength(100);
    expect(new Set(delivered).size).toBe(100);
    expect(new Set(delivered)).toEqual(new Set(created));
    expect(hook.received.filter((w) => w.duplicate)).toEqual([]);
    // The path under test was the one taken: the built-in client reads the schema at each start; an SDK does not.
    if (variant.configBeside) expect(sim.control.stats().introspectionRequests).toBe(0);
    else expect(sim.control.stats().introspectionRequests).toBeGreaterThanOrEqual(2);
  }, 90_000);
});

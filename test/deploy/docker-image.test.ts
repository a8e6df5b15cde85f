import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { FORCE_EXIT_MARGIN_MS } from '../../src/cli/commands/run.js';
import { redisSchema, shutdownSchema, serverSchema } from '../../src/config/schema.js';
import { parseDuration } from '../../src/core/duration.js';
import { BridgeError } from '../../src/core/errors.js';
import { OpsServer } from '../../src/http/ops-server.js';
import { silentLogger } from '../../src/core/log.js';
import { loadKinesalite } from '../../simulators/sinks/kinesis/kinesalite-server.js';

// Docker has no engine on the test machines: the image files are checked by reading them.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** The Dockerfile's HEALTHCHECK instruction (continuation lines joined). */
function healthcheck(): string {
  const joined = read('Dockerfile').replace(/\\\n/g, ' ');
  const line = joined.split('\n').find((l) => /^HEALTHCHECK\s/.test(l));
  expect(line, 'the Dockerfile has a HEALTHCHECK').toBeDefined();
  return line!;
}

describe('Docker image and compose file', () => {
  it('compose gives the bridge longer to stop than the daemon may take to drain', () => {
    const compose = parse(read('docker-compose.yml')) as { services: Record<string, { stop_grace_period?: string }> };
    const period = compose.services.bridge?.stop_grace_period;
    expect(period, 'services.bridge.stop_grace_period is set (Docker default: 10s)').toBeDefined();
    // The grace the compose setup runs with: config.example.yaml's, else the schema default.
    const example = parse(read('config.example.yaml')) as { shutdown?: unknown };
    const grace = parseDuration(shutdownSchema.parse(example.shutdown ?? {}).grace);
    const drainBoundMs = grace + FORCE_EXIT_MARGIN_MS;
    expect(drainBoundMs).toBe(15_000);
    expect(parseDuration(period!)).toBeGreaterThan(drainBoundMs);
  });

  it('profile cluster: six cluster nodes with AOF, a one-shot create over all six with a replica each, two bridges that wait for it', () => {
    interface Service {
      profiles?: string[];
      command?: string[] | string;
      depends_on?: Record<string, { condition: string }>;
      restart?: string;
      stop_grace_period?: string;
      ports?: string[];
    }
    const { services } = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
    const inProfile = (name: string) => Object.entries(services).filter(([, s]) => s.profiles?.includes(name));
    // The default single-Redis setup stays as it was, outside any profile.
    expect(services.redis?.profiles).toBeUndefined();
    expect(services.bridge?.profiles).toBeUndefined();

    const nodes = inProfile('cluster').filter(([, s]) => Array.isArray(s.command) && s.command[0] === 'redis-server');
    expect(nodes.map(([n]) => n).sort()).toEqual(['redis-node-1', 'redis-node-2', 'redis-node-3', 'redis-node-4', 'redis-node-5', 'redis-node-6']);
    for (const [name, node] of nodes) {
      const args = (node.command as string[]).join(' ');
      expect(args, name).toContain('--cluster-enabled yes');
      expect(args, name).toContain('--appendonly yes');
      expect(args, name).toContain(`--cluster-announce-hostname ${name}`);
    }

    const create = services['redis-cluster-create']!;
    expect(create.profiles).toEqual(['cluster']);
    expect(create.restart).toBe('no');
    const script = [create.command].flat().join(' ');
    expect(script).toContain('--cluster-replicas 1');
    const joined = [...script.matchAll(/getent hosts (redis-node-\d)/g)].map((m) => m[1]);
    expect(joined.sort()).toEqual(nodes.map(([n]) => n).sort());
    for (const [name] of nodes) expect(create.depends_on?.[name]?.condition).toBe('service_healthy');

    const bridges = inProfile('cluster').filter(([, s]) => [s.command].flat().includes('run'));
    expect(bridges).toHaveLength(2);
    const hostPorts = new Set<string>();
    for (const [name, bridge] of bridges) {
      expect(bridge.depends_on?.['redis-cluster-create']?.condition, name).toBe('service_completed_successfully');
      expect(bridge.stop_grace_period, name).toBe(services.bridge?.stop_grace_period);
      for (const p of bridge.ports ?? []) {
        expect(p, name).toMatch(/^127\.0\.0\.1:/);
        hostPorts.add(p.split(':')[1]!);
      }
    }
    expect(hostPorts.size, 'each bridge publishes its own host port').toBe(2);

    // The seeds the compose file's header tells users to configure are a valid redis.cluster.
    const seeds = /redis: \{ cluster: \[([^\]]+)\] \}/
      .exec(read('docker-compose.yml'))?.[1]
      ?.split(',')
      .map((s) => s.trim());
    expect(seeds).toHaveLength(3);
    expect(redisSchema.parse({ cluster: seeds })).toMatchObject({ cluster: seeds });
    for (const seed of seeds!) expect(nodes.map(([n]) => n)).toContain(new URL(seed).hostname);
  });

  it('HEALTHCHECK probes liveness (/healthz on the default port), which stays 200 while the daemon is not ready', async () => {
    const line = healthcheck();
    const url = /https?:\/\/[^'"\s)]+/.exec(line)?.[0];
    expect(url).toBeDefined();
    expect(url).not.toContain('/readyz');
    const probe = new URL(url!);
    expect(Number(probe.port)).toBe(serverSchema.parse({}).port);
    expect(read('Dockerfile')).toMatch(new RegExp(`^EXPOSE ${probe.port}$`, 'm'));

    // The probed path on a real ops server whose readiness fails (Redis down): still healthy.
    const server = new OpsServer({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      readiness: async () => ({ ready: false, reasons: ['redis: connection reconnecting'], checks: {} }),
    });
    await server.start();
    try {
      const base = `http://127.0.0.1:${server.address.port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect((await fetch(`${base}${probe.pathname}`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('keeps secrets and host build output out of the build context (.dockerignore)', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['.env', 'config.yaml', 'node_modules', '.git', 'dist', '.data']) expect(ignored).toContain(entry);
    // Whatever the Dockerfile copies must stay in the context.
    const copied = [...read('Dockerfile').matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(copied).toContain('src');
    expect(copied).toContain('simulators');
    for (const path of copied) expect(ignored, `${path} is copied by the Dockerfile`).not.toContain(path);
  });

  it('ships no simulator-only packages: kinesalite and leveldown are development dependencies only', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('kinesalite');
    expect(Object.keys(pkg.dependencies)).not.toContain('leveldown');
    expect(Object.keys(pkg.devDependencies)).toContain('kinesalite');
    // `npm prune --omit=dev` (the Dockerfile's build stage) removes every package marked dev.
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
    for (const name of ['kinesalite', 'leveldown']) {
      const entries = Object.entries(lock.packages).filter(([path]) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`));
      expect(entries.length, `${name} in package-lock.json`).toBeGreaterThan(0);
      for (const [path, entry] of entries) expect(entry.dev, `${path} is dev-only`).toBe(true);
    }
    expect(read('Dockerfile')).toMatch(/npm prune --omit=dev/);
  });

  it('loads kinesalite only on demand; only the demo stack uses it, and the demo loads that lazily', () => {
    const importers = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .filter((f) => /from '[^']*kinesalite-server\.js'/.test(read(join(dir, f))))
        .map((f) => join(dir, f));
    expect(importers('src')).toEqual([]);
    expect(importers('connectors')).toEqual([]);
    expect(importers('simulators')).toEqual(['simulators/demo/demo-stack.ts']);
    expect(read('src/cli/commands/demo.ts')).toMatch(/await import\('\.\.\/\.\.\/\.\.\/simulators\/demo\/demo-stack\.js'\)/);
    expect(
      readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter(
        (f) => f.endsWith('.ts') && !f.endsWith('demo.ts') && read(join('src', f)).includes("demo/demo-stack.js'"),
      ),
    ).toEqual([]);
  });

  it('says what to do when kinesalite is missing (an install without dev dependencies)', () => {
    const elsewhere = createRequire(join(mkdtempSync(join(tmpdir(), 'mb-no-kinesalite-')), 'index.js'));
    let thrown: unknown;
    try {
      loadKinesalite(elsewhere);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BridgeError);
    expect((thrown as BridgeError).code).toBe('kinesalite_missing');
    expect((thrown as BridgeError).message).toMatch(/kinesalite.*not installed.*npm install/);
    // Where it is installed (a dev checkout), the factory loads.
    expect(typeof loadKinesalite()).toBe('function');
  });
});

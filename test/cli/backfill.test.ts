import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInstant } from '../../src/cli/commands/backfill.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../simulators/moments/moments-simulator.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

describe('backfill arguments', () => {
  const now = Date.parse('2025-03-04T12:00:00Z');
  it.each([
    ['6h', '2025-03-04T06:00:00.000Z'],
    ['7d', '2025-02-25T12:00:00.000Z'],
    ['2025-03-01T10:00:00Z', '2025-03-01T10:00:00.000Z'],
    ['2025-03-01', '2025-03-01T00:00:00.000Z'],
  ])('--since %s → %s', (value, iso) => {
    expect(parseInstant(value, '--since', now).toISOString()).toBe(iso);
  });

  it.each(['yesterday', '2025-13-45T99:00:00Z'])('rejects %s with what to write instead', (value) => {
    expect(() => parseInstant(value, '--since', now)).toThrow(/--since .*(duration back from now|ISO time)/);
  });
});

describe('moments-bridge backfill', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mb-backfill-'));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(
    cfg,
    `redis: { url: "redis://127.0.0.1:1" }
sources:
  calls: { type: observer, url: "ws://127.0.0.1:1", accessToken: tok }
connectors:
  hooks: { type: webhook, url: "http://127.0.0.1:1/", allowPrivateNetworks: true }
routes:
  - { name: all, to: [hooks] }
`,
  );

  it('says which sources cannot be back-filled and exits 1', async () => {
    const res = await runCli(['backfill', '-c', cfg, '--since', '1h', '--dry-run']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('backfill: source calls (type observer) has no history API; skipped');
    expect(res.stderr).toContain('no configured source has a history API');
    const named = await runCli(['backfill', '-c', cfg, '--since', '1h', '--dry-run', '--source', 'calls']);
    expect(named.stderr).toContain('source "calls" (type observer) has no history API, so it cannot be back-filled');
  });

  it('checks --since/--until and --source before touching anything', async () => {
    expect((await runCli(['backfill', '-c', cfg, '--since', '1h', '--until', '2h'])).stderr).toMatch(/--since \(.*\) must be before --until/);
    expect((await runCli(['backfill', '-c', cfg, '--since', '1h', '--source', 'nope'])).stderr).toContain('no source named "nope" (sources: calls)');
  });
});

describe('moments-bridge backfill --json', () => {
  let redis: TestRedis;
  let sim: MomentsSimulator;
  let cfg: string;
  beforeAll(async () => {
    redis = await startTestRedis();
    sim = await startMomentsSimulator();
    for (let i = 0; i < 3; i++) sim.control.createMoment({ athleteId: 7, createdAt: new Date(Date.now() - (i + 1) * 60_000).toISOString() }, { live: false });
    cfg = join(mkdtempSync(join(tmpdir(), 'mb-backfill-json-')), 'config.yaml');
    writeFileSync(
      cfg,
      `redis: { url: "${redis.url}", keyPrefix: bj }
sources:
  moments: { type: moments, cognitoEndpoint: "${sim.cognitoEndpoint}", graphqlUrl: "${sim.graphqlUrl}", clientId: sim-client, username: demo, password: demo-password }
connectors:
  hooks: { type: webhook, url: "http://127.0.0.1:1/", allowPrivateNetworks: true }
routes:
  - { name: all, match: { kind: moment }, to: [hooks] }
`,
    );
  });
  afterAll(async () => {
    await sim?.stop();
    await redis?.stop();
  });

  it('prints one JSON document with the window, the sources and the counts', async () => {
    const res = await runCli(['backfill', '-c', cfg, '--since', '1h', '--json']);
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      command: 'backfill',
      dryRun: false,
      sources: ['moments'],
      events: 3,
      enqueued: 3,
      duplicates: 0,
      noDelivery: 0,
      invalid: 0,
      filtered: 0,
    });
    expect(Date.parse(doc.until as string) - Date.parse(doc.since as string)).toBe(3_600_000);
  });
});

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { baseUrl, sample, scrape, startDaemon, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const TOKEN = 'reload-token-3b9f';
let redis: TestRedis;
let daemon: Daemon;
let file: string;

function yaml(routes: string, extra = ''): string {
  return `
redis: { url: "${redis.url}", keyPrefix: httpreload }
server: { port: 0, adminToken: "\${MB_TEST_RELOAD_TOKEN}" }
shutdown: { grace: 1s }
connectors:
  hooks: { type: webhook, url: "http://127.0.0.1:9/hook", allowPrivateNetworks: true }
${extra}
routes:
${routes}
`;
}

const ONE = '  - { name: first, to: [hooks] }';
const TWO = `${ONE}\n  - { name: second, match: { kind: moment }, to: [hooks] }`;

beforeAll(async () => {
  redis = await startTestRedis();
  process.env.MB_TEST_RELOAD_TOKEN = TOKEN;
  file = writeConfig(yaml(ONE));
  daemon = await startDaemon(file);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await redis?.stop();
});

function post(headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, method = 'POST'): Promise<Response> {
  return fetch(`${baseUrl(daemon)}/-/reload`, { method, headers });
}

async function reloadMetrics(): Promise<{ successful?: number; at?: number; applied?: number; rejected?: number; failed?: number }> {
  const m = await scrape(baseUrl(daemon));
  return {
    successful: sample(m, 'mb_config_last_reload_successful'),
    at: sample(m, 'mb_config_last_reload_success_timestamp_seconds'),
    applied: sample(m, 'mb_config_reloads_total', { result: 'applied' }) ?? 0,
    rejected: sample(m, 'mb_config_reloads_total', { result: 'rejected' }) ?? 0,
    failed: sample(m, 'mb_config_reloads_total', { result: 'failed' }) ?? 0,
  };
}

interface Report {
  ok: boolean;
  outcome: string;
  errors: string[];
  changes: string[];
  needsRestart: string[];
}

describe('POST /-/reload', () => {
  it('counts the start-up config as the last successful load', async () => {
    const m = await reloadMetrics();
    expect(m.successful).toBe(1);
    expect(m.at).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(m.at).toBeLessThanOrEqual(Date.now() / 1000);
  });

  it('refuses a request without the token, with a wrong one, with HTTP Basic, and any method but POST — and reloads nothing', async () => {
    const before = await reloadMetrics();
    writeFileSync(file, yaml(TWO));
    const none = await post({});
    expect(none.status).toBe(401);
    expect(await none.text()).toContain('Authorization: Bearer <server.adminToken>');
    expect((await post({ authorization: 'Bearer wrong' })).status).toBe(401);
    // A browser replays Basic credentials by itself (cross-site request forgery): only Bearer counts.
    const basic = Buffer.from(`admin:${TOKEN}`).toString('base64');
    expect((await post({ authorization: `Basic ${basic}` })).status).toBe(401);
    const get = await post({ authorization: `Bearer ${TOKEN}` }, 'GET');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await reloadMetrics()).toEqual(before);
    expect(daemon.config.routes).toHaveLength(1);
    writeFileSync(file, yaml(ONE));
  });

  it('applies a valid file (200, what changed) and records the time', async () => {
    const before = await reloadMetrics();
    const startedAt = Math.floor(Date.now() / 1000);
    writeFileSync(file, yaml(TWO));
    const res = await post();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const report = (await res.json()) as Report;
    expect(report).toEqual({ ok: true, outcome: 'applied', errors: [], changes: ['routes: 1 → 2'], needsRestart: [] });
    expect(daemon.config.routes.map((r) => r.name)).toEqual(['first', 'second']);
    const after = await reloadMetrics();
    expect(after.successful).toBe(1);
    expect(after.at).toBeGreaterThanOrEqual(startedAt);
    expect(after.applied).toBe(before.applied! + 1);
  });

  it('answers 422 with every problem for an invalid file, keeps the running config, and reports the failure in the metrics', async () => {
    const before = await reloadMetrics();
    writeFileSync(
      file,
      yaml(`${TWO}\n  - { name: third, to: [nowhere] }`).replace('allowPrivateNetworks: true }', 'allowPrivateNetworks: true, colour: red }'),
    );
    const res = await post();
    expect(res.status).toBe(422);
    const report = (await res.json()) as Report;
    expect(report.ok).toBe(false);
    expect(report.outcome).toBe('rejected');
    expect(report.errors.join('\n')).toMatch(/config\.yaml:\d+:\d+ +connectors\.hooks\.colour +unknown key "colour"/);
    expect(report.errors.join('\n')).toMatch(/config\.yaml:\d+:\d+ +routes\[2\]\.to\[0\] +.*nowhere/);
    expect(daemon.config.routes).toHaveLength(2);
    const after = await reloadMetrics();
    expect(after.successful).toBe(0);
    expect(after.at).toBe(before.at);
    expect(after.rejected).toBe(before.rejected! + 1);

    // Fixed: the next reload turns the gauge back to 1.
    writeFileSync(file, yaml(ONE));
    expect((await post()).status).toBe(200);
    expect((await reloadMetrics()).successful).toBe(1);
  });

  it('answers 500 when a valid file cannot be built (a connector whose create() fails only for real)', async () => {
    const before = await reloadMetrics();
    // `check` compiles connectors against an unconnected Redis handle; this one fails when given
    // the daemon's live connection — standing for a create() that does I/O only the daemon attempts.
    writeFileSync(
      join(dirname(file), 'flaky-connector.js'),
      `export default { type: 'flaky', create(_config, ctx) {
        if (ctx.redis.status === 'ready') throw new Error('the sink refused the login');
        return { renderer: () => ({ render: () => ({}) }), deliver: async () => ({ status: 'delivered' }) };
      } };
`,
    );
    writeFileSync(file, yaml(ONE, '  mine: { type: module, path: ./flaky-connector.js }'));
    const res = await post();
    const report = (await res.json()) as Report;
    expect(report.outcome).toBe('failed');
    expect(res.status).toBe(500);
    expect(report.errors.join('\n')).toContain('flaky-connector.js');
    expect(Object.keys(daemon.config.connectors)).toEqual(['hooks']);
    const after = await reloadMetrics();
    expect(after.successful).toBe(0);
    expect(after.failed).toBe(before.failed! + 1);
    writeFileSync(file, yaml(ONE));
    expect((await post()).status).toBe(200);
  });

  it('is off (404, says how to turn it on) when no admin token is set', async () => {
    const plain = await startDaemon(writeConfig(`redis: { url: "${redis.url}", keyPrefix: httpreload2 }\nserver: { port: 0 }\n`));
    try {
      const res = await fetch(`${baseUrl(plain)}/-/reload`, { method: 'POST' });
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('set server.adminToken');
    } finally {
      await plain.stop();
    }
  });
});

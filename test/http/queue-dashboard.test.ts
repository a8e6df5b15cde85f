import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { baseUrl, startDaemon, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const TOKEN = 'dash-token-7f3a';
let redis: TestRedis;
let daemon: Daemon;
let browser: Browser;

beforeAll(async () => {
  redis = await startTestRedis();
  process.env.MB_TEST_ADMIN_TOKEN = TOKEN;
  daemon = await startDaemon(
    writeConfig(`
redis: { url: "${redis.url}", keyPrefix: dash }
server: { port: 0, adminToken: "\${MB_TEST_ADMIN_TOKEN}" }
connectors:
  ops-hooks: { type: webhook, url: "http://127.0.0.1:9/hook", allowPrivateNetworks: true }
  audit-hooks: { type: webhook, url: "http://127.0.0.1:9/audit", allowPrivateNetworks: true }
`),
  );
  // Debian's chromium (installed by .ci/run). launch() gives it a fresh temporary --user-data-dir.
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  await redis?.stop();
});

describe('queue dashboard (/admin/queues)', () => {
  it('shows every connector queue to a browser that sends the admin token', async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${baseUrl(daemon)}/admin/queues`);
      expect(response?.status()).toBe(200);
      // The queue list is rendered by the dashboard's script from its JSON API.
      await page.getByText('ops-hooks').first().waitFor({ timeout: 20_000 });
      await page.getByText('audit-hooks').first().waitFor({ timeout: 5_000 });
      expect(await page.title()).toContain('moments-bridge');
    } finally {
      await context.close();
    }
  });

  it('accepts HTTP Basic with the token as password (browser login prompt)', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'admin', password: TOKEN } });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${baseUrl(daemon)}/admin/queues`);
      expect(response?.status()).toBe(200);
      await page.getByText('ops-hooks').first().waitFor({ timeout: 20_000 });
    } finally {
      await context.close();
    }
  });

  it('answers 401 without the token, with a wrong token, and on the API routes', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // Chromium answers the Basic challenge by aborting the navigation (there is nobody to type
      // a password), so the 401 is read from the response event rather than from goto().
      const answered = page.waitForResponse((r) => r.url().endsWith('/admin/queues'));
      await page.goto(`${baseUrl(daemon)}/admin/queues`).catch(() => undefined);
      const response = await answered;
      expect(response.status()).toBe(401);
      expect(response.headers()['www-authenticate']).toMatch(/^Basic realm="moments-bridge"/);
      expect(await page.getByText('ops-hooks').count()).toBe(0);
    } finally {
      await context.close();
    }
    const base = baseUrl(daemon);
    const plain = await fetch(`${base}/admin/queues/api/queues`);
    expect(plain.status).toBe(401);
    expect(await plain.text()).toContain('server.adminToken');
    expect((await fetch(`${base}/admin/queues`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const api = await fetch(`${base}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: { displayName?: string; name: string }[] }).queues.map((q) => q.displayName ?? q.name).sort();
    expect(names).toEqual(['audit-hooks', 'ops-hooks']);
  });
});

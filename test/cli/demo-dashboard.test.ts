import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCli, stopCli, type RunningCli } from '../helpers/cli.js';

const running: RunningCli[] = [];
let browser: Browser;

beforeAll(async () => {
  // Debian's chromium (scripts/ensure-chromium.sh), as in test/http/queue-dashboard.test.ts.
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

afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => stopCli(cli)));
});

afterAll(async () => {
  await browser?.close();
});

describe('moments-bridge demo: queue dashboard', () => {
  it('prints a dashboard URL that opens the dashboard in a browser, with every demo connector queue', async () => {
    const cli = startCli(['demo', '--duration', '60', '--rate', '2']);
    running.push(cli);
    await cli.waitFor(/Queue dashboard\s+http:\/\/\S+/, 60_000);
    const url = /Queue dashboard\s+(http:\/\/\S+)/.exec(cli.output())![1]!;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(url);
      expect(response?.status()).toBe(200);
      // The queue list comes from the dashboard's JSON API, fetched by its script: it must be
      // authorised by the same link.
      for (const connector of ['ops-slack', 'oncall', 'report', 'stream', 'hooks']) {
        await page.getByText(connector, { exact: true }).first().waitFor({ timeout: 45_000 });
      }
      expect(await page.title()).toContain('moments-bridge');
    } finally {
      await context.close();
    }
  }, 150_000);
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/core/log.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../simulators/moments/moments-simulator.js';
import { startSheetsApiServer, type SheetsApiServer } from '../../simulators/sinks/sheets/sheets-api-server.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

/**
 * The Sheets reporting sync use case: `backfill --since 24h --route report` fills a sheet with a
 * day of moments — every row once, within Google's 60 writes per minute — and re-running it
 * writes nothing twice.
 */

const MOMENTS = 5_000;
const TOKEN = 'ya29.backfill-test-token';

let redis: TestRedis;
let sim: MomentsSimulator;
let sheets: SheetsApiServer;
let configFile: string;

beforeAll(async () => {
  redis = await startTestRedis();
  sim = await startMomentsSimulator();
  // The server answers 429 RESOURCE_EXHAUSTED past 60 writes a minute, as Google does.
  sheets = await startSheetsApiServer({ spreadsheets: ['report-sheet'], accessTokens: [TOKEN], writeQuotaPerMinute: 60 });
  configFile = join(mkdtempSync(join(tmpdir(), 'mb-backfill-sheets-')), 'config.yaml');
  writeFileSync(
    configFile,
    `
redis: { url: "${redis.url}" }
server: { enabled: false }
sources:
  moments: { type: moments, cognitoEndpoint: "${sim.cognitoEndpoint}", graphqlUrl: "${sim.graphqlUrl}", clientId: sim-client, username: demo, password: demo-password }
connectors:
  report:
    type: sheets
    rootUrl: "${sheets.url}"
    accessToken: "${TOKEN}"
    spreadsheetId: report-sheet
    sheet: Moments
    mode: upsert
    key: "{{ data.publicId }}"
    columns: { Time: "{{ time }}", Athlete: "{{ data.athleteId }}", Moment: "{{ data.moment }}" }
routes:
  - { name: report, match: { kind: moment }, to: [report] }
  - { name: other, match: { kind: moment }, to: [report] }
`,
  );
  const now = Date.now();
  for (let i = 0; i < MOMENTS; i++) {
    // A day of moments, one every 15 s, none of them published live.
    sim.control.createMoment({ athleteId: 100 + (i % 25), createdAt: new Date(now - (MOMENTS - i) * 15_000).toISOString() }, { live: false });
  }
});

afterAll(async () => {
  await sim.stop();
  await sheets.stop();
  await redis.stop();
});

describe('backfill → Sheets', () => {
  it(`fills a sheet with ${MOMENTS} moments, each row once, ≤ 60 write requests per minute; a re-run adds nothing`, async () => {
    const first = await runCli(['backfill', '-c', configFile, '--since', '24h', '--route', 'report']);
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    expect(first.stdout + first.stderr).toContain(`${MOMENTS} deliveries enqueued, 0 already queued`);

    // backfill only enqueues; a delivery-only daemon (no sources) sends.
    const daemon = await Daemon.start({ loaded: await loadValidatedConfig(configFile), logger: silentLogger(), sources: false });
    try {
      const deadline = Date.now() + 120_000;
      const dataRows = () => Math.max(0, sheets.values('report-sheet', 'Moments').length - 1);
      while (dataRows() < MOMENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const rows = sheets.values('report-sheet', 'Moments');
      const header = rows[0]!;
      const keyColumn = header.indexOf('Key');
      expect(keyColumn).toBeGreaterThanOrEqual(0);
      const keys = rows.slice(1).map((r) => r[keyColumn]);
      expect(keys).toHaveLength(MOMENTS);
      expect(new Set(keys).size).toBe(MOMENTS);
      expect(sheets.maxWritesPerMinute()).toBeLessThanOrEqual(60);

      const again = await runCli(['backfill', '-c', configFile, '--since', '24h', '--route', 'report']);
      expect(again.code).toBe(0);
      expect(again.stdout + again.stderr).toContain(`0 deliveries enqueued, ${MOMENTS} already queued or delivered`);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(sheets.values('report-sheet', 'Moments').length - 1).toBe(MOMENTS);
    } finally {
      await daemon.stop();
    }
  }, 180_000);
});

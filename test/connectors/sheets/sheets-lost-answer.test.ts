import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery, DeliveryResult } from '../../../connectors/connector.js';
import { sheetsConnector, type SheetsConnector, type SheetsPayload } from '../../../connectors/sheets/index.js';
import type { BridgeEvent } from '../../../src/core/event.js';
import { silentLogger } from '../../../src/core/log.js';
import { startSheetsApiServer, type SheetsApiServer } from '../../../simulators/sinks/sheets/sheets-api-server.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';

const TOKEN = 'ya29.test-token-for-sheets';
const SHEET_ID = 'sheet-lost';
const ROWS = 20;
const BATCH = 5;

let redis: TestRedis;
let client: Redis;
let server: SheetsApiServer;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
});
afterAll(() => redis.stop());
beforeEach(async () => {
  await redis.flush();
  server = await startSheetsApiServer({ spreadsheets: [SHEET_ID], accessTokens: [TOKEN] });
});
afterEach(() => server.stop());

function moment(i: number): BridgeEvent {
  return {
    id: `moments:moment:m-${i}`,
    source: 'moments',
    kind: 'moment',
    time: new Date(Date.UTC(2026, 10, 22, 12, 0, i)).toISOString(),
    data: { publicId: `m-${i}`, moment: `HR spike ${i}` },
  };
}

async function connector(config: Record<string, unknown>): Promise<SheetsConnector> {
  const parsed = sheetsConnector.configSchema.parse({
    type: 'sheets',
    spreadsheetId: SHEET_ID,
    sheet: 'Moments',
    rootUrl: server.url,
    accessToken: TOKEN,
    columns: { Id: '{{ data.publicId }}', Moment: '{{ data.moment }}' },
    ...config,
  });
  return (await sheetsConnector.create(parsed, { name: 'report', redis: client, keyPrefix: 'mb:', logger: silentLogger(), configDir: '.' })) as SheetsConnector;
}

/** What the queue does: deliver a batch, and retry (attempt + 1) every delivery that did not succeed. */
async function deliverWithRetries(c: SheetsConnector, batch: Delivery<SheetsPayload>[]): Promise<DeliveryResult[][]> {
  const rounds: DeliveryResult[][] = [];
  let pending = batch;
  for (let round = 0; pending.length > 0 && round < 5; round++) {
    const results = await c.deliverBatch(pending, new AbortController().signal);
    rounds.push(results);
    pending = pending.filter((_, i) => results[i]!.status !== 'delivered').map((d) => ({ ...d, attempt: d.attempt + 1 }));
  }
  expect(pending, 'every delivery eventually succeeds').toEqual([]);
  return rounds;
}

describe.each([
  ['append', {}],
  ['upsert', { mode: 'upsert', key: '{{ data.publicId }}' }],
])('sheets %s mode: the answer of a write is lost after it landed', (mode, config) => {
  it.each([['reset'], ['503']] as const)(
    `${ROWS} rows in batches of ${BATCH}, every append answer lost (%s) → exactly ${ROWS} rows, no duplicate`,
    async (as) => {
      const c = await connector(config);
      const renderer = c.renderer();
      for (let start = 0; start < ROWS; start += BATCH) {
        const batch = Array.from({ length: BATCH }, (_, k) => {
          const event = moment(start + k);
          return { id: `d-${event.id}`, event, route: 'r', connector: 'report', payload: renderer.render(event) as SheetsPayload, attempt: 1 };
        });
        server.loseAnswerAfterWrite({ as, pathIncludes: ':append' });
        const rounds = await deliverWithRetries(c, batch);
        expect(rounds[0]!.map((r) => r.status)).toEqual(Array(BATCH).fill('retry'));
      }
      const [header, ...rows] = server.values(SHEET_ID, 'Moments');
      const ids = rows.map((r) => r[header!.indexOf('Id')]);
      expect(ids).toHaveLength(ROWS);
      expect(new Set(ids).size).toBe(ROWS);
      expect([...ids].sort()).toEqual(Array.from({ length: ROWS }, (_, i) => `m-${i}`).sort());
      // The answer really was lost after the write landed, once per batch.
      expect(server.requests.filter((r) => r.path.endsWith(':append') && r.status !== 200)).toHaveLength(ROWS / BATCH);
    },
  );
});

describe('append mode without the delivery-id column', () => {
  it('deliveryIdColumn: false writes no extra column (and cannot tell a landed write from a lost one)', async () => {
    const c = await connector({ deliveryIdColumn: false });
    const event = moment(1);
    await c.deliverBatch(
      [{ id: 'd-1', event, route: 'r', connector: 'report', payload: c.renderer().render(event) as SheetsPayload, attempt: 1 }],
      new AbortController().signal,
    );
    expect(server.values(SHEET_ID, 'Moments')[0]).toEqual(['Id', 'Moment']);
  });
});

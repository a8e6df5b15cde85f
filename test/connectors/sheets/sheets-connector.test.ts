import { generateKeyPairSync } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery, DeliveryResult } from '../../../connectors/connector.js';
import { sheetsConnector, type SheetsConnector, type SheetsPayload } from '../../../connectors/sheets/index.js';
import type { BridgeEvent } from '../../../src/core/event.js';
import { InputError, PayloadError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/log.js';
import { startSheetsApiServer, type SheetsApiServer } from '../../../simulators/sinks/sheets/sheets-api-server.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';

const TOKEN = 'ya29.test-token-for-sheets';
const SHEET_ID = 'sheet-1';
const signal = new AbortController().signal;

let redis: TestRedis;
let client: Redis;
let server: SheetsApiServer;
const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const EMAIL = 'bridge@test-project.iam.gserviceaccount.com';

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
  server = await startSheetsApiServer({ spreadsheets: [SHEET_ID], accessTokens: [TOKEN], serviceAccounts: [{ clientEmail: EMAIL, publicKey }] });
});
afterEach(async () => {
  await server.stop();
});

function moment(i: number, extra: Record<string, unknown> = {}): BridgeEvent {
  return {
    id: `moments:moment:m-${i}`,
    source: 'moments',
    kind: 'moment',
    time: new Date(Date.UTC(2026, 10, 22, 12, 0, i)).toISOString(),
    data: { publicId: `m-${i}`, athleteId: `a-${i % 3}`, moment: `HR spike ${i}`, value: 170 + i, ...extra },
  };
}

async function connector(config: Record<string, unknown> = {}, name = 'report'): Promise<SheetsConnector> {
  const parsed = sheetsConnector.configSchema.parse({
    type: 'sheets',
    spreadsheetId: SHEET_ID,
    sheet: 'Moments',
    rootUrl: server.url,
    accessToken: TOKEN,
    columns: { Moment: '{{ data.moment }}', Athlete: '{{ data.athleteId }}', Value: '{{ data.value }}' },
    ...config,
  });
  return (await sheetsConnector.create(parsed, { name, redis: client, keyPrefix: 'mb:', logger: silentLogger(), configDir: '.' })) as SheetsConnector;
}

function deliveries(c: SheetsConnector, events: BridgeEvent[], overrides?: Record<string, unknown>): Delivery<SheetsPayload>[] {
  const renderer = c.renderer(overrides);
  return events.map((event) => ({
    id: `d-${event.id}`,
    event,
    route: 'report',
    connector: 'report',
    payload: renderer.render(event) as SheetsPayload,
    attempt: 1,
  }));
}

const statuses = (results: DeliveryResult[]): string[] => results.map((r) => r.status);
const appends = (): number => server.requests.filter((r) => r.path.endsWith(':append') && r.status === 200).length;

describe('sheets connector: batching', () => {
  it('creates the sheet and header row, then writes N deliveries with one values.append', async () => {
    const c = await connector();
    const events = Array.from({ length: 25 }, (_, i) => moment(i));
    const results = await c.deliverBatch(deliveries(c, events), signal);
    expect(statuses(results)).toEqual(Array(25).fill('delivered'));
    expect(appends()).toBe(1);
    const values = server.values(SHEET_ID, 'Moments');
    // Append mode ends the header with the delivery-id column (idempotent retries after a lost answer).
    expect(values[0]).toEqual(['Moment', 'Athlete', 'Value', '_delivery']);
    expect(values.slice(1)).toEqual(
      events.map((e) => {
        const d = e.data as { moment: string; athleteId: string; value: number };
        return [d.moment, d.athleteId, String(d.value), `d-${e.id}`];
      }),
    );
    // addSheet + header + one append: three writes for 25 rows.
    expect(server.requests.filter((r) => r.write).length).toBe(3);
  });

  it('deliver() sends a single delivery as a one-row flush', async () => {
    const c = await connector();
    const [d] = deliveries(c, [moment(9)]);
    expect(await c.deliver(d!, signal)).toMatchObject({ status: 'delivered', info: { op: 'appended', row: 2 } });
    expect(server.values(SHEET_ID, 'Moments')[1]).toEqual(['HR spike 9', 'a-0', '179', 'd-moments:moment:m-9']);
  });

  it('keeps numbers as numbers and matches columns to an existing header by name', async () => {
    const book = server.sheets.get(SHEET_ID)!;
    book.sheets.push({ sheetId: 99, title: 'Moments', rows: [['Value', 'Notes', 'Moment']] });
    const c = await connector();
    await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    const rows = server.sheets.get(SHEET_ID)!.sheets.find((s) => s.title === 'Moments')!.rows;
    expect(rows[0]).toEqual(['Value', 'Notes', 'Moment', 'Athlete', '_delivery']);
    expect(rows[1]).toEqual([171, '', 'HR spike 1', 'a-1', 'd-moments:moment:m-1']);
  });

  it('honours the service-account key token_uri (JWT bearer flow against the local token endpoint)', async () => {
    const key = JSON.stringify({ type: 'service_account', client_email: EMAIL, private_key: privateKey, private_key_id: 'k1', token_uri: server.tokenUri });
    const c = await connector({ accessToken: undefined, serviceAccountKey: key });
    const results = await c.deliverBatch(deliveries(c, [moment(1), moment(2)]), signal);
    expect(statuses(results)).toEqual(['delivered', 'delivered']);
    expect(server.tokenRequests).toHaveLength(1);
    const claims = server.tokenRequests[0]!.claims;
    expect(claims.iss).toBe(EMAIL);
    expect(claims.aud).toBe(server.tokenUri);
    expect(claims.scope).toBe('https://www.googleapis.com/auth/spreadsheets');
    expect(server.values(SHEET_ID, 'Moments')).toHaveLength(3);
  });

  it('a key the token endpoint rejects is permanent with the reason', async () => {
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const key = JSON.stringify({ client_email: EMAIL, private_key: other.privateKey, token_uri: server.tokenUri });
    const c = await connector({ accessToken: undefined, serviceAccountKey: key });
    const [result] = await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    expect(result!.status).toBe('permanent');
    expect(result!.status === 'permanent' && result!.reason).toMatch(/Invalid JWT Signature/);
  });

  it('rejects a service-account key without private_key at create time', async () => {
    await expect(connector({ accessToken: undefined, serviceAccountKey: '{"client_email":"x@y"}' })).rejects.toThrow(/client_email and private_key/);
  });
});

describe('sheets connector: upsert', () => {
  const upsert = { mode: 'upsert', key: '{{ data.publicId }}' };

  it('never duplicates rows across a restart, even with the Redis index lost', async () => {
    const first = await connector(upsert);
    const batch1 = Array.from({ length: 10 }, (_, i) => moment(i));
    expect(statuses(await first.deliverBatch(deliveries(first, batch1), signal))).toEqual(Array(10).fill('delivered'));
    await first.close();

    // A new instance on the same Redis and sheet replays everything plus 5 new moments.
    const second = await connector(upsert);
    const batch2 = [...Array.from({ length: 10 }, (_, i) => moment(i, { moment: `updated ${i}` })), ...Array.from({ length: 5 }, (_, i) => moment(10 + i))];
    const results = await second.deliverBatch(deliveries(second, batch2), signal);
    expect(statuses(results)).toEqual(Array(15).fill('delivered'));
    expect(results.slice(0, 10).every((r) => r.status === 'delivered' && r.info?.op === 'updated')).toBe(true);

    let values = server.values(SHEET_ID, 'Moments');
    expect(values[0]).toEqual(['Key', 'Moment', 'Athlete', 'Value']);
    expect(values).toHaveLength(16);
    expect(new Set(values.slice(1).map((r) => r[0])).size).toBe(15);
    expect(values[1]).toEqual(['m-0', 'updated 0', 'a-0', '170']);

    // Redis lost entirely (e.g. a new Redis): the index is rebuilt from the sheet's key column.
    await redis.flush();
    const third = await connector(upsert);
    await third.deliverBatch(deliveries(third, [moment(3, { moment: 'third run' }), moment(20)]), signal);
    values = server.values(SHEET_ID, 'Moments');
    expect(values).toHaveLength(17);
    expect(values.find((r) => r[0] === 'm-3')).toEqual(['m-3', 'third run', 'a-0', '173']);
  });

  it('one key twice in a flush becomes one row', async () => {
    const c = await connector(upsert);
    await c.deliverBatch(deliveries(c, [moment(1), moment(1, { moment: 'later' })]), signal);
    expect(server.values(SHEET_ID, 'Moments').slice(1)).toEqual([['m-1', 'later', 'a-1', '171']]);
  });

  it('a failed append after a successful update: only the appended deliveries are retryable', async () => {
    const c = await connector(upsert);
    await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    server.injectFailure({ status: 503, pathIncludes: ':append' });
    const results = await c.deliverBatch(deliveries(c, [moment(1, { moment: 'again' }), moment(2)]), signal);
    expect(statuses(results)).toEqual(['delivered', 'retry']);
    const retry = await c.deliverBatch(deliveries(c, [moment(2)]), signal);
    expect(statuses(retry)).toEqual(['delivered']);
    expect(
      server
        .values(SHEET_ID, 'Moments')
        .slice(1)
        .map((r) => r[0]),
    ).toEqual(['m-1', 'm-2']);
  });

  it('rejects a payload with an empty key at render time', async () => {
    const c = await connector(upsert);
    expect(() => c.renderer().render({ ...moment(1), data: { moment: 'no id' } })).toThrow(PayloadError);
  });
});

describe('sheets connector: quota and errors', () => {
  it('429 RESOURCE_EXHAUSTED: every delivery retryable, connector paused, nothing lost or written twice', async () => {
    const c = await connector({ quotaRetryAfter: '30s' });
    await c.deliverBatch(deliveries(c, [moment(0)]), signal);
    server.injectQuotaExceeded(1, 1);
    const batch = Array.from({ length: 5 }, (_, i) => moment(1 + i));
    const results = await c.deliverBatch(deliveries(c, batch), signal);
    expect(statuses(results)).toEqual(Array(5).fill('retry'));
    for (const r of results) {
      expect(r.status === 'retry' && r.reason).toMatch(/RESOURCE_EXHAUSTED/);
      expect(r.status === 'retry' && r.retryAfterMs).toBe(1000);
    }
    expect(server.values(SHEET_ID, 'Moments')).toHaveLength(2);

    // While paused the connector does not call the API at all (more rows keep batching up in the queue).
    const before = server.requests.length;
    const paused = await c.deliverBatch(deliveries(c, [...batch, moment(6)]), signal);
    expect(statuses(paused)).toEqual(Array(6).fill('retry'));
    expect(server.requests.length).toBe(before);

    await client.del('mb:connector:report:paused'); // the pause expired
    expect(statuses(await c.deliverBatch(deliveries(c, [...batch, moment(6)]), signal))).toEqual(Array(6).fill('delivered'));
    const ids = server
      .values(SHEET_ID, 'Moments')
      .slice(1)
      .map((r) => r[0]);
    expect(ids).toEqual(['HR spike 0', 'HR spike 1', 'HR spike 2', 'HR spike 3', 'HR spike 4', 'HR spike 5', 'HR spike 6']);
  });

  it('429 without Retry-After pauses for quotaRetryAfter', async () => {
    const c = await connector({ quotaRetryAfter: '7s' });
    server.injectQuotaExceeded(1);
    const [result] = await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    expect(result).toMatchObject({ status: 'retry', retryAfterMs: 7000 });
    expect(await client.pttl('mb:connector:report:paused')).toBeGreaterThan(6000);
  });

  it('keeps under its own write budget: the next write waits instead of hitting Google', async () => {
    const c = await connector({ writesPerMinute: 3 });
    await c.deliverBatch(deliveries(c, [moment(1)]), signal); // addSheet, header, append
    const [result] = await c.deliverBatch(deliveries(c, [moment(2)]), signal);
    expect(result!.status).toBe('retry');
    expect(result!.status === 'retry' && result!.retryAfterMs).toBeGreaterThan(50_000);
    expect(server.maxWritesPerMinute()).toBe(3);
  });

  it.each([
    { status: 500, expected: 'retry', reason: /HTTP 500/ },
    { status: 503, expected: 'retry', reason: /HTTP 503/ },
    { status: 403, expected: 'permanent', reason: /permission denied \(403\).*share it with/ },
    { status: 404, expected: 'permanent', reason: /not found \(404\)/ },
    { status: 400, expected: 'permanent', reason: /HTTP 400/ },
  ])('HTTP $status on append → $expected', async ({ status, expected, reason }) => {
    const c = await connector();
    await c.deliverBatch(deliveries(c, [moment(0)]), signal);
    server.injectFailure({ status, pathIncludes: ':append' });
    const results = await c.deliverBatch(deliveries(c, [moment(1), moment(2)]), signal);
    expect(statuses(results)).toEqual([expected, expected]);
    expect(results[0]!.status !== 'delivered' && results[0]!.reason).toMatch(reason);
    expect(server.values(SHEET_ID, 'Moments')).toHaveLength(2);
  });

  it('an unknown spreadsheet is permanent and names it', async () => {
    const c = await connector({ spreadsheetId: 'nope' });
    const [result] = await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    expect(result).toMatchObject({ status: 'permanent' });
    expect(result!.status === 'permanent' && result!.reason).toMatch(/spreadsheet nope not found/);
  });

  it('a missing sheet with createSheet false is permanent', async () => {
    const c = await connector({ createSheet: false });
    const [result] = await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    expect(result!.status === 'permanent' && result!.reason).toMatch(/createSheet is false/);
  });

  it('a refused connection is retryable', async () => {
    const c = await connector({ rootUrl: 'http://127.0.0.1:1/' });
    const [result] = await c.deliverBatch(deliveries(c, [moment(1)]), signal);
    expect(result!.status).toBe('retry');
  });
});

describe('sheets connector: config and templates', () => {
  it('upsert without key names the key path', () => {
    const r = sheetsConnector.configSchema.safeParse({ type: 'sheets', spreadsheetId: 'x', mode: 'upsert', columns: { A: '{{ id }}' } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['key']);
  });

  it('create() repeats the cross-field checks (the assembled config schema keeps only the shape)', async () => {
    const parsed = sheetsConnector.configSchema.parse({ type: 'sheets', spreadsheetId: 'x', accessToken: TOKEN, columns: { A: '{{ id }}' } });
    const ctx = { name: 'report', redis: client, keyPrefix: 'mb:', logger: silentLogger(), configDir: '.' };
    await expect(async () => sheetsConnector.create({ ...parsed, mode: 'upsert' }, ctx)).rejects.toThrow(/connectors\.report\.key: mode upsert needs `key`/);
  });

  it('rejects unknown fields and empty columns', () => {
    expect(sheetsConnector.configSchema.safeParse({ type: 'sheets', spreadsheetId: 'x', columns: {}, extra: 1 }).success).toBe(false);
  });

  it('rejects unknown overrides and oversized cells', async () => {
    const c = await connector();
    expect(() => c.renderer({ channel: '#x' })).toThrow(InputError);
    const big = c.renderer({ columns: { Moment: '{{ data.moment }}' } });
    expect(() => big.render(moment(1, { moment: 'x'.repeat(50_001) }))).toThrow(/at most 50000/);
  });

  it('route overrides add their columns to the header', async () => {
    const c = await connector();
    const ds = deliveries(c, [moment(1)], { columns: { Moment: '{{ data.moment }}', Source: '{{ source }}' } });
    await c.deliverBatch(ds, signal);
    expect(server.values(SHEET_ID, 'Moments')).toEqual([
      ['Moment', 'Athlete', 'Value', '_delivery', 'Source'],
      ['HR spike 1', '', '', 'd-moments:moment:m-1', 'moments'],
    ]);
  });
});

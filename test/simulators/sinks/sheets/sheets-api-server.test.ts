import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { OAuth2Client } from 'google-auth-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSheetsApiServer, type SheetsApiServer } from '../../../../simulators/sinks/sheets/sheets-api-server.js';

let server: SheetsApiServer;
let api: sheets_v4.Sheets;
let opts: { rootUrl: string; retry: boolean };

beforeEach(async () => {
  server = await startSheetsApiServer({ spreadsheets: ['book'], accessTokens: ['token-1'], writeQuotaPerMinute: 3 });
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 'token-1' });
  api = sheets({ version: 'v4', auth });
  opts = { rootUrl: server.url, retry: false };
});
afterEach(async () => {
  await server.stop();
});

const status = async (p: Promise<unknown>): Promise<number | undefined> =>
  p.then(
    () => 200,
    (e: { response?: { status?: number } }) => e.response?.status,
  );

describe('sheets API simulator', () => {
  it('speaks the v4 subset through the official client: addSheet, update, append, get with quoted titles', async () => {
    await api.spreadsheets.batchUpdate({ spreadsheetId: 'book', requestBody: { requests: [{ addSheet: { properties: { title: "Ops' Report" } } }] } }, opts);
    const range = "'Ops'' Report'";
    await api.spreadsheets.values.update(
      { spreadsheetId: 'book', range: `${range}!A1:B1`, valueInputOption: 'RAW', requestBody: { values: [['a', 'b']] } },
      opts,
    );
    const appended = await api.spreadsheets.values.append(
      {
        spreadsheetId: 'book',
        range: `${range}!A1`,
        valueInputOption: 'RAW',
        insertDataOption: 'INSERT_ROWS',
        requestBody: {
          values: [
            [1, 'x'],
            [2, 'y'],
          ],
        },
      },
      opts,
    );
    expect(appended.data.updates?.updatedRange).toBe("'Ops'' Report'!A2:B3");
    const got = await api.spreadsheets.values.get({ spreadsheetId: 'book', range: `${range}!B2:B` }, opts);
    expect(got.data.values).toEqual([['x'], ['y']]);
    const book = await api.spreadsheets.get({ spreadsheetId: 'book' }, opts);
    expect(book.data.sheets?.map((s) => s.properties?.title)).toEqual(['Sheet1', "Ops' Report"]);
  });

  it('answers 401 without a known token, 404 for an unknown spreadsheet, 400 for a duplicate sheet', async () => {
    const anon = new OAuth2Client();
    anon.setCredentials({ access_token: 'wrong' });
    expect(await status(sheets({ version: 'v4', auth: anon }).spreadsheets.get({ spreadsheetId: 'book' }, opts))).toBe(401);
    expect(await status(api.spreadsheets.get({ spreadsheetId: 'nope' }, opts))).toBe(404);
    expect(
      await status(
        api.spreadsheets.batchUpdate({ spreadsheetId: 'book', requestBody: { requests: [{ addSheet: { properties: { title: 'Sheet1' } } }] } }, opts),
      ),
    ).toBe(400);
  });

  it('enforces the write quota with 429 RESOURCE_EXHAUSTED and counts writes per minute', async () => {
    const write = (): Promise<unknown> =>
      api.spreadsheets.values.append(
        { spreadsheetId: 'book', range: 'Sheet1!A1', valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS', requestBody: { values: [['r']] } },
        opts,
      );
    for (let i = 0; i < 3; i += 1) await write();
    const err = await write().catch((e: { response?: { status?: number; data?: { error?: { status?: string } } } }) => e);
    expect((err as { response?: { status?: number } }).response?.status).toBe(429);
    expect((err as { response: { data: { error: { status: string } } } }).response.data.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(server.values('book', 'Sheet1')).toHaveLength(3);
    expect(server.maxWritesPerMinute()).toBe(4);
    // Reads are not writes.
    expect(await status(api.spreadsheets.values.get({ spreadsheetId: 'book', range: 'Sheet1' }, opts))).toBe(200);
  });

  it('injected failures hit only matching requests', async () => {
    server.injectFailure({ status: 503, pathIncludes: ':append' });
    expect(await status(api.spreadsheets.get({ spreadsheetId: 'book' }, opts))).toBe(200);
    expect(
      await status(
        api.spreadsheets.values.append(
          { spreadsheetId: 'book', range: 'Sheet1!A1', valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS', requestBody: { values: [['r']] } },
          opts,
        ),
      ),
    ).toBe(503);
  });
});

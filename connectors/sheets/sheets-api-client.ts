import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { counter } from '../../src/core/metrics.js';
import { retryable } from '../connector.js';
import type { SheetsConfig } from './config.js';
import { FlushStopped } from './flush-stopped.js';
import { classifyGoogleError, unanswered, type GoogleErrorContext } from './google-api-error.js';
import { createSheetsAuth } from './google-auth.js';
import type { CellValue } from './sheets-renderer.js';
import type { WriteBudget } from './write-budget.js';

/**
 * The few Sheets API calls the connector makes, on the official client, for its one sheet. Each
 * call has a name that leads its failure reason and labels the write metric; a failure ends the
 * flush with a classified result. Every write first takes from the write budget, so no caller can
 * forget to. A1 ranges are only built here.
 */

const writeRequests = counter('mb_sheets_write_requests_total', 'Write requests sent to the Sheets API', ['connector', 'kind']);

function quoteTitle(title: string): string {
  return `'${title.replace(/'/g, "''")}'`;
}

function columnLetter(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

/** First row number of an A1 range such as `'Moments'!A5:D7`. */
function firstRowOf(range: string | null | undefined): number | undefined {
  const m = /![A-Z]*(\d+)(?::[A-Z]*\d*)?$/.exec(range ?? '');
  return m ? Number(m[1]) : undefined;
}

export interface SheetsApiClientDeps {
  /** Connector name, for metrics. */
  name: string;
  /** Paces writes; a quota answer pauses it. */
  budget: WriteBudget;
  /** A write failed without an answer, so it may have landed: row numbers known so far are in doubt. */
  onAmbiguousWrite: () => void;
}

export class SheetsApiClient {
  private readonly api: sheets_v4.Sheets;
  private readonly errorContext: GoogleErrorContext;
  private readonly range: string;

  constructor(
    private readonly config: SheetsConfig,
    private readonly deps: SheetsApiClientDeps,
  ) {
    const auth = createSheetsAuth(config);
    this.api = sheets({ version: 'v4', auth: auth.client });
    this.errorContext = { spreadsheetId: config.spreadsheetId, clientEmail: auth.clientEmail, quotaRetryAfterMs: config.quotaRetryAfter };
    this.range = quoteTitle(config.sheet);
  }

  async sheetExists(signal: AbortSignal): Promise<boolean> {
    const book = await this.call('read spreadsheet', signal, false, () =>
      this.api.spreadsheets.get({ spreadsheetId: this.config.spreadsheetId, fields: 'sheets.properties(sheetId,title)' }, this.callOptions(signal)),
    );
    return (book.data.sheets ?? []).some((s) => s.properties?.title === this.config.sheet);
  }

  async addSheet(signal: AbortSignal): Promise<void> {
    await this.deps.budget.reserve('addSheet');
    await this.call('create sheet', signal, true, () =>
      this.api.spreadsheets.batchUpdate(
        { spreadsheetId: this.config.spreadsheetId, requestBody: { requests: [{ addSheet: { properties: { title: this.config.sheet } } }] } },
        this.callOptions(signal),
      ),
    );
  }

  async readHeaderRow(signal: AbortSignal): Promise<string[]> {
    const header = await this.call('read header row', signal, false, () =>
      this.api.spreadsheets.values.get({ spreadsheetId: this.config.spreadsheetId, range: `${this.range}!1:1` }, this.callOptions(signal)),
    );
    return (header.data.values?.[0] ?? []).map((v) => String(v));
  }

  async writeHeaderRow(headers: string[], signal: AbortSignal): Promise<void> {
    await this.deps.budget.reserve('header');
    await this.call('write header row', signal, true, () =>
      this.api.spreadsheets.values.update(
        {
          spreadsheetId: this.config.spreadsheetId,
          range: `${this.range}!A1:${columnLetter(headers.length - 1)}1`,
          valueInputOption: 'RAW',
          requestBody: { values: [headers] },
        },
        this.callOptions(signal),
      ),
    );
  }

  /** The cells of column `index` below the header: entry i is row i + 2, '' where empty. */
  async readColumn(index: number, what: string, signal: AbortSignal): Promise<string[]> {
    const letter = columnLetter(index);
    const answer = await this.call(what, signal, false, () =>
      this.api.spreadsheets.values.get({ spreadsheetId: this.config.spreadsheetId, range: `${this.range}!${letter}2:${letter}` }, this.callOptions(signal)),
    );
    return (answer.data.values ?? []).map((row) => (row[0] === undefined ? '' : String(row[0])));
  }

  /** Overwrites whole rows in one request; a null cell is left as it is. */
  async updateRows(rows: { row: number; values: (CellValue | null)[] }[], signal: AbortSignal): Promise<void> {
    await this.deps.budget.reserve('values.batchUpdate');
    await this.call('update rows', signal, true, () =>
      this.api.spreadsheets.values.batchUpdate(
        {
          spreadsheetId: this.config.spreadsheetId,
          requestBody: {
            valueInputOption: this.config.valueInputOption,
            data: rows.map(({ row, values }) => ({ range: `${this.range}!A${row}:${columnLetter(values.length - 1)}${row}`, values: [values] })),
          },
        },
        this.callOptions(signal),
      ),
    );
  }

  /** Appends rows below the table; returns the first new row's number when the answer says it. */
  async appendRows(values: CellValue[][], signal: AbortSignal): Promise<number | undefined> {
    await this.deps.budget.reserve('values.append');
    const response = await this.call('append rows', signal, true, () =>
      this.api.spreadsheets.values.append(
        {
          spreadsheetId: this.config.spreadsheetId,
          range: `${this.range}!A1`,
          valueInputOption: this.config.valueInputOption,
          // INSERT_ROWS: concurrent appends get rows of their own instead of overwriting each other.
          insertDataOption: 'INSERT_ROWS',
          requestBody: { values },
        },
        this.callOptions(signal),
      ),
    );
    return firstRowOf(response.data.updates?.updatedRange);
  }

  private callOptions(signal: AbortSignal): { rootUrl: string; retry: boolean; signal: AbortSignal } {
    // rootUrl per call keeps a path prefix (a service-level rootUrl keeps only the origin);
    // retry: false because the queue owns retries (gaxios would silently retry GET/PUT).
    return { rootUrl: this.config.rootUrl, retry: false, signal };
  }

  /** Runs one API call; any failure ends the flush with a classified result. */
  private async call<T>(what: string, signal: AbortSignal, write: boolean, fn: () => Promise<T>): Promise<T> {
    if (write) writeRequests.inc({ connector: this.deps.name, kind: what });
    try {
      return await fn();
    } catch (err) {
      const result = classifyGoogleError(err, what, this.errorContext);
      if (write && result.status === 'retry' && unanswered(err)) this.deps.onAmbiguousWrite();
      if (result.status === 'retry' && result.reason.includes('RESOURCE_EXHAUSTED'))
        await this.deps.budget.pause(result.retryAfterMs ?? this.errorContext.quotaRetryAfterMs, 'google');
      if (signal.aborted) throw new FlushStopped(retryable(`${what}: aborted (attempt timeout)`));
      throw new FlushStopped(result);
    }
  }
}

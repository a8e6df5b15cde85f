import type { Logger } from '../../src/core/log.js';
import { permanent } from '../connector.js';
import type { SheetsConfig } from './config.js';
import { FlushStopped } from './flush-stopped.js';
import type { SheetsApiClient } from './sheets-api-client.js';
import type { CellValue, SheetsPayload } from './sheets-renderer.js';

/**
 * The sheet as rows are written into it: the tab exists (created when allowed), and its header row
 * names every column a flush writes. Columns are matched by header, never by position, so people
 * may reorder or add columns in the sheet; new headers go at the end of the row.
 */

export interface SheetLayoutDeps {
  client: SheetsApiClient;
  log: Logger;
  /** Connector name, for logs. */
  name: string;
  /** The append-mode delivery-id column, when on. */
  deliveryIdColumn: string | undefined;
}

export class SheetLayout {
  /** Header row as the sheet has it (index = column). */
  private headers: string[] | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly config: SheetsConfig,
    private readonly deps: SheetLayoutDeps,
  ) {}

  /** Sheet exists, header row read (once per instance; retried on the next flush after a failure). */
  ensureReady(signal: AbortSignal): Promise<void> {
    const { client, log, name } = this.deps;
    this.ready ??= (async () => {
      if (!(await client.sheetExists(signal))) {
        if (!this.config.createSheet) {
          throw new FlushStopped(
            permanent(
              `sheet "${this.config.sheet}" does not exist in spreadsheet ${this.config.spreadsheetId} and createSheet is false: create the tab or fix \`sheet\``,
            ),
          );
        }
        await client.addSheet(signal);
        log.info({ connector: name, sheet: this.config.sheet }, 'created sheet');
      }
      this.headers = await client.readHeaderRow(signal);
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** Adds missing headers (config columns first, then any from route overrides) at the end of the header row. */
  async ensureHeaders(payloads: SheetsPayload[], signal: AbortSignal): Promise<void> {
    const current = this.headers!;
    const wanted: string[] = [];
    if (this.config.mode === 'upsert') wanted.push(this.config.keyColumn);
    wanted.push(...Object.keys(this.config.columns));
    if (this.deps.deliveryIdColumn !== undefined) wanted.push(this.deps.deliveryIdColumn);
    for (const p of payloads) wanted.push(...Object.keys(p.cells));
    const missing = [...new Set(wanted)].filter((h) => !current.includes(h));
    if (missing.length === 0) return;
    const next = [...current, ...missing];
    await this.deps.client.writeHeaderRow(next, signal);
    this.headers = next;
  }

  /** The cells in header order; `missing` where the row has no value for a column. */
  row<M>(cells: Record<string, CellValue>, missing: M): (CellValue | M)[] {
    return this.headers!.map((h) => (h in cells ? cells[h]! : missing));
  }

  /** The cells below the header of column `header`: entry i is row i + 2. */
  readColumn(header: string, what: string, signal: AbortSignal): Promise<string[]> {
    return this.deps.client.readColumn(this.headers!.indexOf(header), what, signal);
  }
}

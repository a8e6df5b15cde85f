import type { SheetsConfig } from './config.js';
import type { SheetLayout } from './sheet-layout.js';
import type { CellValue } from './sheets-renderer.js';

/**
 * Append idempotency. An append whose answer was lost (timeout, reset, 5xx after the write) may
 * have landed, possibly from another replica, so a retry cannot trust memory. In append mode each
 * row carries its delivery id in a column of its own; a batch that holds a retry reads that column
 * back and skips the deliveries already in the sheet.
 */
export class DeliveryIdColumn {
  /** The column's header, or undefined when off (upsert mode, or `deliveryIdColumn: false`). */
  readonly header: string | undefined;

  constructor(config: SheetsConfig) {
    this.header = config.mode === 'append' && config.deliveryIdColumn !== false ? config.deliveryIdColumn : undefined;
  }

  /** The row's cells with the delivery id added when the column is on. */
  stamp(cells: Record<string, CellValue>, deliveryId: string): Record<string, CellValue> {
    return this.header !== undefined ? { ...cells, [this.header]: deliveryId } : { ...cells };
  }

  /**
   * The delivery ids already in the sheet, when the column is on and the batch holds a retry. It
   * reads the one column (a 100,000-row sheet is a few MB), a price paid on the retry path only.
   */
  async alreadyWritten(retried: boolean, layout: SheetLayout, signal: AbortSignal): Promise<Set<string> | undefined> {
    if (this.header === undefined || !retried) return undefined;
    const ids = await layout.readColumn(this.header, 'read delivery ids', signal);
    return new Set(ids.filter((v) => v !== ''));
  }
}

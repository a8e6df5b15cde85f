import type { ParsedRange } from './a1-range.js';
import type { CellValue, SimulatedSheet } from './spreadsheet-store.js';

/**
 * Reading and writing a sheet's cells with the real API's quirks the connector depends on: a null
 * cell in a write leaves the cell as it is, a read omits trailing empty cells and rows, and the
 * table an append goes below ends at the last row holding a value.
 */

/** The last row holding a non-empty cell (0 when the sheet is empty). */
export function lastDataRow(sheet: SimulatedSheet): number {
  for (let r = sheet.rows.length - 1; r >= 0; r -= 1) {
    if ((sheet.rows[r] ?? []).some((c) => c !== undefined && c !== '')) return r + 1;
  }
  return 0;
}

export function writeCells(sheet: SimulatedSheet, startRow: number, startCol: number, values: unknown[][]): { endRow: number; endCol: number; cells: number } {
  let endCol = startCol;
  let cells = 0;
  values.forEach((row, i) => {
    const r = startRow - 1 + i;
    while (sheet.rows.length <= r) sheet.rows.push([]);
    const target = sheet.rows[r]!;
    row.forEach((value, j) => {
      // Like the real API: null leaves the cell as it is.
      if (value === null || value === undefined) return;
      target[startCol + j] = value as CellValue;
      cells += 1;
      endCol = Math.max(endCol, startCol + j);
    });
  });
  return { endRow: startRow + values.length - 1, endCol, cells };
}

export function readCells(range: ParsedRange): string[][] {
  const { sheet } = range;
  const endRow = Math.min(range.endRow ?? Number.MAX_SAFE_INTEGER, sheet.rows.length);
  const out: string[][] = [];
  for (let r = range.startRow; r <= endRow; r += 1) {
    const row = sheet.rows[r - 1] ?? [];
    const endCol = Math.min(range.endCol ?? Number.MAX_SAFE_INTEGER, row.length - 1);
    const cells: string[] = [];
    for (let c = range.startCol; c <= endCol; c += 1) cells.push(row[c] === undefined ? '' : String(row[c]));
    // Like the real API: trailing empty cells and rows are omitted.
    while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop();
    out.push(cells);
  }
  while (out.length > 0 && out[out.length - 1]!.length === 0) out.pop();
  return out;
}

import { ApiError } from './api-error.js';
import type { SimulatedSheet, SimulatedSpreadsheet } from './spreadsheet-store.js';

/**
 * A1 notation, both ways: parsing the ranges requests name (`'My ''tab'''!A2:C`, `Sheet1`, `B:B`)
 * and writing the ranges answers report. Written apart from the connector's own A1 code on
 * purpose: a simulator that shared it would agree with the connector's mistakes.
 */

export interface ParsedRange {
  sheet: SimulatedSheet;
  /** 1-based, inclusive. */
  startRow: number;
  endRow?: number;
  /** 0-based, inclusive. */
  startCol: number;
  endCol?: number;
}

export function columnLetter(index: number): string {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

function quoteTitle(title: string): string {
  return `'${title.replace(/'/g, "''")}'`;
}

/** The A1 range an answer reports, e.g. `'Sheet1'!A2:C4`. */
export function a1(sheet: SimulatedSheet, startRow: number, startCol: number, endRow: number, endCol: number): string {
  return `${quoteTitle(sheet.title)}!${columnLetter(startCol)}${startRow}:${columnLetter(endCol)}${endRow}`;
}

function splitSheetAndCells(range: string): { title?: string; cells?: string } {
  if (range.startsWith("'")) {
    let i = 1;
    let title = '';
    while (i < range.length) {
      if (range[i] === "'" && range[i + 1] === "'") {
        title += "'";
        i += 2;
      } else if (range[i] === "'") {
        break;
      } else {
        title += range[i];
        i += 1;
      }
    }
    const rest = range.slice(i + 1);
    return rest.startsWith('!') ? { title, cells: rest.slice(1) } : { title };
  }
  const bang = range.lastIndexOf('!');
  if (bang >= 0) return { title: range.slice(0, bang), cells: range.slice(bang + 1) };
  return { cells: range };
}

const CELL = /^([A-Za-z]*)(\d*)$/;

/** Resolves a request's range against a spreadsheet, or answers 400 like the real API. */
export function parseRange(book: SimulatedSpreadsheet, range: string): ParsedRange {
  let { title, cells } = splitSheetAndCells(range);
  if (title === undefined && cells !== undefined && book.sheets.some((s) => s.title === cells)) {
    title = cells;
    cells = undefined;
  }
  const sheet = title === undefined ? book.sheets[0] : book.sheets.find((s) => s.title === title);
  if (!sheet) throw new ApiError(400, 'INVALID_ARGUMENT', `Unable to parse range: ${range}`);
  if (!cells) return { sheet, startRow: 1, startCol: 0 };
  const [from, to] = cells.split(':');
  const a = CELL.exec(from ?? '');
  const b = to === undefined ? a : CELL.exec(to);
  if (!a || !b || (!a[1] && !a[2])) throw new ApiError(400, 'INVALID_ARGUMENT', `Unable to parse range: ${range}`);
  return {
    sheet,
    startRow: a[2] ? Number(a[2]) : 1,
    ...(b[2] ? { endRow: Number(b[2]) } : {}),
    startCol: a[1] ? columnIndex(a[1]) : 0,
    ...(b[1] ? { endCol: columnIndex(b[1]) } : {}),
  };
}

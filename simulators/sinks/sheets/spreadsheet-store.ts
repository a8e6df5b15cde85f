import { ApiError } from './api-error.js';

/**
 * The simulator's spreadsheets, held in memory: live state tests read and seed directly. Sheet ids
 * are unique across the whole store, as in the real API.
 */

export type CellValue = string | number | boolean;

export interface SimulatedSheet {
  sheetId: number;
  title: string;
  /** Row-major grid; `rows[0]` is row 1. Missing cells are `undefined`. */
  rows: (CellValue | undefined)[][];
}

export interface SimulatedSpreadsheet {
  spreadsheetId: string;
  title: string;
  sheets: SimulatedSheet[];
}

export class SpreadsheetStore {
  /** Live state, by spreadsheet id. */
  readonly books = new Map<string, SimulatedSpreadsheet>();
  private nextSheetId = 1;

  createSpreadsheet(id: string, titles: string[] = ['Sheet1']): SimulatedSpreadsheet {
    const book: SimulatedSpreadsheet = { spreadsheetId: id, title: id, sheets: titles.map((title) => ({ sheetId: this.nextSheetId++, title, rows: [] })) };
    this.books.set(id, book);
    return book;
  }

  /** The spreadsheet, or the API's 404. */
  book(id: string): SimulatedSpreadsheet {
    const b = this.books.get(id);
    if (!b) throw new ApiError(404, 'NOT_FOUND', 'Requested entity was not found.');
    return b;
  }

  /** Adds an empty sheet at the end of the spreadsheet. */
  addSheet(book: SimulatedSpreadsheet, title: string): SimulatedSheet {
    const sheet: SimulatedSheet = { sheetId: this.nextSheetId++, title, rows: [] };
    book.sheets.push(sheet);
    return sheet;
  }
}

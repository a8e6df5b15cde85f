import { a1, parseRange } from './a1-range.js';
import { ApiError } from './api-error.js';
import { lastDataRow, readCells, writeCells } from './sheet-grid.js';
import type { SpreadsheetStore } from './spreadsheet-store.js';

/**
 * The Sheets v4 REST calls the connector uses, answered against the store with the real API's
 * answer shapes: spreadsheets.get, spreadsheets.batchUpdate (addSheet), values.get, values.update,
 * values.batchUpdate and values.append. Anything else is the API's 404.
 */

function valuesOf(body: Record<string, unknown>): unknown[][] {
  const values = body.values;
  if (!Array.isArray(values) || !values.every((r) => Array.isArray(r))) {
    throw new ApiError(400, 'INVALID_ARGUMENT', "Invalid value at 'data.values': expected a list of lists");
  }
  return values as unknown[][];
}

/** Answers one API call (`rawPath` as under the root URL); returns the JSON answer or throws ApiError. */
export function routeSheetsApiCall(store: SpreadsheetStore, method: string, rawPath: string, query: URLSearchParams, body: Record<string, unknown>): unknown {
  const m = /^\/v4\/spreadsheets\/([^/:]+)(.*)$/.exec(rawPath);
  if (!m) throw new ApiError(404, 'NOT_FOUND', `Method not found: ${rawPath}`);
  const id = decodeURIComponent(m[1]!);
  const rest = m[2]!;

  if (rest === '' && method === 'GET') {
    const b = store.book(id);
    return {
      spreadsheetId: b.spreadsheetId,
      properties: { title: b.title },
      sheets: b.sheets.map((s, index) => ({
        properties: {
          sheetId: s.sheetId,
          title: s.title,
          index,
          sheetType: 'GRID',
          gridProperties: { rowCount: Math.max(1000, s.rows.length), columnCount: 26 },
        },
      })),
    };
  }
  if (rest === ':batchUpdate' && method === 'POST') {
    const b = store.book(id);
    const reqs = Array.isArray(body.requests) ? (body.requests as Record<string, unknown>[]) : [];
    const replies = reqs.map((r) => {
      const add = r.addSheet as { properties?: { title?: string } } | undefined;
      if (!add) throw new ApiError(400, 'INVALID_ARGUMENT', 'Only addSheet requests are simulated');
      const title = add.properties?.title ?? `Sheet${b.sheets.length + 1}`;
      if (b.sheets.some((s) => s.title === title)) {
        throw new ApiError(
          400,
          'INVALID_ARGUMENT',
          `Invalid requests[0].addSheet: A sheet with the name "${title}" already exists. Please enter another name.`,
        );
      }
      const sheet = store.addSheet(b, title);
      return {
        addSheet: {
          properties: { sheetId: sheet.sheetId, title, index: b.sheets.length - 1, sheetType: 'GRID', gridProperties: { rowCount: 1000, columnCount: 26 } },
        },
      };
    });
    return { spreadsheetId: id, replies };
  }
  if (rest === '/values:batchUpdate' && method === 'POST') {
    const b = store.book(id);
    const data = Array.isArray(body.data) ? (body.data as Record<string, unknown>[]) : [];
    // Validate every range first: the real API applies a batch all or nothing.
    const parsed = data.map((d) => ({ range: parseRange(b, String(d.range ?? '')), values: valuesOf(d) }));
    const responses = parsed.map(({ range, values }) => {
      const w = writeCells(range.sheet, range.startRow, range.startCol, values);
      return {
        spreadsheetId: id,
        updatedRange: a1(range.sheet, range.startRow, range.startCol, w.endRow, w.endCol),
        updatedRows: values.length,
        updatedCells: w.cells,
      };
    });
    return {
      spreadsheetId: id,
      totalUpdatedRows: responses.reduce((n, r) => n + r.updatedRows, 0),
      totalUpdatedCells: responses.reduce((n, r) => n + r.updatedCells, 0),
      totalUpdatedSheets: new Set(parsed.map((p) => p.range.sheet.sheetId)).size,
      responses,
    };
  }
  const v = /^\/values\/(.+?)(:append)?$/.exec(rest);
  if (v) {
    const b = store.book(id);
    const range = parseRange(b, decodeURIComponent(v[1]!));
    if (v[2] && method === 'POST') {
      if (query.get('insertDataOption') !== 'INSERT_ROWS') {
        // Not an error in the real API, but OVERWRITE lets concurrent appends clobber each other.
        throw new ApiError(400, 'INVALID_ARGUMENT', 'simulator: use insertDataOption=INSERT_ROWS');
      }
      const values = valuesOf(body);
      const last = lastDataRow(range.sheet);
      const start = last + 1;
      const w = writeCells(range.sheet, start, range.startCol, values);
      return {
        spreadsheetId: id,
        ...(last > 0 ? { tableRange: a1(range.sheet, 1, range.startCol, last, w.endCol) } : {}),
        updates: {
          spreadsheetId: id,
          updatedRange: a1(range.sheet, start, range.startCol, w.endRow, w.endCol),
          updatedRows: values.length,
          updatedColumns: w.endCol - range.startCol + 1,
          updatedCells: w.cells,
        },
      };
    }
    if (!v[2] && method === 'GET') {
      const values = readCells(range);
      return {
        range: a1(range.sheet, range.startRow, range.startCol, range.endRow ?? Math.max(range.startRow, range.sheet.rows.length), range.endCol ?? 25),
        majorDimension: 'ROWS',
        ...(values.length ? { values } : {}),
      };
    }
    if (!v[2] && method === 'PUT') {
      const values = valuesOf(body);
      const w = writeCells(range.sheet, range.startRow, range.startCol, values);
      return {
        spreadsheetId: id,
        updatedRange: a1(range.sheet, range.startRow, range.startCol, w.endRow, w.endCol),
        updatedRows: values.length,
        updatedColumns: w.endCol - range.startCol + 1,
        updatedCells: w.cells,
      };
    }
  }
  throw new ApiError(404, 'NOT_FOUND', `Method not found: ${method} ${rawPath}`);
}

import { createVerify, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Google Sheets v4 REST server: the subset `@googleapis/sheets` uses for the Sheets
 * connector (spreadsheets.get, spreadsheets.batchUpdate addSheet, values.get, values.update,
 * values.batchUpdate, values.append), plus an OAuth token endpoint for the service-account JWT
 * bearer flow. Tests and the demo point the official client at it with `rootUrl` and the key's
 * `token_uri`. It can inject quota 429s (`RESOURCE_EXHAUSTED`), 5xx, 403 and 404, and counts write
 * requests so "≤ 60 writes per minute" can be checked.
 *
 * Error bodies follow the Google API shape `{ error: { code, message, status } }`.
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

export interface ServiceAccountRegistration {
  /** The key's `client_email` (the JWT `iss`). */
  clientEmail: string;
  /** PEM public key to verify the JWT signature. */
  publicKey: string;
}

export interface SheetsApiServerOptions {
  /** @defaultValue 127.0.0.1 */
  host?: string;
  /** @defaultValue 0 (a free port) */
  port?: number;
  /** Spreadsheets that exist from the start, each with one sheet `Sheet1`. */
  spreadsheets?: string[];
  /** Pre-issued OAuth access tokens the API accepts. */
  accessTokens?: string[];
  /** Service accounts the token endpoint accepts; a JWT from anyone else gets `invalid_grant`. */
  serviceAccounts?: ServiceAccountRegistration[];
  /** Answer 429 RESOURCE_EXHAUSTED when more writes than this arrive within 60 s (like the real per-user quota). @defaultValue unlimited */
  writeQuotaPerMinute?: number;
  /** Lifetime of issued tokens in seconds. @defaultValue 3600 */
  tokenLifetimeSeconds?: number;
}

export interface InjectedFailure {
  status: number;
  /** Google status string, e.g. RESOURCE_EXHAUSTED, PERMISSION_DENIED. */
  statusText?: string;
  message?: string;
  /** Sent as `Retry-After` (seconds). */
  retryAfterSeconds?: number;
  /** Only requests whose method matches (e.g. `POST`). @defaultValue any */
  method?: string;
  /** Only requests whose path contains this (e.g. `:append`). @defaultValue any */
  pathIncludes?: string;
  /** Only write requests (POST/PUT). @defaultValue false */
  writesOnly?: boolean;
}

/** A write that is applied, and then its answer is lost: what a timeout or a dropped connection after the send looks like. */
export interface LostAnswer {
  /** `reset`: the connection is destroyed without an answer; `503`: a 503 UNAVAILABLE is answered. @defaultValue reset */
  as?: 'reset' | '503';
  /** Only write requests whose path contains this (e.g. `:append`). @defaultValue any write */
  pathIncludes?: string;
}

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  write: boolean;
  status: number;
}

export interface TokenRequest {
  at: number;
  claims: Record<string, unknown>;
}

export interface SheetsApiServer {
  url: string;
  /** The token endpoint to put in a service-account key's `token_uri`. */
  tokenUri: string;
  /** Live state, by spreadsheet id. */
  sheets: Map<string, SimulatedSpreadsheet>;
  requests: RecordedRequest[];
  tokenRequests: TokenRequest[];
  createSpreadsheet(id: string, sheetTitles?: string[]): SimulatedSpreadsheet;
  /** Values of one sheet as strings (what values.get would answer), header included. */
  values(spreadsheetId: string, sheetTitle: string): string[][];
  /** Fails the next `count` matching API requests (token requests are never failed). */
  injectFailure(failure: InjectedFailure, count?: number): void;
  /** The next `count` matching write requests are applied, then their answer is lost (reset or 503). */
  loseAnswerAfterWrite(lost?: LostAnswer, count?: number): void;
  /** The next `count` write requests get 429 RESOURCE_EXHAUSTED. */
  injectQuotaExceeded(count?: number, retryAfterSeconds?: number): void;
  /** Accepts one more pre-issued access token. */
  addAccessToken(token: string): void;
  /** Write requests that arrived in `[at - 60 s, at]`. */
  writesInMinuteEnding(at: number): number;
  /** The most write requests seen in any sliding 60-second window. */
  maxWritesPerMinute(): number;
  stop(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
};

interface ParsedRange {
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

function a1(sheet: SimulatedSheet, startRow: number, startCol: number, endRow: number, endCol: number): string {
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

function parseRange(book: SimulatedSpreadsheet, range: string): ParsedRange {
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

function lastDataRow(sheet: SimulatedSheet): number {
  for (let r = sheet.rows.length - 1; r >= 0; r -= 1) {
    if ((sheet.rows[r] ?? []).some((c) => c !== undefined && c !== '')) return r + 1;
  }
  return 0;
}

function writeCells(sheet: SimulatedSheet, startRow: number, startCol: number, values: unknown[][]): { endRow: number; endCol: number; cells: number } {
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

function readCells(range: ParsedRange): string[][] {
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

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): Record<string, unknown> {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ApiError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
}

function valuesOf(body: Record<string, unknown>): unknown[][] {
  const values = body.values;
  if (!Array.isArray(values) || !values.every((r) => Array.isArray(r))) {
    throw new ApiError(400, 'INVALID_ARGUMENT', 'Invalid value at \'data.values\': expected a list of lists');
  }
  return values as unknown[][];
}

function decodeJwt(assertion: string, accounts: ServiceAccountRegistration[]): Record<string, unknown> {
  const parts = assertion.split('.');
  if (parts.length !== 3) throw new Error('malformed JWT');
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  const account = accounts.find((a) => a.clientEmail === claims.iss);
  if (!account) throw new Error(`unknown service account ${String(claims.iss)}`);
  const verify = createVerify('RSA-SHA256');
  verify.update(`${parts[0]}.${parts[1]}`);
  if (!verify.verify(account.publicKey, Buffer.from(parts[2]!, 'base64url'))) throw new Error('Invalid JWT Signature.');
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) throw new Error('JWT expired');
  if (typeof claims.scope !== 'string' || !claims.scope.includes('spreadsheets')) throw new Error('JWT has no spreadsheets scope');
  return claims;
}

export async function startSheetsApiServer(options: SheetsApiServerOptions = {}): Promise<SheetsApiServer> {
  const books = new Map<string, SimulatedSpreadsheet>();
  const tokens = new Set(options.accessTokens ?? []);
  const accounts = options.serviceAccounts ?? [];
  const requests: RecordedRequest[] = [];
  const tokenRequests: TokenRequest[] = [];
  const failures: InjectedFailure[] = [];
  const lostAnswers: LostAnswer[] = [];
  let nextSheetId = 1;

  const createSpreadsheet = (id: string, titles: string[] = ['Sheet1']): SimulatedSpreadsheet => {
    const book: SimulatedSpreadsheet = { spreadsheetId: id, title: id, sheets: titles.map((title) => ({ sheetId: nextSheetId++, title, rows: [] })) };
    books.set(id, book);
    return book;
  };
  for (const id of options.spreadsheets ?? []) createSpreadsheet(id);

  const writesInMinuteEnding = (at: number): number => requests.filter((r) => r.write && r.at > at - 60_000 && r.at <= at).length;

  const book = (id: string): SimulatedSpreadsheet => {
    const b = books.get(id);
    if (!b) throw new ApiError(404, 'NOT_FOUND', 'Requested entity was not found.');
    return b;
  };

  const handleToken = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const form = new URLSearchParams(await readBody(req));
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      send(400, { error: 'unsupported_grant_type', error_description: 'Only the JWT bearer grant is supported' });
      return;
    }
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(form.get('assertion') ?? '', accounts);
    } catch (err) {
      send(400, { error: 'invalid_grant', error_description: (err as Error).message });
      return;
    }
    tokenRequests.push({ at: Date.now(), claims });
    const token = `ya29.sim-${randomBytes(12).toString('hex')}`;
    tokens.add(token);
    send(200, { access_token: token, expires_in: options.tokenLifetimeSeconds ?? 3600, token_type: 'Bearer' });
  };

  /** Routes one API call; returns the JSON answer or throws ApiError. */
  const route = async (method: string, rawPath: string, query: URLSearchParams, body: Record<string, unknown>): Promise<unknown> => {
    const m = /^\/v4\/spreadsheets\/([^/:]+)(.*)$/.exec(rawPath);
    if (!m) throw new ApiError(404, 'NOT_FOUND', `Method not found: ${rawPath}`);
    const id = decodeURIComponent(m[1]!);
    const rest = m[2]!;

    if (rest === '' && method === 'GET') {
      const b = book(id);
      return {
        spreadsheetId: b.spreadsheetId,
        properties: { title: b.title },
        sheets: b.sheets.map((s, index) => ({
          properties: { sheetId: s.sheetId, title: s.title, index, sheetType: 'GRID', gridProperties: { rowCount: Math.max(1000, s.rows.length), columnCount: 26 } },
        })),
      };
    }
    if (rest === ':batchUpdate' && method === 'POST') {
      const b = book(id);
      const reqs = Array.isArray(body.requests) ? (body.requests as Record<string, unknown>[]) : [];
      const replies = reqs.map((r) => {
        const add = r.addSheet as { properties?: { title?: string } } | undefined;
        if (!add) throw new ApiError(400, 'INVALID_ARGUMENT', 'Only addSheet requests are simulated');
        const title = add.properties?.title ?? `Sheet${b.sheets.length + 1}`;
        if (b.sheets.some((s) => s.title === title)) {
          throw new ApiError(400, 'INVALID_ARGUMENT', `Invalid requests[0].addSheet: A sheet with the name "${title}" already exists. Please enter another name.`);
        }
        const sheet: SimulatedSheet = { sheetId: nextSheetId++, title, rows: [] };
        b.sheets.push(sheet);
        return { addSheet: { properties: { sheetId: sheet.sheetId, title, index: b.sheets.length - 1, sheetType: 'GRID', gridProperties: { rowCount: 1000, columnCount: 26 } } } };
      });
      return { spreadsheetId: id, replies };
    }
    if (rest === '/values:batchUpdate' && method === 'POST') {
      const b = book(id);
      const data = Array.isArray(body.data) ? (body.data as Record<string, unknown>[]) : [];
      // Validate every range first: the real API applies a batch all or nothing.
      const parsed = data.map((d) => ({ range: parseRange(b, String(d.range ?? '')), values: valuesOf(d) }));
      const responses = parsed.map(({ range, values }) => {
        const w = writeCells(range.sheet, range.startRow, range.startCol, values);
        return { spreadsheetId: id, updatedRange: a1(range.sheet, range.startRow, range.startCol, w.endRow, w.endCol), updatedRows: values.length, updatedCells: w.cells };
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
      const b = book(id);
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
          updates: { spreadsheetId: id, updatedRange: a1(range.sheet, start, range.startCol, w.endRow, w.endCol), updatedRows: values.length, updatedColumns: w.endCol - range.startCol + 1, updatedCells: w.cells },
        };
      }
      if (!v[2] && method === 'GET') {
        const values = readCells(range);
        return { range: a1(range.sheet, range.startRow, range.startCol, range.endRow ?? Math.max(range.startRow, range.sheet.rows.length), range.endCol ?? 25), majorDimension: 'ROWS', ...(values.length ? { values } : {}) };
      }
      if (!v[2] && method === 'PUT') {
        const values = valuesOf(body);
        const w = writeCells(range.sheet, range.startRow, range.startCol, values);
        return { spreadsheetId: id, updatedRange: a1(range.sheet, range.startRow, range.startCol, w.endRow, w.endCol), updatedRows: values.length, updatedColumns: w.endCol - range.startCol + 1, updatedCells: w.cells };
      }
    }
    throw new ApiError(404, 'NOT_FOUND', `Method not found: ${method} ${rawPath}`);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (url.pathname === '/token' && method === 'POST') {
      handleToken(req, res).catch(() => res.writeHead(500).end());
      return;
    }
    const write = method !== 'GET';
    const record = (status: number): void => {
      requests.push({ at: Date.now(), method, path: url.pathname, write, status });
    };
    const fail = (err: ApiError): void => {
      record(err.code);
      res
        .writeHead(err.code, { 'content-type': 'application/json; charset=UTF-8', ...err.headers })
        .end(JSON.stringify({ error: { code: err.code, message: err.message, status: err.status } }));
    };
    void (async () => {
      const body = await readBody(req);
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) {
        fail(new ApiError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.'));
        return;
      }
      const injected = failures.findIndex((f) => (!f.method || f.method === method) && (!f.writesOnly || write) && (!f.pathIncludes || url.pathname.includes(f.pathIncludes)));
      if (injected >= 0) {
        const f = failures.splice(injected, 1)[0]!;
        fail(
          new ApiError(
            f.status,
            f.statusText ?? STATUS_TEXT[f.status] ?? 'UNKNOWN',
            f.message ?? `Injected failure ${f.status}`,
            f.retryAfterSeconds !== undefined ? { 'retry-after': String(f.retryAfterSeconds) } : {},
          ),
        );
        return;
      }
      if (write && options.writeQuotaPerMinute !== undefined && writesInMinuteEnding(Date.now()) >= options.writeQuotaPerMinute) {
        fail(
          new ApiError(
            429,
            'RESOURCE_EXHAUSTED',
            "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com'.",
          ),
        );
        return;
      }
      try {
        const answer = await route(method, url.pathname, url.searchParams, write ? parseJson(body) : {});
        const lostAt = write ? lostAnswers.findIndex((l) => !l.pathIncludes || url.pathname.includes(l.pathIncludes)) : -1;
        if (lostAt >= 0) {
          const lost = lostAnswers.splice(lostAt, 1)[0]!;
          if (lost.as === '503') {
            fail(new ApiError(503, 'UNAVAILABLE', 'The service is currently unavailable.'));
          } else {
            record(0);
            req.socket.destroy();
          }
          return;
        }
        record(200);
        res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(answer));
      } catch (err) {
        fail(err instanceof ApiError ? err : new ApiError(500, 'INTERNAL', (err as Error).message));
      }
    })();
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}/`;

  return {
    url,
    tokenUri: `${url}token`,
    sheets: books,
    requests,
    tokenRequests,
    createSpreadsheet,
    values(spreadsheetId, sheetTitle) {
      const b = books.get(spreadsheetId);
      const sheet = b?.sheets.find((s) => s.title === sheetTitle);
      if (!sheet) return [];
      return readCells({ sheet, startRow: 1, startCol: 0 });
    },
    injectFailure(failure, count = 1) {
      for (let i = 0; i < count; i += 1) failures.push(failure);
    },
    loseAnswerAfterWrite(lost = {}, count = 1) {
      for (let i = 0; i < count; i += 1) lostAnswers.push(lost);
    },
    injectQuotaExceeded(count = 1, retryAfterSeconds) {
      const f: InjectedFailure = {
        status: 429,
        statusText: 'RESOURCE_EXHAUSTED',
        message: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com'.",
        writesOnly: true,
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      };
      for (let i = 0; i < count; i += 1) failures.push(f);
    },
    addAccessToken(token) {
      tokens.add(token);
    },
    writesInMinuteEnding,
    maxWritesPerMinute() {
      const writes = requests.filter((r) => r.write);
      let max = 0;
      for (const w of writes) max = Math.max(max, writesInMinuteEnding(w.at));
      return max;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

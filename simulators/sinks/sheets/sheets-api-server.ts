import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from './api-error.js';
import { FaultInjector, type InjectedFailure, type LostAnswer } from './fault-injector.js';
import { parseJson, readBody } from './request-body.js';
import { RequestLog, type RecordedRequest } from './request-log.js';
import { readCells } from './sheet-grid.js';
import { routeSheetsApiCall } from './sheets-api-routes.js';
import { SpreadsheetStore, type SimulatedSpreadsheet } from './spreadsheet-store.js';
import { TokenEndpoint, type ServiceAccountRegistration, type TokenRequest } from './token-endpoint.js';

/**
 * A local Google Sheets v4 REST server: the subset `@googleapis/sheets` uses for the Sheets
 * connector (spreadsheets.get, spreadsheets.batchUpdate addSheet, values.get, values.update,
 * values.batchUpdate, values.append), plus an OAuth token endpoint for the service-account JWT
 * bearer flow. Tests and the demo point the official client at it with `rootUrl` and the key's
 * `token_uri`. It can inject quota 429s (`RESOURCE_EXHAUSTED`), 5xx, 403 and 404, and counts write
 * requests so "≤ 60 writes per minute" can be checked.
 *
 * Error bodies follow the Google API shape `{ error: { code, message, status } }`.
 *
 * A request goes: token endpoint, or authorize → injected failure / write quota → route →
 * maybe lose the answer → record. The parts live in ./sheets-api/.
 */

export { columnLetter } from './a1-range.js';
export type { InjectedFailure, LostAnswer } from './fault-injector.js';
export type { RecordedRequest } from './request-log.js';
export type { CellValue, SimulatedSheet, SimulatedSpreadsheet } from './spreadsheet-store.js';
export type { ServiceAccountRegistration, TokenRequest } from './token-endpoint.js';

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

export async function startSheetsApiServer(options: SheetsApiServerOptions = {}): Promise<SheetsApiServer> {
  const store = new SpreadsheetStore();
  for (const id of options.spreadsheets ?? []) store.createSpreadsheet(id);
  const tokens = new TokenEndpoint(options);
  const log = new RequestLog();
  const faults = new FaultInjector(log, options.writeQuotaPerMinute);

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (url.pathname === '/token' && method === 'POST') {
      tokens.handle(req, res).catch(() => res.writeHead(500).end());
      return;
    }
    const write = method !== 'GET';
    const record = (status: number): void => {
      log.record({ at: Date.now(), method, path: url.pathname, write, status });
    };
    const fail = (err: ApiError): void => {
      record(err.code);
      res
        .writeHead(err.code, { 'content-type': 'application/json; charset=UTF-8', ...err.headers })
        .end(JSON.stringify({ error: { code: err.code, message: err.message, status: err.status } }));
    };
    void (async () => {
      const body = await readBody(req);
      if (!tokens.authorizes(req.headers.authorization)) {
        fail(new ApiError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.'));
        return;
      }
      const injected = faults.takeFailure(method, url.pathname, write);
      if (injected) {
        fail(injected);
        return;
      }
      try {
        const answer = routeSheetsApiCall(store, method, url.pathname, url.searchParams, write ? parseJson(body) : {});
        const lost = faults.takeLostAnswer(url.pathname, write);
        if (lost) {
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
    sheets: store.books,
    requests: log.requests,
    tokenRequests: tokens.tokenRequests,
    createSpreadsheet: (id, titles) => store.createSpreadsheet(id, titles),
    values(spreadsheetId, sheetTitle) {
      const b = store.books.get(spreadsheetId);
      const sheet = b?.sheets.find((s) => s.title === sheetTitle);
      if (!sheet) return [];
      return readCells({ sheet, startRow: 1, startCol: 0 });
    },
    injectFailure: (failure, count) => faults.injectFailure(failure, count),
    loseAnswerAfterWrite: (lost, count) => faults.loseAnswerAfterWrite(lost, count),
    injectQuotaExceeded: (count, retryAfterSeconds) => faults.injectQuotaExceeded(count, retryAfterSeconds),
    addAccessToken: (token) => tokens.addAccessToken(token),
    writesInMinuteEnding: (at) => log.writesInMinuteEnding(at),
    maxWritesPerMinute: () => log.maxWritesPerMinute(),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

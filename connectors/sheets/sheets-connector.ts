import { randomUUID } from 'node:crypto';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import type { Redis } from 'ioredis';
import type { BridgeEvent } from '../../src/event.js';
import { InputError, PayloadError, errorMessage } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { counter } from '../../src/metrics.js';
import { parseDuration } from '../../src/duration.js';
import { compilePayload, compileTemplate, type PayloadTemplate, type Template } from '../../src/templates/template-engine.js';
import {
  delivered,
  permanent,
  retryable,
  type Connector,
  type ConnectorContext,
  type Delivery,
  type DeliveryOptionsInput,
  type DeliveryResult,
  type PayloadRenderer,
} from '../connector.js';
import { classifyHttpResponse, networkFailure, parseRetryAfter } from '../http-result.js';
import { sheetsConfigProblems, type SheetsConfig } from './config.js';
import { createSheetsAuth } from './google-auth.js';
import { runLua } from '../../src/redis/run-lua.js';

/** What a route renders at enqueue time: the row's identity and its cells by header. */
export interface SheetsPayload {
  key: string | null;
  cells: Record<string, CellValue>;
}
type CellValue = string | number | boolean;

/** Google's limit on one cell. */
const MAX_CELL_CHARS = 50_000;
const OVERRIDE_KEYS = new Set(['columns', 'key']);

const writeRequests = counter('mb_sheets_write_requests_total', 'Write requests sent to the Sheets API', ['connector', 'kind']);
const rowsWritten = counter('mb_sheets_rows_total', 'Rows written to Google Sheets', ['connector', 'op']);
const quotaExceeded = counter('mb_sheets_quota_exceeded_total', 'Sheets API 429 RESOURCE_EXHAUSTED answers and local write-budget pauses', ['connector', 'origin']);

/** A failure that ends the current flush with one result for every delivery still pending. */
class FlushStopped extends Error {
  constructor(readonly result: DeliveryResult) {
    super(result.status === 'delivered' ? 'delivered' : result.reason);
  }
}

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

function toCell(value: unknown, where: string): CellValue {
  let cell: CellValue;
  if (value === null || value === undefined) cell = '';
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') cell = value;
  else cell = JSON.stringify(value);
  if (typeof cell === 'string' && cell.length > MAX_CELL_CHARS) {
    throw new PayloadError(`${where} renders ${cell.length} characters; a Google Sheets cell holds at most ${MAX_CELL_CHARS}: shorten the template`);
  }
  return cell;
}

interface GoogleErrorShape {
  status?: number;
  message?: string;
  response?: { status?: number; headers?: unknown; data?: unknown };
}

/**
 * Writes rows to one sheet: one `values.append` per flush for new rows and, in upsert mode, one
 * `values.batchUpdate` for rows whose key already has a row (key → row number in Redis, rebuilt
 * from the sheet's key column on start). A per-connector write budget in Redis keeps every replica
 * together under Google's per-minute write quota; a 429 pauses the whole connector.
 */
export class SheetsConnector implements Connector<SheetsPayload> {
  readonly defaults: Partial<DeliveryOptionsInput> = {
    // Rows accumulate for 2 s into one flush (≤ 2 writes). The ≤ 60 writes/min budget is the
    // connector's own (writesPerMinute, shared in Redis): a queue rateLimit would count jobs, i.e.
    // rows, and cap the sync at one row per second.
    batch: { maxSize: 500, window: '2s' },
    concurrency: 1,
  };

  private readonly api: sheets_v4.Sheets;
  private readonly clientEmail: string | undefined;
  private readonly redis: Redis;
  private readonly log: Logger;
  private readonly name: string;
  private readonly indexKey: string;
  private readonly lockKey: string;
  private readonly writesKey: string;
  private readonly pauseKey: string;
  private readonly quotaRetryAfterMs: number;
  private readonly defaultRenderer: PayloadRenderer;
  /** Header row as the sheet has it (index = column). */
  private headers: string[] | undefined;
  private ready: Promise<void> | undefined;
  /** False until the key index was rebuilt from the sheet by this instance, and after an ambiguous write. */
  private indexFresh = false;

  constructor(
    private readonly config: SheetsConfig,
    ctx: ConnectorContext,
  ) {
    const problem = sheetsConfigProblems(config)[0];
    if (problem) throw new InputError('config_invalid', `connectors.${ctx.name}.${problem.path.join('.')}: ${problem.message}`);
    const auth = createSheetsAuth(config);
    this.api = sheets({ version: 'v4', auth: auth.client });
    this.clientEmail = auth.clientEmail;
    this.redis = ctx.redis;
    this.log = ctx.logger;
    this.name = ctx.name;
    const base = `${ctx.keyPrefix}connector:${ctx.name}:`;
    this.indexKey = `${base}rows:${config.spreadsheetId}:${config.sheet}`;
    this.lockKey = `${base}lock`;
    this.writesKey = `${base}writes`;
    this.pauseKey = `${base}paused`;
    this.quotaRetryAfterMs = parseDuration(config.quotaRetryAfter);
    this.defaultRenderer = this.renderer();
  }

  renderer(overrides: Record<string, unknown> = {}): PayloadRenderer {
    for (const k of Object.keys(overrides)) {
      if (!OVERRIDE_KEYS.has(k)) throw new InputError('override_invalid', `sheets connector ${this.name}: unknown route override "${k}" (allowed: columns, key)`);
    }
    const columns = (overrides.columns ?? this.config.columns) as unknown;
    if (!columns || typeof columns !== 'object' || Array.isArray(columns) || !Object.values(columns).every((v) => typeof v === 'string')) {
      throw new InputError('override_invalid', `sheets connector ${this.name}: override "columns" must map header → template`);
    }
    const keySource = overrides.key ?? this.config.key;
    if (keySource !== undefined && typeof keySource !== 'string') throw new InputError('override_invalid', `sheets connector ${this.name}: override "key" must be a template string`);
    const compiled: [string, PayloadTemplate][] = Object.entries(columns as Record<string, string>).map(([h, t]) => [h, compilePayload(t, `connectors.${this.name}.columns.${h}`)]);
    const key: Template | undefined = keySource ? compileTemplate(keySource, `connectors.${this.name}.key`) : undefined;
    const upsert = this.config.mode === 'upsert';
    const keyColumn = this.config.keyColumn;
    return {
      render: (event: BridgeEvent): SheetsPayload => {
        const cells: Record<string, CellValue> = {};
        for (const [header, template] of compiled) cells[header] = toCell(template.render(event), `connectors.${this.name}.columns.${header}`);
        const rowKey = key ? key.render(event).trim() : null;
        if (upsert) {
          if (!rowKey) throw new PayloadError(`connectors.${this.name}.key renders empty for event ${event.id}: an upsert row needs a key`);
          cells[keyColumn] = rowKey;
        }
        return { key: rowKey, cells };
      },
    };
  }

  async deliver(delivery: Delivery<SheetsPayload>, signal: AbortSignal): Promise<DeliveryResult> {
    return (await this.deliverBatch([delivery], signal))[0]!;
  }

  async deliverBatch(deliveries: Delivery<SheetsPayload>[], signal: AbortSignal): Promise<DeliveryResult[]> {
    const results: (DeliveryResult | undefined)[] = deliveries.map(() => undefined);
    const finish = (stop: DeliveryResult): DeliveryResult[] => results.map((r) => r ?? stop);
    const payloads = deliveries.map((d) => this.payloadOf(d));
    let lock: string | undefined;
    try {
      const pausedMs = await this.redis.pttl(this.pauseKey);
      if (pausedMs > 0) return finish(retryable(`Sheets quota exceeded: connector ${this.name} paused`, pausedMs));

      lock = await this.acquireLock(signal);
      await this.ensureReady(signal);
      await this.ensureHeaders(payloads, signal);
      // A retried delivery may have been written by an attempt whose answer was lost (timeout,
      // reset, 5xx after the write), possibly on another replica: look at the sheet, not at memory.
      const retried = deliveries.some((d) => d.attempt > 1);
      if (this.config.mode === 'upsert' && (!this.indexFresh || retried)) await this.rebuildIndex(signal);
      const idColumn = this.appendIdColumn();
      const present = idColumn !== undefined && retried ? await this.readDeliveryIds(idColumn, signal) : undefined;

      // Group by key: a key seen twice in one flush becomes one row (later cells win).
      const groups = new Map<string, { indexes: number[]; cells: Record<string, CellValue> }>();
      payloads.forEach((p, i) => {
        if (present?.has(deliveries[i]!.id)) {
          results[i] = delivered({ op: 'already-present' });
          return;
        }
        const id = this.config.mode === 'upsert' && p.key ? `k:${p.key}` : `i:${i}`;
        const g = groups.get(id);
        if (g) {
          g.indexes.push(i);
          Object.assign(g.cells, p.cells);
        } else {
          groups.set(id, { indexes: [i], cells: idColumn !== undefined ? { ...p.cells, [idColumn]: deliveries[i]!.id } : { ...p.cells } });
        }
      });
      const entries = [...groups.entries()];
      const rowOf = new Map<string, number>();
      if (this.config.mode === 'upsert') {
        const keys = entries.map(([id]) => id.slice(2));
        const rows = await this.redis.hmget(this.indexKey, ...keys);
        keys.forEach((k, i) => {
          if (rows[i]) rowOf.set(k, Number(rows[i]));
        });
      }
      const updates = entries.filter(([id]) => id.startsWith('k:') && rowOf.has(id.slice(2)));
      const appends = entries.filter(([id]) => !(id.startsWith('k:') && rowOf.has(id.slice(2))));

      if (updates.length > 0) {
        await this.reserveWrite('values.batchUpdate');
        const headers = this.headers!;
        const last = columnLetter(headers.length - 1);
        await this.call('update rows', signal, true, () =>
          this.api.spreadsheets.values.batchUpdate(
            {
              spreadsheetId: this.config.spreadsheetId,
              requestBody: {
                valueInputOption: this.config.valueInputOption,
                data: updates.map(([id, g]) => {
                  const row = rowOf.get(id.slice(2))!;
                  // null leaves a cell as it is: columns this route does not own are not blanked.
                  return { range: `${quoteTitle(this.config.sheet)}!A${row}:${last}${row}`, values: [headers.map((h) => (h in g.cells ? g.cells[h]! : null))] };
                }),
              },
            },
            this.callOptions(signal),
          ),
        );
        for (const [, g] of updates) for (const i of g.indexes) results[i] = delivered({ op: 'updated' });
        rowsWritten.inc({ connector: this.name, op: 'updated' }, updates.length);
      }

      if (appends.length > 0) {
        await this.reserveWrite('values.append');
        const headers = this.headers!;
        const response = await this.call('append rows', signal, true, () =>
          this.api.spreadsheets.values.append(
            {
              spreadsheetId: this.config.spreadsheetId,
              range: `${quoteTitle(this.config.sheet)}!A1`,
              valueInputOption: this.config.valueInputOption,
              // INSERT_ROWS: concurrent appends get rows of their own instead of overwriting each other.
              insertDataOption: 'INSERT_ROWS',
              requestBody: { values: appends.map(([, g]) => headers.map((h) => (h in g.cells ? g.cells[h]! : ''))) },
            },
            this.callOptions(signal),
          ),
        );
        const first = firstRowOf(response.data.updates?.updatedRange);
        if (this.config.mode === 'upsert') {
          if (first === undefined) {
            // Rows are written but we cannot tell where: re-read the key column before the next flush.
            this.indexFresh = false;
          } else {
            const mapping: Record<string, number> = {};
            appends.forEach(([id], i) => {
              if (id.startsWith('k:')) mapping[id.slice(2)] = first + i;
            });
            if (Object.keys(mapping).length > 0) await this.redis.hset(this.indexKey, mapping);
          }
        }
        for (const [, g] of appends) for (const i of g.indexes) results[i] = delivered({ op: 'appended', ...(first !== undefined ? { row: first } : {}) });
        rowsWritten.inc({ connector: this.name, op: 'appended' }, appends.length);
      }
      return finish(delivered());
    } catch (err) {
      if (err instanceof FlushStopped) return finish(err.result);
      this.log.error({ err, connector: this.name }, 'sheets flush failed unexpectedly');
      return finish(retryable(`sheets connector ${this.name}: ${errorMessage(err)}`));
    } finally {
      if (lock) await this.releaseLock(lock);
    }
  }

  async close(): Promise<void> {
    // The API client holds no sockets of its own beyond fetch's pool; nothing to release.
  }

  private payloadOf(d: Delivery<SheetsPayload>): SheetsPayload {
    const p = d.payload as SheetsPayload | undefined;
    if (p && typeof p === 'object' && p.cells && typeof p.cells === 'object') return p;
    // A job enqueued without a rendered payload: render now with the connector's own templates.
    return this.defaultRenderer.render(d.event) as SheetsPayload;
  }

  private callOptions(signal: AbortSignal): { rootUrl: string; retry: boolean; signal: AbortSignal } {
    // rootUrl per call keeps a path prefix (a service-level rootUrl keeps only the origin);
    // retry: false because the queue owns retries (gaxios would silently retry GET/PUT).
    return { rootUrl: this.config.rootUrl, retry: false, signal };
  }

  /** Runs one API call; any failure ends the flush with a classified result. */
  private async call<T>(what: string, signal: AbortSignal, write: boolean, fn: () => Promise<T>): Promise<T> {
    if (write) writeRequests.inc({ connector: this.name, kind: what });
    try {
      return await fn();
    } catch (err) {
      const result = this.classify(err, what);
      // A write that died without an answer may have landed: do not trust the key index.
      if (write && result.status === 'retry' && !(err as GoogleErrorShape).response) this.indexFresh = false;
      if (result.status === 'retry' && result.reason.includes('RESOURCE_EXHAUSTED')) await this.pause(result.retryAfterMs ?? this.quotaRetryAfterMs, 'google');
      if (signal.aborted) throw new FlushStopped(retryable(`${what}: aborted (attempt timeout)`));
      throw new FlushStopped(result);
    }
  }

  private classify(err: unknown, what: string): DeliveryResult {
    const e = err as GoogleErrorShape;
    const status = e.response?.status ?? e.status;
    if (typeof status !== 'number') return networkFailure(err);
    const data = e.response?.data as { error?: { message?: string; status?: string; errors?: { reason?: string }[] } | string; error_description?: string } | undefined;
    const gErr = typeof data?.error === 'object' ? data.error : undefined;
    const message = gErr?.message ?? data?.error_description ?? (typeof data?.error === 'string' ? data.error : e.message) ?? '';
    // gaxios's Headers may come from another realm (instanceof fails): read the one header we need.
    const raw = e.response?.headers as { get?: (name: string) => string | null } | Record<string, string> | undefined;
    const retryAfter = typeof raw?.get === 'function' ? (raw.get('retry-after') ?? undefined) : (raw as Record<string, string> | undefined)?.['retry-after'];
    const headers: Record<string, string | undefined> = { 'retry-after': retryAfter };
    const sheet = `spreadsheet ${this.config.spreadsheetId}`;
    // https://developers.google.com/workspace/sheets/api/limits: 429 means "retry with backoff".
    if (status === 429) {
      const after = parseRetryAfter(retryAfter);
      return retryable(`${what}: Sheets quota exceeded (429 RESOURCE_EXHAUSTED): ${message}`, after ?? this.quotaRetryAfterMs);
    }
    // Older Google APIs signal rate limits as 403 with these reasons; they are not permission problems.
    if (status === 403 && gErr?.errors?.some((x) => x.reason === 'rateLimitExceeded' || x.reason === 'userRateLimitExceeded')) {
      return retryable(`${what}: Sheets rate limit (403 ${gErr.errors[0]?.reason}): RESOURCE_EXHAUSTED ${message}`, this.quotaRetryAfterMs);
    }
    if (status === 403) {
      return permanent(`${what}: permission denied (403) on ${sheet}: share it with ${this.clientEmail ?? 'the authenticated account'} as an editor and enable the Sheets API — ${message}`);
    }
    if (status === 404) return permanent(`${what}: ${sheet} not found (404): check spreadsheetId and that the account can see it — ${message}`);
    if (status === 401) return permanent(`${what}: authentication failed (401): check serviceAccountKey / accessToken — ${message}`);
    const result = classifyHttpResponse(status, headers, message);
    return result.status === 'delivered' ? retryable(`${what}: unexpected HTTP ${status}`) : { ...result, reason: `${what}: ${result.reason}` };
  }

  private async pause(ms: number, origin: 'google' | 'budget'): Promise<void> {
    quotaExceeded.inc({ connector: this.name, origin });
    if (origin === 'google') {
      this.log.warn({ connector: this.name, pauseMs: ms }, 'Sheets quota exceeded: pausing the connector; rows keep accumulating in the queue');
      await this.redis.set(this.pauseKey, '1', 'PX', Math.max(1, ms));
    }
  }

  /** Sheet exists, header row read (once per instance; retried on the next flush after a failure). */
  private ensureReady(signal: AbortSignal): Promise<void> {
    this.ready ??= (async () => {
      const book = await this.call('read spreadsheet', signal, false, () =>
        this.api.spreadsheets.get({ spreadsheetId: this.config.spreadsheetId, fields: 'sheets.properties(sheetId,title)' }, this.callOptions(signal)),
      );
      const exists = (book.data.sheets ?? []).some((s) => s.properties?.title === this.config.sheet);
      if (!exists) {
        if (!this.config.createSheet) {
          throw new FlushStopped(permanent(`sheet "${this.config.sheet}" does not exist in spreadsheet ${this.config.spreadsheetId} and createSheet is false: create the tab or fix \`sheet\``));
        }
        await this.reserveWrite('addSheet');
        await this.call('create sheet', signal, true, () =>
          this.api.spreadsheets.batchUpdate(
            { spreadsheetId: this.config.spreadsheetId, requestBody: { requests: [{ addSheet: { properties: { title: this.config.sheet } } }] } },
            this.callOptions(signal),
          ),
        );
        this.log.info({ connector: this.name, sheet: this.config.sheet }, 'created sheet');
      }
      const header = await this.call('read header row', signal, false, () =>
        this.api.spreadsheets.values.get({ spreadsheetId: this.config.spreadsheetId, range: `${quoteTitle(this.config.sheet)}!1:1` }, this.callOptions(signal)),
      );
      this.headers = (header.data.values?.[0] ?? []).map((v) => String(v));
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** Adds missing headers (config columns first, then any from route overrides) at the end of the header row. */
  private async ensureHeaders(payloads: SheetsPayload[], signal: AbortSignal): Promise<void> {
    const current = this.headers!;
    const wanted: string[] = [];
    if (this.config.mode === 'upsert') wanted.push(this.config.keyColumn);
    wanted.push(...Object.keys(this.config.columns));
    const idColumn = this.appendIdColumn();
    if (idColumn !== undefined) wanted.push(idColumn);
    for (const p of payloads) wanted.push(...Object.keys(p.cells));
    const missing = [...new Set(wanted)].filter((h) => !current.includes(h));
    if (missing.length === 0) return;
    const next = [...current, ...missing];
    await this.reserveWrite('header');
    await this.call('write header row', signal, true, () =>
      this.api.spreadsheets.values.update(
        {
          spreadsheetId: this.config.spreadsheetId,
          range: `${quoteTitle(this.config.sheet)}!A1:${columnLetter(next.length - 1)}1`,
          valueInputOption: 'RAW',
          requestBody: { values: [next] },
        },
        this.callOptions(signal),
      ),
    );
    this.headers = next;
  }

  /** The delivery-id column, in append mode when it is on. */
  private appendIdColumn(): string | undefined {
    return this.config.mode === 'append' && this.config.deliveryIdColumn !== false ? this.config.deliveryIdColumn : undefined;
  }

  /**
   * The delivery ids already in the sheet. Only read when a batch holds a retried delivery; it reads
   * the one column (a 100,000-row sheet is a few MB), a price paid on the retry path only.
   */
  private async readDeliveryIds(idColumn: string, signal: AbortSignal): Promise<Set<string>> {
    const letter = columnLetter(this.headers!.indexOf(idColumn));
    const answer = await this.call('read delivery ids', signal, false, () =>
      this.api.spreadsheets.values.get({ spreadsheetId: this.config.spreadsheetId, range: `${quoteTitle(this.config.sheet)}!${letter}2:${letter}` }, this.callOptions(signal)),
    );
    return new Set((answer.data.values ?? []).map((row) => (row[0] === undefined ? '' : String(row[0]))).filter((v) => v !== ''));
  }

  /** Reads the key column and replaces the Redis index with it. */
  private async rebuildIndex(signal: AbortSignal): Promise<void> {
    const col = this.headers!.indexOf(this.config.keyColumn);
    const letter = columnLetter(col);
    const answer = await this.call('read key column', signal, false, () =>
      this.api.spreadsheets.values.get({ spreadsheetId: this.config.spreadsheetId, range: `${quoteTitle(this.config.sheet)}!${letter}2:${letter}` }, this.callOptions(signal)),
    );
    const mapping: Record<string, number> = {};
    (answer.data.values ?? []).forEach((row, i) => {
      const k = row[0] === undefined ? '' : String(row[0]);
      // First row wins when a sheet already holds a key twice (from before upsert was on).
      if (k && !(k in mapping)) mapping[k] = i + 2;
    });
    const tx = this.redis.multi().del(this.indexKey);
    if (Object.keys(mapping).length > 0) tx.hset(this.indexKey, mapping);
    await tx.exec();
    this.indexFresh = true;
    this.log.debug({ connector: this.name, keys: Object.keys(mapping).length }, 'rebuilt sheets key index');
  }

  /**
   * Takes one write from the connector's sliding-minute budget (a sorted set shared by replicas),
   * or ends the flush as retryable until the oldest write in the window expires.
   */
  private async reserveWrite(kind: string): Promise<void> {
    const now = Date.now();
    const windowStart = now - 60_000;
    await this.redis.zremrangebyscore(this.writesKey, '-inf', windowStart);
    const used = await this.redis.zcard(this.writesKey);
    if (used >= this.config.writesPerMinute) {
      const oldest = await this.redis.zrange(this.writesKey, '0', '0', 'WITHSCORES');
      const waitMs = Math.max(1, Number(oldest[1] ?? now) + 60_000 - now);
      await this.pause(waitMs, 'budget');
      throw new FlushStopped(retryable(`${kind}: write budget of ${this.config.writesPerMinute}/min used up for connector ${this.name}`, waitMs));
    }
    await this.redis.multi().zadd(this.writesKey, String(now), `${now}:${randomUUID()}`).pexpire(this.writesKey, 120_000).exec();
  }

  /** One flush at a time per connector across replicas: row numbers and the key index must not race. */
  private async acquireLock(signal: AbortSignal): Promise<string> {
    const token = randomUUID();
    const deadline = Date.now() + 10_000;
    for (;;) {
      if ((await this.redis.set(this.lockKey, token, 'PX', 60_000, 'NX')) === 'OK') return token;
      if (signal.aborted || Date.now() > deadline) throw new FlushStopped(retryable(`another flush holds the lock of connector ${this.name}`, 1000));
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async releaseLock(token: string): Promise<void> {
    // Delete only our own lock (it may have expired and been taken by another replica).
    await runLua(this.redis, "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, this.lockKey, token);
  }
}

import { InputError, errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/log.js';
import { counter } from '../../src/core/metrics.js';
import {
  delivered,
  retryable,
  type Connector,
  type ConnectorContext,
  type Delivery,
  type QueueDefaults,
  type DeliveryResult,
  type PayloadRenderer,
} from '../connector.js';
import { sheetsConfigProblems, type SheetsConfig } from './config.js';
import { DeliveryIdColumn } from './delivery-id-column.js';
import { FlushLock } from './flush-lock.js';
import { FlushStopped } from './flush-stopped.js';
import { SheetLayout } from './sheet-layout.js';
import { SheetsApiClient } from './sheets-api-client.js';
import { sheetsRenderer, type CellValue, type SheetsPayload } from './sheets-renderer.js';
import { UpsertRowIndex } from './upsert-row-index.js';
import { WriteBudget } from './write-budget.js';

export type { SheetsPayload } from './sheets-renderer.js';

const rowsWritten = counter('mb_sheets_rows_total', 'Rows written to Google Sheets', ['connector', 'op']);

/** The deliveries of one flush that become one row. */
interface RowGroup {
  indexes: number[];
  cells: Record<string, CellValue>;
}
/** A group by its id: `k:<key>` for an upsert key, `i:<index>` for a row of its own. */
type KeyedGroup = [string, RowGroup];

/**
 * Writes rows to one sheet: one `values.append` per flush for new rows and, in upsert mode, one
 * `values.batchUpdate` for rows whose key already has a row (key → row number in Redis, rebuilt
 * from the sheet's key column on start). A per-connector write budget in Redis keeps every replica
 * together under Google's per-minute write quota; a 429 pauses the whole connector.
 *
 * A flush: unless paused, take the lock, make sure of the sheet and its headers, learn what the
 * sheet already holds, then update the rows it has and append the rest.
 */
export class SheetsConnector implements Connector<SheetsPayload> {
  readonly defaults: QueueDefaults = {
    // Rows accumulate for 2 s into one flush (≤ 2 writes). The ≤ 60 writes/min budget is the
    // connector's own (writesPerMinute, shared in Redis): a queue rateLimit would count jobs, i.e.
    // rows, and cap the sync at one row per second.
    batch: { maxSize: 500, window: '2s' },
    concurrency: 1,
  };

  private readonly log: Logger;
  private readonly name: string;
  private readonly budget: WriteBudget;
  private readonly lock: FlushLock;
  private readonly client: SheetsApiClient;
  private readonly deliveryIds: DeliveryIdColumn;
  private readonly layout: SheetLayout;
  /** Upsert mode only. */
  private readonly index: UpsertRowIndex | undefined;

  constructor(
    private readonly config: SheetsConfig,
    ctx: ConnectorContext,
  ) {
    const problem = sheetsConfigProblems(config)[0];
    if (problem) throw new InputError('config_invalid', `connectors.${ctx.name}.${problem.path.join('.')}: ${problem.message}`);
    this.log = ctx.logger;
    this.name = ctx.name;
    const base = `${ctx.keyPrefix}connector:${ctx.name}:`;
    this.budget = new WriteBudget({ redis: ctx.redis, log: ctx.logger, name: ctx.name, keyBase: base, writesPerMinute: config.writesPerMinute });
    this.lock = new FlushLock(ctx.redis, `${base}lock`, ctx.name);
    // A write that died without an answer may have landed: do not trust the key index.
    this.client = new SheetsApiClient(config, { name: ctx.name, budget: this.budget, onAmbiguousWrite: () => this.index?.invalidate() });
    this.deliveryIds = new DeliveryIdColumn(config);
    this.layout = new SheetLayout(config, { client: this.client, log: ctx.logger, name: ctx.name, deliveryIdColumn: this.deliveryIds.header });
    this.index =
      config.mode === 'upsert'
        ? new UpsertRowIndex(ctx.redis, `${base}rows:${config.spreadsheetId}:${config.sheet}`, this.layout, config.keyColumn, ctx.logger, ctx.name)
        : undefined;
    // Compiles the connector's own templates now, so a bad one fails at start even with no route sending here.
    this.renderer();
  }

  renderer(overrides: Record<string, unknown> = {}): PayloadRenderer {
    return sheetsRenderer(this.config, this.name, overrides);
  }

  /** One connector writes one tab, whose flushes are serial anyway (flush lock): one partition key. */
  partitionKey(): string {
    return this.config.sheet;
  }

  async deliver(delivery: Delivery<SheetsPayload>, signal: AbortSignal): Promise<DeliveryResult> {
    return (await this.deliverBatch([delivery], signal))[0]!;
  }

  async deliverBatch(deliveries: Delivery<SheetsPayload>[], signal: AbortSignal): Promise<DeliveryResult[]> {
    const results: (DeliveryResult | undefined)[] = deliveries.map(() => undefined);
    const finish = (stop: DeliveryResult): DeliveryResult[] => results.map((r) => r ?? stop);
    const payloads = deliveries.map((d) => d.payload);
    let lock: string | undefined;
    try {
      const pausedMs = await this.budget.pausedForMs();
      if (pausedMs > 0) return finish(retryable(`Sheets quota exceeded: connector ${this.name} paused`, pausedMs));

      lock = await this.lock.acquire(signal);
      await this.layout.ensureReady(signal);
      await this.layout.ensureHeaders(payloads, signal);
      // A retried delivery may have been written by an attempt whose answer was lost (timeout,
      // reset, 5xx after the write), possibly on another replica: look at the sheet, not at memory.
      const retried = deliveries.some((d) => d.attempt > 1);
      await this.index?.refresh(retried, signal);
      const present = await this.deliveryIds.alreadyWritten(retried, this.layout, signal);

      // Group by key: a key seen twice in one flush becomes one row (later cells win).
      const groups = new Map<string, RowGroup>();
      payloads.forEach((p, i) => {
        if (present?.has(deliveries[i]!.id)) {
          results[i] = delivered({ op: 'already-present' });
          return;
        }
        const id = this.index && p.key ? `k:${p.key}` : `i:${i}`;
        const g = groups.get(id);
        if (g) {
          g.indexes.push(i);
          Object.assign(g.cells, p.cells);
        } else {
          groups.set(id, { indexes: [i], cells: this.deliveryIds.stamp(p.cells, deliveries[i]!.id) });
        }
      });
      const entries = [...groups.entries()];
      const rowOf = this.index ? await this.index.rowsOf(entries.map(([id]) => id.slice(2))) : new Map<string, number>();
      const updates = entries.filter(([id]) => id.startsWith('k:') && rowOf.has(id.slice(2)));
      const appends = entries.filter(([id]) => !(id.startsWith('k:') && rowOf.has(id.slice(2))));

      if (updates.length > 0) await this.updateRows(updates, rowOf, results, signal);
      if (appends.length > 0) await this.appendRows(appends, results, signal);
      return finish(delivered());
    } catch (err) {
      if (err instanceof FlushStopped) return finish(err.result);
      this.log.error({ err, connector: this.name }, 'sheets flush failed unexpectedly');
      return finish(retryable(`sheets connector ${this.name}: ${errorMessage(err)}`));
    } finally {
      if (lock) await this.lock.release(lock);
    }
  }

  async close(): Promise<void> {
    // The API client holds no sockets of its own beyond fetch's pool; nothing to release.
  }

  private async updateRows(updates: KeyedGroup[], rowOf: Map<string, number>, results: (DeliveryResult | undefined)[], signal: AbortSignal): Promise<void> {
    // null leaves a cell as it is: columns this route does not own are not blanked.
    await this.client.updateRows(
      updates.map(([id, g]) => ({ row: rowOf.get(id.slice(2))!, values: this.layout.row(g.cells, null) })),
      signal,
    );
    for (const [, g] of updates) for (const i of g.indexes) results[i] = delivered({ op: 'updated' });
    rowsWritten.inc({ connector: this.name, op: 'updated' }, updates.length);
  }

  private async appendRows(appends: KeyedGroup[], results: (DeliveryResult | undefined)[], signal: AbortSignal): Promise<void> {
    const first = await this.client.appendRows(
      appends.map(([, g]) => this.layout.row(g.cells, '')),
      signal,
    );
    if (this.index) {
      if (first === undefined) {
        // Rows are written but we cannot tell where: re-read the key column before the next flush.
        this.index.invalidate();
      } else {
        const mapping: Record<string, number> = {};
        appends.forEach(([id], i) => {
          if (id.startsWith('k:')) mapping[id.slice(2)] = first + i;
        });
        await this.index.record(mapping);
      }
    }
    for (const [, g] of appends) for (const i of g.indexes) results[i] = delivered({ op: 'appended', ...(first !== undefined ? { row: first } : {}) });
    rowsWritten.inc({ connector: this.name, op: 'appended' }, appends.length);
  }
}

import { EventEmitter } from 'node:events';
import type { DataFrameLike, ObserverRow } from './observer-api.js';
import { canonicalJson } from './row-identity.js';

export type RowSort = (a: ObserverRow, b: ObserverRow) => number;

export interface DataFrameOptions {
  /** Id the service gave the frame. */
  frameId: string;
  /** Fetches every row the service holds for this frame (the `updateFrame` request). */
  fetchRows: () => Promise<ObserverRow[]>;
  /** Tells the service the frame is no longer wanted (the `closeFrame` request). */
  closeRemote: () => Promise<void>;
  /** Order of iteration and of `newrow` events within one `update()`. @defaultValue arrival order */
  sort?: RowSort;
  /**
   * Rows kept in memory; the oldest are forgotten beyond this (a forgotten row seen again is
   * emitted again — consumers deduplicate by row id anyway). @defaultValue 10000
   */
  maxRows?: number;
}

export interface DataFrameEvents {
  newrow: [row: ObserverRow];
  error: [err: Error];
  close: [reason: string];
}

/**
 * Identity of a row inside one frame: its `id`, else its whole content (two rows without an id
 * and with equal content are one row; a timestamp alone would merge rows sampled in the same ms).
 */
export function rowKey(row: ObserverRow): string {
  if (typeof row.id === 'string' || typeof row.id === 'number') return `id:${row.id}`;
  return `json:${canonicalJson(row)}`;
}

/**
 * A live, growing set of rows from the Observer service (call snapshots, client snapshots, a
 * database resource). Rows arrive pushed by the service (`newrow`) or pulled with `update()`;
 * each distinct row is emitted once per frame, whichever way it came.
 */
export class DataFrame extends EventEmitter<DataFrameEvents> implements DataFrameLike {
  readonly frameId: string;
  private readonly rows = new Map<string, ObserverRow>();
  private readonly fetchRows: () => Promise<ObserverRow[]>;
  private readonly closeRemote: () => Promise<void>;
  private readonly maxRows: number;
  private sortFn: RowSort | undefined;
  private closedReason: string | undefined;

  constructor(options: DataFrameOptions) {
    super();
    this.frameId = options.frameId;
    this.fetchRows = options.fetchRows;
    this.closeRemote = options.closeRemote;
    this.sortFn = options.sort;
    this.maxRows = options.maxRows ?? 10_000;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Changes the order of iteration and of the `newrow` events of later updates. */
  setSort(sort: RowSort | undefined): void {
    this.sortFn = sort;
  }

  /** Pulls the frame's rows; emits `newrow` for each one not seen before and returns those. */
  async update(): Promise<ObserverRow[]> {
    if (this.closed) return [];
    const fetched = await this.fetchRows();
    const ordered = this.sortFn ? [...fetched].sort(this.sortFn) : fetched;
    const added: ObserverRow[] = [];
    for (const row of ordered) if (this.ingest(row)) added.push(row);
    return added;
  }

  /** Takes one row pushed by the service. Returns whether it was new. */
  ingest(row: ObserverRow): boolean {
    if (this.closed) return false;
    const key = rowKey(row);
    if (this.rows.has(key)) return false;
    this.rows.set(key, row);
    if (this.rows.size > this.maxRows) {
      const oldest = this.rows.keys().next();
      if (!oldest.done) this.rows.delete(oldest.value);
    }
    this.emit('newrow', row);
    return true;
  }

  /** The rows held now, in sort order. */
  toArray(): ObserverRow[] {
    const all = [...this.rows.values()];
    return this.sortFn ? all.sort(this.sortFn) : all;
  }

  /** Seed 001: iteration over the rows the frame holds (synchronous). */
  [Symbol.iterator](): Iterator<ObserverRow> {
    return this.toArray()[Symbol.iterator]();
  }

  /** Closes the frame on the service and locally. Safe to call twice or after a disconnect. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.markClosed('closed by client');
    // Best effort: after a disconnect the service has already forgotten the frame.
    await this.closeRemote().catch(() => undefined);
  }

  /** The service (or the connection) ended the frame. */
  markClosed(reason: string): void {
    if (this.closed) return;
    this.closedReason = reason;
    this.emit('close', reason);
  }

  /** An error the service reported for this frame. Emitted only when someone listens. */
  fail(err: Error): void {
    // An 'error' event without a listener would throw and crash the process.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * The documented Observer client API (PRODUCT.md §3) as the source uses it. Both the bridge's own
 * `ObserverClient` and an official SDK loaded with `sdk:` must fit these shapes; the source
 * validates every result with zod, so results are `unknown` here.
 */

/** One row of a data frame: a plain JSON object. */
export type ObserverRow = Record<string, unknown>;

export interface DataFrameLike {
  on(event: 'newrow', listener: (row: ObserverRow) => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  on(event: 'close', listener: (reason?: unknown) => void): unknown;
  /** Fetches the frame's rows from the service; rows not seen before are emitted as `newrow`. */
  update(): Promise<unknown>;
  close(): unknown;
  /** The rows the frame holds now. */
  [Symbol.asyncIterator]?(): AsyncIterator<ObserverRow>;
}

export interface ObserverClientLike {
  connect(): Promise<unknown>;
  close(): unknown;
  findCalls(params: Record<string, unknown>): Promise<unknown>;
  fetchOngoingCalls(): Promise<unknown>;
  getSummaryStats(params: Record<string, unknown>): Promise<unknown>;
  createDatabaseFrame(resourceId: string, conditions: Record<string, unknown>, updateOnCreate?: boolean): Promise<DataFrameLike>;
  createCallSnapshotsFrame(callId: string): Promise<DataFrameLike>;
  createClientSnapshotsFrame(ids: { callId: string; clientId: string }): Promise<DataFrameLike>;
  /**
   * Optional: an SDK client that emits `close` when its connection drops lets the source
   * reconnect at once; without it a drop is noticed by a failed request or a frame `close`.
   */
  on?(event: 'close', listener: (...args: unknown[]) => void): unknown;
  on?(event: 'malformed', listener: (...args: unknown[]) => void): unknown;
}

/** What the source passes to a client constructor or SDK factory. */
export interface ObserverClientOptions {
  /** `ws://` or `wss://` URL of the Observer WebSocket API. */
  url: string;
  /** Called on every (re)connect, so a rotated token is picked up without a restart. */
  getAccessToken: () => string | Promise<string>;
  /** How long a request may wait for its answer. @defaultValue 10000 */
  requestTimeoutMs?: number;
  /** Interval between liveness pings. @defaultValue 15000 */
  pingIntervalMs?: number;
}

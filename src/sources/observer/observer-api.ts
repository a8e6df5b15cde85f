/**
 * The documented Observer client API (seed 001, PRODUCT.md §3) as the source uses it. Both the
 * bridge's own `ObserverClient` and an official SDK loaded with `sdk:` fit these shapes; the
 * source normalises every result itself (ongoing-calls.ts, row-identity.ts, admin-states.ts), so
 * results are `unknown` here.
 */

/** One row of a data frame: a plain JSON object. */
export type ObserverRow = Record<string, unknown>;

export interface DataFrameLike {
  on(event: 'newrow', listener: (row: ObserverRow) => void): unknown;
  /** Seed 001: `'error' (error: string)`; the built-in client passes an Error. */
  on(event: 'error', listener: (err: unknown) => void): unknown;
  on(event: 'close', listener: (reason?: unknown) => void): unknown;
  /** Fetches the frame's rows from the service; rows not seen before are emitted as `newrow`. */
  update(): Promise<unknown>;
  close(): unknown;
  /** The rows the frame holds now (seed 001: `Symbol.iterator`). */
  [Symbol.iterator]?(): Iterator<ObserverRow>;
  /** Tolerated too, for an SDK that iterates asynchronously. */
  [Symbol.asyncIterator]?(): AsyncIterator<ObserverRow>;
}

export interface ObserverClientLike {
  /** Seed 001: `connect(accessToken?: string)`. */
  connect(accessToken?: string): Promise<unknown>;
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
  on?(event: 'oversized', listener: (...args: unknown[]) => void): unknown;
}

/** The ObserverAdminClient calls the source polls (seed 001); payloads are undocumented. */
export interface ObserverAdminLike extends ObserverClientLike {
  getWorkerState(): Promise<unknown>;
  getServerState(): Promise<unknown>;
  listJobs(): Promise<unknown>;
}

/** What the source passes to a client factory (built-in client, or the SDK adapter). */
export interface ObserverClientOptions {
  /** `ws://` or `wss://` URL of the Observer WebSocket API. */
  url: string;
  /** Called on every (re)connect, so a rotated token is picked up without a restart. */
  getAccessToken: () => string | Promise<string>;
  /** How long a request may wait for its answer. @defaultValue 10000 */
  requestTimeoutMs?: number;
  /** Interval between liveness pings. @defaultValue 15000 */
  pingIntervalMs?: number;
  /**
   * Largest message accepted from the service, bytes; a bigger one drops the connection (the
   * source reconnects). Built-in client only: an SDK sets its own limits. @defaultValue 16 MiB
   */
  maxMessageBytes?: number;
  /** Build an admin client (ObserverAdminClient), for the `admin` poller. @defaultValue false */
  admin?: boolean;
}

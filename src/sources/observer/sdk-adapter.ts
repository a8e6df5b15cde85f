import type { DataFrameLike, ObserverAdminLike, ObserverClientLike, ObserverClientOptions } from './observer-api.js';
import { ObserverError } from './observer-errors.js';

/**
 * The documented SDK client (seed 001), as far as the bridge calls it: the calls the source
 * makes, any event name on `on`, and the admin calls, which an SDK build may lack.
 */
export interface SdkClient extends Omit<ObserverClientLike, 'on'> {
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  getWorkerState?(): Promise<unknown>;
  getServerState?(): Promise<unknown>;
  listJobs?(): Promise<unknown>;
}

/** The documented constructor config: `new ObserverClient({ connection: { url, getAccessToken } })`. */
export interface SdkClientConfig {
  connection: { url: string; getAccessToken: () => Promise<string> };
}

/**
 * Puts an official SDK client behind the interface the source uses. The SDK is constructed as its
 * documentation says; this adapter only bridges the few places where the source's habits differ:
 * it hands the current token to `connect(accessToken?)` as well (seed 001 documents both ways);
 * it asks database frames not to fetch on create, since the source iterates and `update()`s each
 * frame itself once its listeners are attached; and it bounds every call by the source's
 * `requestTimeout`, since the SDK documents no timeout of its own and a hung call would stall
 * discovery for good.
 */
export class SdkClientAdapter implements ObserverAdminLike {
  constructor(
    private readonly sdk: SdkClient,
    private readonly options: ObserverClientOptions,
  ) {}

  /** The SDK's own client object (tests, diagnostics). */
  get raw(): SdkClient {
    return this.sdk;
  }

  async connect(accessToken?: string): Promise<unknown> {
    const token = accessToken ?? (await this.options.getAccessToken());
    return this.bounded('connect', this.sdk.connect(token));
  }

  close(): unknown {
    return this.sdk.close();
  }

  findCalls(params: Record<string, unknown>): Promise<unknown> {
    return this.bounded('findCalls', this.sdk.findCalls(params));
  }

  fetchOngoingCalls(): Promise<unknown> {
    return this.bounded('fetchOngoingCalls', this.sdk.fetchOngoingCalls());
  }

  getSummaryStats(params: Record<string, unknown>): Promise<unknown> {
    return this.bounded('getSummaryStats', this.sdk.getSummaryStats(params));
  }

  createDatabaseFrame(resourceId: string, conditions: Record<string, unknown>): Promise<DataFrameLike> {
    return this.bounded('createDatabaseFrame', this.sdk.createDatabaseFrame(resourceId, conditions, false));
  }

  createCallSnapshotsFrame(callId: string): Promise<DataFrameLike> {
    return this.bounded('createCallSnapshotsFrame', this.sdk.createCallSnapshotsFrame(callId));
  }

  createClientSnapshotsFrame(ids: { callId: string; clientId: string }): Promise<DataFrameLike> {
    return this.bounded('createClientSnapshotsFrame', this.sdk.createClientSnapshotsFrame(ids));
  }

  /** Seed 001: the client emits `close` when the WebSocket closes. */
  on(event: 'close' | 'malformed' | 'oversized', listener: (...args: unknown[]) => void): this {
    if (event === 'close') this.sdk.on?.('close', listener);
    return this;
  }

  getWorkerState(): Promise<unknown> {
    return this.admin('getWorkerState');
  }

  getServerState(): Promise<unknown> {
    return this.admin('getServerState');
  }

  listJobs(): Promise<unknown> {
    return this.admin('listJobs');
  }

  /** Rejects with `observer_timeout` when `promise` takes longer than the source's requestTimeout. */
  private bounded<T>(method: string, promise: Promise<T>): Promise<T> {
    const ms = this.options.requestTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ObserverError(
              'observer_timeout',
              `Observer SDK call ${method} got no answer within ${ms} ms; the service is slow or overloaded — it will be retried on the next cycle, raise requestTimeout if this keeps happening`,
              { method },
            ),
          ),
        ms,
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private admin(method: 'getWorkerState' | 'getServerState' | 'listJobs'): Promise<unknown> {
    const fn = this.sdk[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`the Observer SDK client has no ${method}(): construct it as ObserverAdminClient`));
    return this.bounded(method, fn.call(this.sdk));
  }
}

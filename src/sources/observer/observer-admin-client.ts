import type { ObserverAdminLike } from './observer-api.js';
import { ObserverClient } from './observer-client.js';

/**
 * The built-in ObserverAdminClient (seed 001): an ObserverClient with the admin calls, over the
 * requests of the same names in docs/observer-protocol.md. Payloads are returned as the service
 * sends them (the vendor does not document them); the source normalises them (admin-states.ts).
 */
export class ObserverAdminClient extends ObserverClient implements ObserverAdminLike {
  /** The state of every worker. */
  getWorkerState(): Promise<unknown> {
    return this.request('getWorkerState', {});
  }

  /** The state of every server. */
  getServerState(): Promise<unknown> {
    return this.request('getServerState', {});
  }

  /** Every job in the system with its state. */
  listJobs(): Promise<unknown> {
    return this.request('listJobs', {});
  }

  /** Starts a job of `type`; resolves to `{ jobId? }`. */
  async startJob(type: string, parameters?: unknown): Promise<{ jobId?: string }> {
    return (await this.request('startJob', { type, ...(parameters === undefined ? {} : { parameters }) })) as { jobId?: string };
  }

  /** Cancels a running job; resolves to whether it was cancelled. */
  async cancelJob(type: string, jobId: string): Promise<boolean> {
    return (await this.request('cancelJob', { type, jobId })) === true;
  }

  /** Removes failed jobs (all of them when no id is given). */
  async cleanFailedJobs(...jobIds: string[]): Promise<void> {
    await this.request('cleanFailedJobs', jobIds.length ? { jobIds } : {});
  }

  /** Removes completed jobs (all of them when no id is given). */
  async cleanCompletedJobs(...jobIds: string[]): Promise<void> {
    await this.request('cleanCompletedJobs', jobIds.length ? { jobIds } : {});
  }
}

/**
 * The simulator's admin side (ObserverAdminClient, seed 001): workers, servers and jobs with
 * states, answered over the protocol's admin requests and driven by the control API. The payload
 * shapes differ on purpose (workers as `{ workers: [...] }`, servers as a map by id, jobs as a bare
 * array; epoch-ms and ISO times), since the vendor documents none and the source must take each.
 */

export interface SimWorker {
  workerId: string;
  state: string;
  host: string;
  /** Epoch ms of the last state change. */
  since: number;
}

export interface SimServer {
  serverId: string;
  state: string;
  /** ISO time of the last state change. */
  since: string;
}

export type SimJobState = 'active' | 'completed' | 'failed' | 'cancelled';

export interface SimJob {
  jobId: string;
  type: string;
  state: SimJobState;
  parameters?: unknown;
  createdAt: number;
  finishedAt?: number;
  error?: string;
}

export interface SimAdminOptions {
  /** Workers present at start, all `up`: worker-1 … worker-N. @defaultValue 2 */
  workers?: number;
  /** Servers present at start, all `running`: server-1 … server-N. @defaultValue 1 */
  servers?: number;
}

export class SimAdmin {
  private readonly workers = new Map<string, SimWorker>();
  private readonly servers = new Map<string, SimServer>();
  private readonly jobs = new Map<string, SimJob>();
  private jobSeq = 0;

  constructor(options: SimAdminOptions = {}) {
    for (let i = 1; i <= (options.workers ?? 2); i++) this.addWorker(`worker-${i}`);
    for (let i = 1; i <= (options.servers ?? 1); i++) this.setServerState(`server-${i}`, 'running');
  }

  // ---- control ---------------------------------------------------------------------------------

  addWorker(workerId = `worker-${this.workers.size + 1}`, state = 'up'): SimWorker {
    const worker: SimWorker = { workerId, state, host: `10.0.0.${this.workers.size + 10}`, since: Date.now() };
    this.workers.set(workerId, worker);
    return worker;
  }

  /** Sets a worker's state (`down` takes it down, `up` brings it back); adds it when unknown. */
  setWorkerState(workerId: string, state: string): SimWorker {
    const worker = this.workers.get(workerId) ?? this.addWorker(workerId, state);
    worker.state = state;
    worker.since = Date.now();
    return worker;
  }

  /** Takes a worker out of the list altogether (it crashed without saying so). */
  removeWorker(workerId: string): boolean {
    return this.workers.delete(workerId);
  }

  setServerState(serverId: string, state: string): SimServer {
    const server: SimServer = { serverId, state, since: new Date().toISOString() };
    this.servers.set(serverId, server);
    return server;
  }

  startJob(type: string, parameters?: unknown): SimJob {
    const job: SimJob = { jobId: `job-${++this.jobSeq}`, type, state: 'active', createdAt: Date.now(), ...(parameters === undefined ? {} : { parameters }) };
    this.jobs.set(job.jobId, job);
    return job;
  }

  finishJob(jobId: string): SimJob {
    return this.endJob(jobId, 'completed');
  }

  failJob(jobId: string, error = 'simulated failure'): SimJob {
    const job = this.endJob(jobId, 'failed');
    job.error = error;
    return job;
  }

  cancelJob(type: string, jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job || job.type !== type || job.state !== 'active') return false;
    this.endJob(jobId, 'cancelled');
    return true;
  }

  cleanJobs(state: 'failed' | 'completed', jobIds: string[] = []): number {
    let n = 0;
    for (const job of [...this.jobs.values()]) {
      if (job.state === state && (jobIds.length === 0 || jobIds.includes(job.jobId))) n += Number(this.jobs.delete(job.jobId));
    }
    return n;
  }

  // ---- payloads --------------------------------------------------------------------------------

  workerStates(): { workers: SimWorker[] } {
    return { workers: [...this.workers.values()].map((w) => ({ ...w })) };
  }

  serverStates(): { servers: Record<string, { state: string; since: string }> } {
    return { servers: Object.fromEntries([...this.servers.values()].map((s) => [s.serverId, { state: s.state, since: s.since }])) };
  }

  jobList(): SimJob[] {
    return [...this.jobs.values()].map((j) => ({ ...j }));
  }

  private endJob(jobId: string, state: SimJobState): SimJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`unknown job "${jobId}"`);
    job.state = state;
    job.finishedAt = Date.now();
    return job;
  }
}

/** A bad admin request (answered with the error `bad_request`). */
export class AdminRequestError extends Error {
  readonly code = 'bad_request';
}

export const ADMIN_METHODS: ReadonlySet<string> = new Set([
  'getWorkerState',
  'getServerState',
  'listJobs',
  'startJob',
  'cancelJob',
  'cleanFailedJobs',
  'cleanCompletedJobs',
]);

function text(params: Record<string, unknown>, key: string, method: string): string {
  const v = params[key];
  if (typeof v !== 'string' || v === '') throw new AdminRequestError(`${method} needs "${key}" (a string)`);
  return v;
}

function ids(params: Record<string, unknown>, method: string): string[] {
  const v = params.jobIds;
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new AdminRequestError(`${method}: "jobIds" must be a list of strings`);
  return v as string[];
}

/** Answers one admin request of the protocol (docs/observer-protocol.md). */
export function answerAdminRequest(admin: SimAdmin, method: string, params: Record<string, unknown>): unknown {
  switch (method) {
    case 'getWorkerState':
      return admin.workerStates();
    case 'getServerState':
      return admin.serverStates();
    case 'listJobs':
      return admin.jobList();
    case 'startJob':
      return { jobId: admin.startJob(text(params, 'type', method), params.parameters).jobId };
    case 'cancelJob':
      return admin.cancelJob(text(params, 'type', method), text(params, 'jobId', method));
    case 'cleanFailedJobs':
      return { removed: admin.cleanJobs('failed', ids(params, method)) };
    case 'cleanCompletedJobs':
      return { removed: admin.cleanJobs('completed', ids(params, method)) };
    default:
      throw new AdminRequestError(`${method} is not an admin method`);
  }
}

/** The admin actions of the HTTP control API; undefined when `action` is not one of them. */
export function adminControl(admin: SimAdmin, action: string, b: Record<string, unknown>): { handled: boolean; result?: unknown } {
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
  const need = (k: string) => {
    const v = str(k);
    if (v === undefined) throw new Error(`${action} needs "${k}"`);
    return v;
  };
  switch (action) {
    case 'worker-down':
      return { handled: true, result: admin.setWorkerState(need('workerId'), str('state') ?? 'down') };
    case 'worker-up':
      return { handled: true, result: admin.setWorkerState(need('workerId'), str('state') ?? 'up') };
    case 'remove-worker':
      return { handled: true, result: { removed: admin.removeWorker(need('workerId')) } };
    case 'server-state':
      return { handled: true, result: admin.setServerState(need('serverId'), need('state')) };
    case 'add-job':
      return { handled: true, result: admin.startJob(str('type') ?? 'recording', b.parameters) };
    case 'finish-job':
      return { handled: true, result: admin.finishJob(need('jobId')) };
    case 'fail-job':
      return { handled: true, result: admin.failJob(need('jobId'), str('error')) };
    default:
      return { handled: false };
  }
}

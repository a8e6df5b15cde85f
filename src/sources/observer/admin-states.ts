import { idOf } from './ongoing-calls.js';

/**
 * The payloads of `getWorkerState()`, `getServerState()` and `listJobs()` are not documented
 * (seed 001 says "worker states payload"), so the source accepts the shapes a service would
 * reasonably send:
 * - an array of items: `[{ workerId | id | name, state | status, … }]`;
 * - an object holding that array or a map under `workers` / `servers` / `jobs`, `items` or `data`;
 * - a map by id: `{ "<id>": "<state>" }` or `{ "<id>": { state | status, … } }`.
 */

export type AdminKind = 'worker' | 'server' | 'job';

export interface AdminItem {
  id: string;
  state: string;
  /** The item as the service sent it (a bare state string becomes `{ state }`). */
  item: Record<string, unknown>;
}

export interface AdminStates {
  items: AdminItem[];
  skipped: Array<{ reason: string; raw: unknown }>;
}

const WRAPPER_KEYS: Record<AdminKind, string[]> = {
  worker: ['workers', 'items', 'data'],
  server: ['servers', 'items', 'data'],
  job: ['jobs', 'items', 'data'],
};

/**
 * Worker and server states that mean "not serving". A worker missing from the list is reported
 * with the state `missing`, which counts as down too.
 */
export const DOWN_STATES: ReadonlySet<string> = new Set([
  'down',
  'offline',
  'stopped',
  'error',
  'failed',
  'dead',
  'unhealthy',
  'unreachable',
  'disconnected',
  'crashed',
  'missing',
]);
/** Job states that mean the job failed. */
export const FAILED_JOB_STATES: ReadonlySet<string> = new Set(['failed', 'error', 'errored']);

/** State given to an item that was listed before and is not any more. */
export const GONE_STATE: Record<AdminKind, string> = { worker: 'missing', server: 'missing', job: 'removed' };

export function isProblemState(kind: AdminKind, state: string): boolean {
  return (kind === 'job' ? FAILED_JOB_STATES : DOWN_STATES).has(state.toLowerCase());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stateOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (isRecord(value)) {
    const s = value.state ?? value.status;
    if (typeof s === 'string' && s.trim() !== '') return s;
  }
  return undefined;
}

function fromList(kind: AdminKind, list: unknown[], out: AdminStates): void {
  for (const raw of list) {
    if (!isRecord(raw)) {
      out.skipped.push({ reason: `a ${kind} entry is ${raw === null ? 'null' : typeof raw}, not an object`, raw });
      continue;
    }
    const id = idOf(raw[`${kind}Id`]) ?? idOf(raw.id) ?? idOf(raw.name);
    const state = stateOf(raw);
    if (id === undefined) out.skipped.push({ reason: `a ${kind} entry has none of "${kind}Id", "id", "name"`, raw });
    else if (state === undefined) out.skipped.push({ reason: `${kind} "${id}" has no "state" or "status" text`, raw });
    else out.items.push({ id, state, item: raw });
  }
}

function fromMap(kind: AdminKind, map: Record<string, unknown>, out: AdminStates): void {
  for (const [id, value] of Object.entries(map)) {
    const state = stateOf(value);
    if (state === undefined) out.skipped.push({ reason: `${kind} "${id}" has no state (expected a string or an object with "state" or "status")`, raw: value });
    else out.items.push({ id, state, item: isRecord(value) ? value : { state } });
  }
}

/** Normalises one admin payload. Throws when it is neither an array nor an object. */
export function normaliseAdminStates(kind: AdminKind, raw: unknown): AdminStates {
  const out: AdminStates = { items: [], skipped: [] };
  if (Array.isArray(raw)) {
    fromList(kind, raw, out);
    return out;
  }
  if (!isRecord(raw)) throw new Error(`the ${kind} state payload is ${raw === null ? 'null' : typeof raw}; expected an array or an object`);
  const wrapped = WRAPPER_KEYS[kind].find((k) => Array.isArray(raw[k]) || isRecord(raw[k]));
  if (wrapped !== undefined) {
    const inner = raw[wrapped];
    if (Array.isArray(inner)) fromList(kind, inner, out);
    else fromMap(kind, inner as Record<string, unknown>, out);
    return out;
  }
  fromMap(kind, raw, out);
  return out;
}

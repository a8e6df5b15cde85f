import { ObserverError } from './observer-errors.js';

/**
 * What `fetchOngoingCalls()` returns is not documented beyond "data about ongoing calls", so the
 * source accepts the shapes a client may reasonably give: an array of calls, or an object holding
 * it under `calls`, `items`, `ongoingCalls` or `data`. A call's id is `callId` or `id`; a client's
 * id is `clientId` or `id` (or the client is a bare id string). Unknown fields are kept.
 */

export interface OngoingClient {
  clientId: string;
  [field: string]: unknown;
}

export interface OngoingCall {
  callId: string;
  clients: OngoingClient[];
  [field: string]: unknown;
}

export interface OngoingCallsResult {
  calls: OngoingCall[];
  /** Items that could not be used (no id, not an object), with the reason. */
  skipped: Array<{ reason: string; raw: unknown }>;
}

const LIST_KEYS = ['calls', 'items', 'ongoingCalls', 'data'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A usable id: a non-empty string, or a finite number (as text). */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function listOf(raw: unknown): unknown[] | undefined {
  if (Array.isArray(raw)) return raw;
  if (!isRecord(raw)) return undefined;
  for (const key of LIST_KEYS) if (Array.isArray(raw[key])) return raw[key] as unknown[];
  return undefined;
}

function normaliseClient(raw: unknown): OngoingClient | undefined {
  const direct = idOf(raw);
  if (direct !== undefined) return { clientId: direct };
  if (!isRecord(raw)) return undefined;
  const clientId = idOf(raw.clientId) ?? idOf(raw.id);
  return clientId === undefined ? undefined : { ...raw, clientId };
}

/** Normalises a `fetchOngoingCalls()` result; throws `observer_invalid_response` when it holds no list. */
export function normaliseOngoingCalls(raw: unknown): OngoingCallsResult {
  const list = listOf(raw);
  if (!list) {
    const got = Array.isArray(raw) ? 'array' : isRecord(raw) ? `an object with keys ${Object.keys(raw).join(', ') || '(none)'}` : typeof raw;
    throw new ObserverError(
      'observer_invalid_response',
      `fetchOngoingCalls returned ${got}; expected an array of calls or an object with one of ${LIST_KEYS.join(', ')}`,
      { method: 'fetchOngoingCalls' },
    );
  }
  const calls: OngoingCall[] = [];
  const skipped: OngoingCallsResult['skipped'] = [];
  for (const item of list) {
    if (!isRecord(item)) {
      skipped.push({ reason: `an ongoing call is ${item === null ? 'null' : typeof item}, not an object`, raw: item });
      continue;
    }
    const callId = idOf(item.callId) ?? idOf(item.id);
    if (callId === undefined) {
      skipped.push({ reason: 'an ongoing call has neither "callId" nor "id"', raw: item });
      continue;
    }
    const clients = (Array.isArray(item.clients) ? item.clients : []).map(normaliseClient).filter((c): c is OngoingClient => c !== undefined);
    calls.push({ ...item, callId, clients });
  }
  return { calls, skipped };
}

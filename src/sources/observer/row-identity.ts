import { createHash } from 'node:crypto';
import { frameKey, type FrameSpec } from './frame-spec.js';
import { idOf } from './ongoing-calls.js';
import { toIsoTime } from './observer-time.js';

/**
 * What the bridge needs of a row, and nothing more: the vendor documents no row fields, so no
 * value ranges are checked (a `packetLoss` of 6 may be a count) and unknown fields pass through.
 * A row must be an object; in a per-call frame it must not name another call or client; it is
 * identified by its `id`, or else by a hash of its content, so a row re-sent after a reconnect
 * maps to the same event id.
 */
export type RowIdentity =
  | {
      ok: true;
      /** `<frame kind>:<callId or resource>:<clientId>:<row id or sha:hash>` — the dedup key. */
      upstreamId: string;
      /** The row's `timestamp` (or `createdAt`) as ISO text; the receive time when it has none. */
      time: string;
      /** Whether `time` came from the row. */
      timeFromRow: boolean;
      /** The row with the frame's context added (`frame`, `callId`, `clientId`, `resource`). */
      data: Record<string, unknown>;
    }
  | { ok: false; reason: string };

/** JSON with object keys sorted at every level, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Short, deterministic id of a row that has no `id`: the same content always gives the same id. */
export function contentRowId(callId: string | undefined, clientId: string | undefined, timestamp: unknown, row: Record<string, unknown>): string {
  const digest = createHash('sha256')
    .update([callId ?? '', clientId ?? '', canonicalJson(timestamp ?? null), canonicalJson(row)].join('\n'))
    .digest('hex');
  return `sha:${digest.slice(0, 20)}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A row field that names the frame's own call or client: absent, or the same id. */
function conflict(spec: FrameSpec, row: Record<string, unknown>, field: 'callId' | 'clientId'): string | undefined {
  const expected = spec[field];
  if (expected === undefined || row[field] === undefined || row[field] === null) return undefined;
  const got = idOf(row[field]);
  if (got === undefined) return `its "${field}" is ${describe(row[field])}, not an id`;
  return got === expected ? undefined : `it names ${field} "${got}", not the frame's "${expected}"`;
}

export function identifyRow(spec: FrameSpec, raw: unknown, now: () => Date = () => new Date()): RowIdentity {
  const where = `row of frame ${frameKey(spec)}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: `${where} is ${describe(raw)}, not an object` };
  const row = raw as Record<string, unknown>;
  const mismatch = conflict(spec, row, 'callId') ?? conflict(spec, row, 'clientId');
  if (mismatch) return { ok: false, reason: `${where} cannot be routed: ${mismatch}` };

  const callId = spec.callId ?? idOf(row.callId);
  const clientId = spec.clientId ?? idOf(row.clientId);
  const stamp = row.timestamp ?? row.createdAt;
  const rowTime = toIsoTime(stamp);
  const ident = idOf(row.id) ?? contentRowId(callId, clientId, stamp, row);
  const scope = spec.kind === 'database' ? spec.resource : callId;
  return {
    ok: true,
    upstreamId: `${spec.kind}:${scope ?? ''}:${clientId ?? ''}:${ident}`,
    time: rowTime ?? now().toISOString(),
    timeFromRow: rowTime !== undefined,
    data: { ...row, frame: spec.kind, callId, clientId, ...(spec.kind === 'database' ? { resource: spec.resource } : {}) },
  };
}

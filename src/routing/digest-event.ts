import type { BridgeEvent } from '../core/event.js';
import type { GroupField } from './route-compiler.js';

/** A synthetic event for a group digest: `events` at the top (for templates) and in `data`. */
export interface DigestEvent extends BridgeEvent<DigestData> {
  events: BridgeEvent[];
}

/**
 * The digest's `data`: the first event's data (so per-event templates such as
 * `{{ data.callId }}` still read something sensible), then the digest's own fields on top.
 */
export interface DigestData extends Record<string, unknown> {
  route: string;
  /** Values of `group.by`, by path. */
  group: Record<string, unknown>;
  count: number;
  events: BridgeEvent[];
}

/** The values of `group.by` for `event`, by path (missing: null). */
export function groupValues(by: readonly GroupField[], event: BridgeEvent): Record<string, unknown> {
  return Object.fromEntries(by.map((b) => [b.path, b.get(event) ?? null]));
}

/** The key of the group `event` joins. */
export function groupKeyOf(by: readonly GroupField[], event: BridgeEvent): string {
  return JSON.stringify(by.map((b) => b.get(event) ?? null));
}

/** The digest's id is stable for the same first event, so a re-flush after a crash is one job. */
export function digestEvent(route: string, by: readonly GroupField[], events: BridgeEvent[], nowMs: number): DigestEvent {
  const first = events[0]!;
  return {
    id: `${first.source}:digest:${route}/${first.id}`,
    source: first.source,
    kind: 'digest',
    time: new Date(nowMs).toISOString(),
    data: { ...(isRecord(first.data) ? first.data : {}), route, group: groupValues(by, first), count: events.length, events },
    events,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

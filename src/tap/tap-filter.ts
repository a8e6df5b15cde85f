import type { TapRecord } from './tap-record.js';

/** `tap --source/--route/--kind/--connector`: each given filter must match. */
export interface TapFilterOptions {
  source?: string;
  route?: string;
  kind?: string;
  connector?: string;
}

/** Attempt records carry no source or kind: the filter keeps up to this many event ids it has seen to tell. */
const REMEMBERED_EVENTS = 10_000;

/**
 * Decides which tap records to show. An attempt's source and kind come from its event's record
 * when the tap saw it, else from the event id (`<source>:<kind>:<upstream id>`, see eventId).
 */
export class TapFilter {
  private readonly events = new Map<string, { source: string; kind: string }>();

  constructor(private readonly o: TapFilterOptions) {}

  accepts(record: TapRecord): boolean {
    const { source, route, kind, connector } = this.o;
    if (record.type === 'hello') return true;
    if (record.type === 'event') {
      this.remember(record.id, { source: record.source, kind: record.kind });
      if (source !== undefined && record.source !== source) return false;
      if (kind !== undefined && record.kind !== kind) return false;
      if (route !== undefined && !record.deliveries.some((d) => d.route === route) && !record.setAside?.some((a) => a.route === route)) return false;
      if (connector !== undefined && !record.deliveries.some((d) => d.connector === connector)) return false;
      return true;
    }
    if (route !== undefined && record.route !== route) return false;
    if (connector !== undefined && record.connector !== connector) return false;
    if (source === undefined && kind === undefined) return true;
    const origin = this.events.get(record.eventId) ?? fromEventId(record.eventId);
    if (!origin) return false;
    return (source === undefined || origin.source === source) && (kind === undefined || origin.kind === kind);
  }

  private remember(id: string, origin: { source: string; kind: string }): void {
    if (this.events.size >= REMEMBERED_EVENTS) this.events.delete(this.events.keys().next().value!);
    this.events.set(id, origin);
  }
}

function fromEventId(id: string): { source: string; kind: string } | undefined {
  const parts = id.split(':');
  return parts.length >= 3 ? { source: parts[0]!, kind: parts[1]! } : undefined;
}

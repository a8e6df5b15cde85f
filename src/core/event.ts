/**
 * The one shape every upstream item takes inside the bridge (PRODUCT.md §4).
 * Sources create events; the router, queue and connectors only read them.
 */
export interface BridgeEvent<TData = unknown> {
  /** Stable and unique: `<source>:<kind>:<upstream id>`. The deduplication key. */
  id: string;
  /** The source's name in config. */
  source: string;
  /** `moment` | `trigger.created` | `trigger.updated` | `observer.row` | … */
  kind: string;
  /** ISO-8601, from upstream when it has one. */
  time: string;
  /** The upstream object, already validated by the source. */
  data: TData;
}

export function eventId(source: string, kind: string, upstreamId: string | number): string {
  return `${source}:${kind}:${upstreamId}`;
}

import type { BridgeEvent } from '../core/event.js';
import type { FieldGetter, FieldMatcher, Scalar } from './matchers.js';

/** What the index needs to know about a compiled route. */
export interface IndexableRoute {
  /** Position in `routes:`; candidates come back in this order (first match wins). */
  readonly index: number;
  /** Source names, or undefined for every source. */
  readonly from?: ReadonlySet<string>;
  readonly matchers: readonly FieldMatcher[];
}

interface Partition<R> {
  getter?: FieldGetter;
  path?: string;
  /** Equality value → the routes that can match it, already merged with `rest` in route order. */
  buckets: Map<unknown, R[]>;
  /** Routes the index path cannot narrow (no equality on it). */
  rest: R[];
}

/**
 * Narrows the routes an event has to be tested against, so the cost per event does not grow
 * with unrelated routes: first by `from` (one partition per source), then, inside a partition,
 * by the equality `match` key that splits it best (e.g. `data.triggerName`). Each bucket holds its
 * own routes merged with the partition's un-indexed ones, in route order, so a lookup is two map
 * reads and no merging.
 */
export class RouteIndex<R extends IndexableRoute> {
  private readonly bySource = new Map<string, Partition<R>>();
  private readonly anySource: Partition<R>;

  constructor(routes: readonly R[]) {
    const sorted = [...routes].sort((a, b) => a.index - b.index);
    const sources = new Set<string>();
    for (const r of sorted) for (const s of r.from ?? []) sources.add(s);
    for (const s of sources) this.bySource.set(s, partition(sorted.filter((r) => !r.from || r.from.has(s))));
    this.anySource = partition(sorted.filter((r) => !r.from));
  }

  /** The routes that may match `event`, in route order. Every one still has to be tested. */
  candidates(event: BridgeEvent): readonly R[] {
    const p = this.bySource.get(event.source) ?? this.anySource;
    if (!p.getter) return p.rest;
    const value = p.getter(event);
    return p.buckets.get(value) ?? p.rest;
  }

  /** The chosen index path per source, for explanations and tests. */
  describe(): Record<string, string | null> {
    const out: Record<string, string | null> = { '*': this.anySource.path ?? null };
    for (const [s, p] of this.bySource) out[s] = p.path ?? null;
    return out;
  }
}

function equalityOn<R extends IndexableRoute>(route: R, path: string): readonly Scalar[] | undefined {
  for (const m of route.matchers) if (m.path === path && m.equalityValues) return m.equalityValues;
  return undefined;
}

function partition<R extends IndexableRoute>(routes: R[]): Partition<R> {
  // Pick the path with the fewest expected candidates: routes it cannot narrow + average bucket.
  const paths = new Set<string>();
  for (const r of routes) for (const m of r.matchers) if (m.equalityValues) paths.add(m.path);
  let best: { path: string; cost: number; getter: FieldGetter } | undefined;
  for (const path of paths) {
    let rest = 0;
    const sizes = new Map<unknown, number>();
    let getter: FieldGetter | undefined;
    for (const r of routes) {
      const values = equalityOn(r, path);
      if (!values) {
        rest++;
        continue;
      }
      getter ??= r.matchers.find((m) => m.path === path)!.get;
      for (const v of new Set(values)) sizes.set(v, (sizes.get(v) ?? 0) + 1);
    }
    let total = 0;
    for (const n of sizes.values()) total += n;
    const cost = rest + (sizes.size ? total / sizes.size : 0);
    if (getter && (!best || cost < best.cost)) best = { path, cost, getter };
  }
  if (!best || best.cost >= routes.length) return { buckets: new Map(), rest: routes };

  const rest = routes.filter((r) => !equalityOn(r, best.path));
  const buckets = new Map<unknown, R[]>();
  for (const r of routes) {
    for (const v of new Set(equalityOn(r, best.path) ?? [])) {
      let list = buckets.get(v);
      if (!list) buckets.set(v, (list = []));
      list.push(r);
    }
  }
  for (const [v, list] of buckets)
    buckets.set(
      v,
      [...list, ...rest].sort((a, b) => a.index - b.index),
    );
  return { getter: best.getter, path: best.path, buckets, rest };
}

import type { RawItem } from './graphql-client.js';
import type { MomentsApi } from './moments-api.js';

export interface MomentPagesOptions {
  pageSize: number;
  /** Exclusive upper bound (ISO); default none. */
  until?: string;
  /** Called once per read when the engine cannot filter or sort and the whole window is read instead. */
  onClientSide?: (what: string) => void;
}

const time = (item: RawItem): number => Date.parse(String(item.createdAt));

/**
 * Moments with `createdAt ≥ since` (and `< until`), oldest first, in pages. When the engine
 * filters and sorts (the vendor documents `filter` and `orderBy`), pages stream as they come;
 * otherwise every page of the window is read first and filtered/sorted here — the cursor may only
 * move forward in createdAt order, or a crash mid-way would skip the older moments of later pages.
 * Items without a parsable createdAt are yielded first, for the caller to quarantine.
 */
export async function* momentPagesSince(api: MomentsApi, since: string, options: MomentPagesOptions): AsyncGenerator<RawItem[]> {
  const support = api.backfillSupport?.() ?? { filters: true, sorts: true };
  const args = { filter: { createdAt: { ge: since } }, orderBy: [{ createdAt: 'ASC' as const }], limit: options.pageSize };
  const from = Date.parse(since);
  const to = options.until === undefined ? Infinity : Date.parse(options.until);
  let nextToken: string | null | undefined;
  if (support.filters && support.sorts) {
    do {
      const page = await api.listMoments({ ...args, nextToken });
      const items = page.items.filter((m) => !(time(m) >= to));
      if (items.length) yield items;
      // Ascending: past `until` nothing further belongs to the window.
      if (items.length < page.items.length) return;
      nextToken = page.nextToken;
    } while (nextToken);
    return;
  }
  options.onClientSide?.(support.sorts ? 'filter by createdAt' : 'sort by createdAt');
  const all: RawItem[] = [];
  do {
    const page = await api.listMoments({ ...args, nextToken });
    for (const m of page.items) {
      const t = time(m);
      if (Number.isNaN(t) || (t >= from && t < to)) all.push(m);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  all.sort((a, b) => (time(a) || 0) - (time(b) || 0));
  for (let i = 0; i < all.length; i += options.pageSize) yield all.slice(i, i + options.pageSize);
}

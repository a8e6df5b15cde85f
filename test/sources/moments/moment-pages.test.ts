import { describe, expect, it } from 'vitest';
import type { ListArgs, RawItem } from '../../../src/sources/moments/graphql-client.js';
import type { MomentsApi } from '../../../src/sources/moments/moments-api.js';
import { momentPagesSince } from '../../../src/sources/moments/moment-pages.js';

const at = (s: number) => new Date(Date.UTC(2026, 2, 1, 10, 0, s)).toISOString();

/** An engine that pages in storage order and cannot sort (or filter): what the back-fill must cope with. */
function unsortedEngine(items: RawItem[], support: { filters: boolean; sorts: boolean }) {
  const calls: ListArgs[] = [];
  const api: Pick<MomentsApi, 'listMoments' | 'backfillSupport'> = {
    backfillSupport: () => support,
    async listMoments(args: ListArgs = {}) {
      calls.push(args);
      const start = Number(args.nextToken ?? 0);
      const limit = args.limit ?? 100;
      const end = start + limit;
      return { items: items.slice(start, end), nextToken: end < items.length ? String(end) : null };
    },
  };
  return { api: api as MomentsApi, calls };
}

describe('back-fill pages', () => {
  const stored = [at(5), at(1), at(9), at(3), at(7), 'not a date', at(2)].map((createdAt, i) => ({ publicId: `m${i}`, createdAt }));

  it('an engine that cannot sort: every page of the window is read first, then handed out oldest first', async () => {
    const { api, calls } = unsortedEngine(stored, { filters: false, sorts: false });
    const notes: string[] = [];
    const pages: RawItem[][] = [];
    for await (const page of momentPagesSince(api, at(2), { pageSize: 2, onClientSide: (w) => notes.push(w) })) pages.push(page);
    expect(calls).toHaveLength(4); // 7 items, 2 per page: all read before the first page is yielded
    expect(pages.flat().map((m) => m.createdAt)).toEqual(['not a date', at(2), at(3), at(5), at(7), at(9)]);
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    expect(notes).toEqual(['sort by createdAt']);
  });

  it('an engine that filters and sorts: pages stream as they come, and `until` stops the read', async () => {
    const sorted = [1, 2, 3, 4, 5, 6].map((s) => ({ publicId: `s${s}`, createdAt: at(s) }));
    const { api, calls } = unsortedEngine(sorted, { filters: true, sorts: true });
    const ids: string[] = [];
    for await (const page of momentPagesSince(api, at(1), { pageSize: 2, until: at(4) })) ids.push(...page.map((m) => String(m.publicId)));
    expect(ids).toEqual(['s1', 's2', 's3']);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ filter: { createdAt: { ge: at(1) } }, orderBy: [{ createdAt: 'ASC' }], limit: 2 });
  });

  const collect = async (api: MomentsApi, since: string, options: Parameters<typeof momentPagesSince>[2]) => {
    const pages: string[][] = [];
    for await (const page of momentPagesSince(api, since, options)) pages.push(page.map((m) => String(m.publicId)));
    return pages;
  };

  it('an engine that says nothing about its support is read as one that filters and sorts', async () => {
    const sorted = [1, 2, 3].map((s) => ({ publicId: `s${s}`, createdAt: at(s) }));
    const { api, calls } = unsortedEngine(sorted, { filters: true, sorts: true });
    delete (api as { backfillSupport?: unknown }).backfillSupport;
    const notes: string[] = [];
    expect(await collect(api, at(1), { pageSize: 2, onClientSide: (w) => notes.push(w) })).toEqual([['s1', 's2'], ['s3']]);
    expect(calls).toHaveLength(2);
    expect(notes).toEqual([]); // streamed, not read whole
  });

  it('streaming: no until reads every page; an item at `until` is outside; a page wholly past it yields nothing', async () => {
    const sorted = [1, 2, 3, 4, 5].map((s) => ({ publicId: `s${s}`, createdAt: at(s) }));
    const all = unsortedEngine(sorted, { filters: true, sorts: true });
    expect(await collect(all.api, at(1), { pageSize: 2 })).toEqual([['s1', 's2'], ['s3', 's4'], ['s5']]);
    expect(all.calls.map((c) => c.nextToken)).toEqual([undefined, '2', '4']);
    const atBoundary = unsortedEngine(sorted, { filters: true, sorts: true });
    expect(await collect(atBoundary.api, at(1), { pageSize: 2, until: at(3) })).toEqual([['s1', 's2']]);
    expect(atBoundary.calls).toHaveLength(2); // the page holding s3 ends the read, yielding nothing
  });

  it.each<[string, { filters: boolean; sorts: boolean }, string]>([
    ['cannot filter', { filters: false, sorts: true }, 'filter by createdAt'],
    ['cannot sort', { filters: true, sorts: false }, 'sort by createdAt'],
  ])('an engine that %s is read whole, bounded by since (inclusive) and until (exclusive), in exact pages', async (_name, support, note) => {
    const { api, calls } = unsortedEngine(stored, support);
    const notes: string[] = [];
    // m1 at 1 s is before since; m2 at 9 s is at until; 'not a date' (m5) comes first for quarantine.
    expect(await collect(api, at(3), { pageSize: 2, until: at(9), onClientSide: (w) => notes.push(w) })).toEqual([
      ['m5', 'm3'],
      ['m0', 'm4'],
    ]);
    expect(notes).toEqual([note]);
    expect(calls).toHaveLength(4);
  });

  it('reads the whole window without an onClientSide hook', async () => {
    const { api } = unsortedEngine(stored, { filters: false, sorts: false });
    expect((await collect(api, at(0), { pageSize: 10 })).flat()).toEqual(['m5', 'm1', 'm6', 'm3', 'm0', 'm4', 'm2']);
  });
});

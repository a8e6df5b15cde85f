import { describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { compileMatchers } from '../../src/routing/matchers.js';
import type { MatchValue } from '../../src/routing/route-schema.js';
import { RouteIndex, type IndexableRoute } from '../../src/routing/route-index.js';

interface R extends IndexableRoute {
  name: string;
}

/** Routes as `routes:` lists them: index = position. */
function routes(...specs: { name: string; from?: string[]; match?: Record<string, MatchValue> }[]): R[] {
  return specs.map((s, index) => ({
    index,
    name: s.name,
    ...(s.from ? { from: new Set(s.from) } : {}),
    matchers: compileMatchers(s.match).matchers,
  }));
}

const ev = (source: string, data: Record<string, unknown>, kind = 'moment'): BridgeEvent => ({
  id: `${source}:${kind}:1`,
  source,
  kind,
  time: '2026-01-01T00:00:00.000Z',
  data,
});
const names = (rs: readonly R[]) => rs.map((r) => r.name);

describe('RouteIndex', () => {
  it('indexes by the equality key that leaves the fewest candidates, and keeps un-indexed routes in every bucket, in route order', () => {
    const index = new RouteIndex(
      routes(
        { name: 't-a', match: { 'data.t': 'a' } },
        { name: 'any-moment', match: { kind: 'moment' } },
        { name: 't-b', match: { 'data.t': 'b' } },
        { name: 'other-moment', match: { kind: 'moment' } },
        { name: 't-c', match: { 'data.t': 'c' } },
        { name: 'no-match-key' },
      ),
    );
    // data.t: 3 routes it cannot narrow + 1 per bucket = 4; kind: 4 + 2 = 6.
    expect(index.describe()).toEqual({ '*': 'data.t' });
    expect(names(index.candidates(ev('s', { t: 'b' })))).toEqual(['any-moment', 't-b', 'other-moment', 'no-match-key']);
    expect(names(index.candidates(ev('s', { t: 'a' })))).toEqual(['t-a', 'any-moment', 'other-moment', 'no-match-key']);
    expect(names(index.candidates(ev('s', { t: 'zzz' })))).toEqual(['any-moment', 'other-moment', 'no-match-key']);
    expect(names(index.candidates(ev('s', {})))).toEqual(['any-moment', 'other-moment', 'no-match-key']);
  });

  it('does not index when no key narrows the list (every route would still be a candidate)', () => {
    const index = new RouteIndex(routes({ name: 'one', match: { kind: 'moment' } }, { name: 'two', match: { kind: 'moment' } }));
    expect(index.describe()).toEqual({ '*': null });
    expect(names(index.candidates(ev('s', {}, 'trigger.created')))).toEqual(['one', 'two']);
  });

  it('a route with a list of values sits in each of their buckets once, even when a value repeats', () => {
    const index = new RouteIndex(
      routes(
        { name: 'hr-or-spo2', match: { 'data.t': ['hr', 'spo2', 'hr'] } },
        { name: 'hr', match: { 'data.t': 'hr' } },
        { name: 'temp', match: { 'data.t': 'temp' } },
        { name: 'bp', match: { 'data.t': { eq: 'bp' } } },
      ),
    );
    expect(index.describe()).toEqual({ '*': 'data.t' });
    expect(names(index.candidates(ev('s', { t: 'hr' })))).toEqual(['hr-or-spo2', 'hr']);
    expect(names(index.candidates(ev('s', { t: 'spo2' })))).toEqual(['hr-or-spo2']);
    expect(names(index.candidates(ev('s', { t: 'temp' })))).toEqual(['temp']);
    expect(names(index.candidates(ev('s', { t: 'none' })))).toEqual([]);
  });

  it('partitions by source first: a source sees its own routes and the routes for every source; others see only the latter', () => {
    const index = new RouteIndex(
      routes(
        { name: 'obs-only', from: ['observer'], match: { kind: 'observer.row' } },
        { name: 'all-sources', match: { kind: 'moment' } },
        { name: 'mom-a', from: ['moments', 'moments2'], match: { 'data.t': 'a' } },
        { name: 'mom-b', from: ['moments'], match: { 'data.t': 'b' } },
        { name: 'mom-c', from: ['moments'], match: { 'data.t': 'c' } },
      ),
    );
    // observer: kind splits its two routes (1 candidate each); moments2: neither key beats 2.
    expect(index.describe()).toEqual({ '*': null, observer: 'kind', moments: 'data.t', moments2: null });
    expect(names(index.candidates(ev('moments', { t: 'b' })))).toEqual(['all-sources', 'mom-b']);
    expect(names(index.candidates(ev('moments2', { t: 'b' })))).toEqual(['all-sources', 'mom-a']);
    expect(names(index.candidates(ev('observer', { t: 'a' }, 'observer.row')))).toEqual(['obs-only']);
    expect(names(index.candidates(ev('observer', { t: 'a' })))).toEqual(['all-sources']);
    expect(names(index.candidates(ev('unnamed', { t: 'a' })))).toEqual(['all-sources']);
  });

  it('routes given out of order come back in route order', () => {
    const [a, b, c] = routes({ name: 'a', match: { 'data.t': 'x' } }, { name: 'b' }, { name: 'c', match: { 'data.t': 'x' } });
    const index = new RouteIndex([c!, b!, a!]);
    expect(names(index.candidates(ev('s', { t: 'x' })))).toEqual(['a', 'b', 'c']);
  });

  it('between two keys that narrow equally well, keeps the first one written', () => {
    const index = new RouteIndex(routes({ name: 'one', match: { 'data.a': 1, 'data.b': 1 } }, { name: 'two', match: { 'data.a': 2, 'data.b': 2 } }));
    expect(index.describe()).toEqual({ '*': 'data.a' });
    expect(names(index.candidates(ev('s', { a: 2, b: 1 })))).toEqual(['two']);
  });
});

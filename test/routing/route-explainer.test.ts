import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { routeSchema, type RouteConfigInput } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { CollectConnector } from '../helpers/collect-connector.js';

// Never connects: explain is pure.
const lazyRedis = new Redis({ lazyConnect: true, port: 1, enableOfflineQueue: false });
afterAll(() => lazyRedis.disconnect());

const connectors = new Map([
  ['ok', new CollectConnector({ text: '{{ data.n }}' })],
  // Compiles, and fails only on an event whose data.big is past the template output limit (1 MiB).
  ['bad', new CollectConnector({ text: 'big: {{ data.big }}' })],
]);
const NOW = Date.UTC(2026, 0, 5, 12, 0); // a Monday, 12:00 UTC
const BIG = 'x'.repeat(1_100_000);

function compile(input: RouteConfigInput[]): Router {
  return Router.compile(
    input.map((r) => routeSchema.parse(r)),
    { redis: lazyRedis, keyPrefix: 'x:', logger: silentLogger(), connectors, now: () => NOW },
  );
}
const ev = (data: Record<string, unknown>, source = 'mom'): BridgeEvent => ({
  id: `${source}:moment:1`,
  source,
  kind: 'moment',
  time: '2026-01-05T11:59:00.000Z',
  data,
});

describe('explain: the words for each way a route does not match', () => {
  it('from, match, activeTimes, when false, when failing, disabled, not reached', () => {
    const router = compile([
      { name: 'only-obs', from: ['obs', 'obs2'], to: ['ok'] },
      { name: 'needs-hr', match: { 'data.t': 'hr' }, to: ['ok'] },
      { name: 'nights', activeTimes: [{ days: ['mon'], from: '22:00', to: '23:00', tz: 'UTC' }], to: ['ok'] },
      { name: 'big', when: 'data.n > 10', to: ['ok'] },
      { name: 'broken', when: 'data.missing > 1', to: ['ok'] },
      { name: 'off', enabled: false, continue: true, to: ['ok'] },
      { name: 'first', to: ['ok'] },
      { name: 'behind-match', to: ['ok'] },
      { name: 'behind-miss', match: { 'data.t': 'hr' }, to: ['ok'] },
    ]);
    const x = router.explain(ev({ t: 'speed', n: 3 }));
    expect(x.at).toBe(new Date(NOW).toISOString());
    expect(x.routes.map((r) => [r.route, r.index, r.status, r.reason])).toEqual([
      ['only-obs', 0, 'no-match', 'from: source "mom" is not one of obs, obs2'],
      ['needs-hr', 1, 'no-match', 'match: data.t is "speed", expected = "hr"'],
      ['nights', 2, 'no-match', expect.stringMatching(/^activeTimes: 2026-01-05T12:00:00\.000Z is outside \S/) as string],
      ['big', 3, 'no-match', 'when: data.n > 10 is false'],
      ['broken', 4, 'no-match', expect.stringMatching(/^when: data\.missing > 1 failed to evaluate \(.*missing.*\); counted as no match$/) as string],
      ['off', 5, 'disabled', 'enabled: false'],
      ['first', 6, 'matched', undefined],
      ['behind-match', 7, 'not-reached', 'route "first" matched first and has no continue: true'],
      ['behind-miss', 8, 'not-reached', 'route "first" matched first and has no continue: true'],
    ]);
    expect(x.routes[1]!.failed).toEqual({ field: 'data.t', expected: '= "hr"', actual: '"speed"' });
    expect(x.routes[0]!.failed).toBeUndefined();
    expect(x.routes[5]!.continue).toBe(true);
    expect(x.routes[6]!.continue).toBe(false);
    expect(x.routes.slice(7).map((r) => r.wouldMatch)).toEqual([true, false]);
    expect(x.routes.filter((r) => r.status !== 'matched').every((r) => r.deliveries.length === 0)).toBe(true);
  });

  it('a matched route shows its keys, its payloads (and render errors), and what would be delivered', () => {
    const router = compile([
      {
        name: 'keys',
        match: { 'data.t': 'hr' },
        throttle: { key: 'th-{{ data.a }}', window: '1m' },
        dedupe: { key: 'dd-{{ data.a }}', window: '1m' },
        to: ['ok', 'bad'],
        continue: true,
      },
      { name: 'plain-dedupe', dedupe: { window: '1m' }, to: ['ok'], continue: true },
      { name: 'grouped', group: { by: ['data.a', 'data.none'], wait: '30s', interval: '5m', max: 10 }, to: ['ok'] },
    ]);
    const e = ev({ t: 'hr', a: 'A1', n: 7, big: BIG });
    const x = router.explain(e);
    const [keys, plain, grouped] = x.routes;
    expect(keys).toMatchObject({ status: 'matched', throttleKey: 'th-A1', dedupeKey: 'dd-A1' });
    expect(keys!.deliveries[0]).toEqual({ connector: 'ok', payload: { text: 7 } }); // a lone expression keeps its type
    expect(keys!.deliveries[1]!.connector).toBe('bad');
    expect(keys!.deliveries[1]!.error).toMatch(/rendered 1100005 characters; the limit is/);
    expect(keys!.deliveries[1]!.payload).toBeUndefined();
    expect(plain!.dedupeKey).toBeUndefined();
    expect(plain!.throttleKey).toBeUndefined();
    expect(grouped).toMatchObject({ status: 'matched', groupKey: { 'data.a': 'A1', 'data.none': null } });
    // Delivered now: the two plain payloads of this event; the grouped route's preview is a one-event digest.
    expect(x.deliveries.map((d) => [d.route, d.connector, d.event.kind])).toEqual([
      ['keys', 'ok', 'moment'],
      ['plain-dedupe', 'ok', 'moment'],
      ['grouped', 'ok', 'digest'],
    ]);
    const digest = x.deliveries[2]!.event;
    expect(digest.id).toBe('mom:digest:grouped/mom:moment:1');
    expect(digest.time).toBe(new Date(NOW).toISOString());
    expect(digest.data).toMatchObject({ route: 'grouped', count: 1, group: { 'data.a': 'A1', 'data.none': null }, t: 'hr' });
    expect((digest as unknown as { events: BridgeEvent[] }).events).toEqual([e]);
  });

  it('a key template that fails on this event is shown as a render error, not thrown', () => {
    const router = compile([{ name: 'k', throttle: { key: 'k-{{ data.big }}', window: '1m' }, to: ['ok'] }]);
    expect(router.explain(ev({ big: BIG })).routes[0]!.throttleKey).toMatch(/^\(render error: .*the limit is/);
  });
});

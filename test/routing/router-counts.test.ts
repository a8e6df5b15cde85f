import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { registry } from '../../src/core/metrics.js';
import { routeSchema, type RouteConfigInput } from '../../src/routing/route-schema.js';
import { EventRoutingError, Router } from '../../src/routing/router.js';
import { CollectConnector } from '../helpers/collect-connector.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { captureLog } from '../helpers/log-capture.js';

// What the router counts and logs for each decision an operator looks for on /metrics and in the
// log (throttled, deduplicated, grouped, a failing `when`, a key or payload that cannot render), and
// the error it throws when matching the event itself fails. Route names are unique per test, so
// counters read as deltas of their own series.

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  await redis.flush();
});

const connectors = new Map([
  ['ok', new CollectConnector({ text: '{{ data.n }}' })],
  // Compiles, and fails only on an event whose data.big is past the template output limit (1 MiB).
  ['bad', new CollectConnector({ text: 'big: {{ data.big }}' })],
]);
const BIG = 'x'.repeat(1_100_000);

function rig(input: RouteConfigInput[]): { router: Router; lines: Record<string, unknown>[] } {
  const { lines, logger } = captureLog();
  const router = Router.compile(
    input.map((r) => routeSchema.parse(r)),
    { redis: redis.client(), keyPrefix: 'mb:', logger, connectors },
  );
  return { router, lines };
}

let seq = 0;
function ev(data: Record<string, unknown>): BridgeEvent {
  seq++;
  return { id: `moments:moment:c${seq}`, source: 'moments', kind: 'moment', time: new Date().toISOString(), data };
}

async function count(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const values = (m?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
}

describe('router counters and log lines', () => {
  it('counts each match per route, and nothing for an event no route takes', async () => {
    const { router } = rig([
      { name: 'rc-first', match: { 'data.n': 1 }, to: ['ok'], continue: true },
      { name: 'rc-second', to: ['ok'] },
      { name: 'rc-never', match: { 'data.n': 99 }, to: ['ok'] },
    ]);
    await router.route(ev({ n: 1 }));
    await router.route(ev({ n: 2 }));
    expect(await count('mb_route_matched_total', { route: 'rc-first' })).toBe(1);
    expect(await count('mb_route_matched_total', { route: 'rc-second' })).toBe(2);
    expect(await count('mb_route_matched_total', { route: 'rc-never' })).toBe(0);
    expect((await router.routeWithFailures(ev({ n: 3 }))).matched).toBe(1);
  });

  it('a throttled event: counted, logged at debug with its key, and not delivered', async () => {
    const { router, lines } = rig([{ name: 'rc-thr', throttle: { key: 'k-{{ data.n }}', window: '5m' }, to: ['ok'] }]);
    expect(await router.route(ev({ n: 7 }))).toHaveLength(1);
    // Later than a millisecond: the window is the route's (5 min), not a token one.
    await new Promise((r) => setTimeout(r, 20));
    const held = ev({ n: 7 });
    expect(await router.route(held)).toEqual([]);
    expect(await count('mb_route_throttled_total', { route: 'rc-thr' })).toBe(1);
    expect(lines.filter((l) => l.msg === 'throttled')).toEqual([expect.objectContaining({ level: 20, route: 'rc-thr', eventId: held.id, key: 'k-7' })]);
  });

  it('a duplicate dropped by dedupe: counted and logged at debug; the first copy is not', async () => {
    const { router, lines } = rig([{ name: 'rc-dup', dedupe: { window: '5m' }, to: ['ok'] }]);
    expect(await router.route(ev({ n: 1 }))).toHaveLength(1);
    const dup = ev({ n: 1 });
    expect(await router.route(dup)).toEqual([]);
    expect(await count('mb_route_deduped_total', { route: 'rc-dup' })).toBe(1);
    expect(lines.filter((l) => l.msg === 'duplicate content dropped')).toEqual([expect.objectContaining({ level: 20, route: 'rc-dup', eventId: dup.id })]);
  });

  it('a grouped route with dedupe drops a duplicate before it joins the group', async () => {
    const { router } = rig([{ name: 'rc-gd', group: { by: ['data.g'], interval: '1h' }, dedupe: { key: '{{ data.n }}', window: '5m' }, to: ['ok'] }]);
    await router.route(ev({ g: 'a', n: 1 }));
    await router.route(ev({ g: 'a', n: 1 }));
    await router.route(ev({ g: 'a', n: 2 }));
    expect(await count('mb_route_deduped_total', { route: 'rc-gd' })).toBe(1);
    expect(await count('mb_route_grouped_total', { route: 'rc-gd' })).toBe(2);
    expect(await router.pendingGroups()).toBe(1);
  });

  it('counts an event into a group once, however often it is routed', async () => {
    const { router } = rig([{ name: 'rc-grp', group: { by: ['data.g'], interval: '1h' }, to: ['ok'] }]);
    const e = ev({ g: 'a' });
    expect((await router.routeWithFailures(e)).matched).toBe(1);
    expect((await router.routeWithFailures(e)).deliveries).toEqual([]);
    expect(await count('mb_route_grouped_total', { route: 'rc-grp' })).toBe(1);
  });

  it('a `when` that fails to evaluate: counted, logged at debug with the error, no match', async () => {
    const { router, lines } = rig([{ name: 'rc-when', when: 'data.missing > 1', to: ['ok'] }]);
    const e = ev({ n: 1 });
    expect(await router.route(e)).toEqual([]);
    expect(await count('mb_route_condition_errors_total', { route: 'rc-when' })).toBe(1);
    const line = lines.find((l) => l.msg === 'route condition failed to evaluate; counted as no match');
    expect(line).toMatchObject({ level: 20, route: 'rc-when', eventId: e.id });
    expect(String(line!.err)).toMatch(/missing/);
  });

  it('a throttle key that cannot render lets the event through: counted as a render error, logged with the template', async () => {
    const { router, lines } = rig([{ name: 'rc-key', throttle: { key: 'k-{{ data.big }}', window: '5m' }, to: ['ok'] }]);
    const e = ev({ n: 1, big: BIG });
    expect(await router.route(e)).toHaveLength(1);
    expect(await router.route(ev({ n: 2, big: BIG }))).toHaveLength(1);
    expect(await count('mb_route_render_errors_total', { route: 'rc-key', connector: '' })).toBe(2);
    expect(await count('mb_route_throttled_total', { route: 'rc-key' })).toBe(0);
    const line = lines.find((l) => l.msg === 'key template failed to render; event not throttled/deduplicated');
    expect(line).toMatchObject({ level: 40, route: 'rc-key', eventId: e.id, template: 'k-{{ data.big }}' });
    expect(String(line!.err)).toMatch(/limit/);
  });

  it('a dedupe key that cannot render lets every copy through', async () => {
    const { router } = rig([{ name: 'rc-dkey', dedupe: { key: '{{ data.big }}', window: '5m' }, to: ['ok'] }]);
    expect(await router.route(ev({ big: BIG }))).toHaveLength(1);
    expect(await router.route(ev({ big: BIG }))).toHaveLength(1);
    expect(await count('mb_route_deduped_total', { route: 'rc-dkey' })).toBe(0);
  });

  it('a payload that cannot render: route() logs it with route and connector and skips only that delivery', async () => {
    const { router, lines } = rig([{ name: 'rc-pay', to: ['ok', 'bad'] }]);
    const e = ev({ n: 1, big: BIG });
    expect((await router.route(e)).map((d) => d.connector)).toEqual(['ok']);
    expect(await count('mb_route_render_errors_total', { route: 'rc-pay', connector: 'bad' })).toBe(1);
    expect(await count('mb_route_render_errors_total', { route: 'rc-pay', connector: 'ok' })).toBe(0);
    const line = lines.find((l) => l.msg === 'payload failed to render; this delivery is skipped');
    expect(line).toMatchObject({ level: 50, route: 'rc-pay', connector: 'bad', eventId: e.id });
    expect(line!.err).toBeDefined();
  });

  it('matching that throws is an EventRoutingError naming the event, with the cause', async () => {
    const { router } = rig([{ name: 'rc-throw', match: { 'data.x': 1 }, to: ['ok'] }]);
    const data = {};
    Object.defineProperty(data, 'x', {
      enumerable: true,
      get() {
        throw new Error('poisoned getter');
      },
    });
    const e = ev(data);
    const err = await router.routeWithFailures(e).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(EventRoutingError);
    expect(err).toMatchObject({
      code: 'route_match_failed',
      name: 'EventRoutingError',
      message: `matching event ${e.id} against the routes failed: poisoned getter`,
    });
    expect((err as Error).cause).toBeInstanceOf(Error);
  });
});

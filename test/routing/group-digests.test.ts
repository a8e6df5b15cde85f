import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger, type Logger } from '../../src/core/log.js';
import { registry } from '../../src/core/metrics.js';
import { routeSchema, type RouteConfigInput } from '../../src/routing/route-schema.js';
import { digestEvent } from '../../src/routing/digest-event.js';
import { fieldGetter } from '../../src/routing/matchers.js';
import { Router } from '../../src/routing/router.js';
import { CollectConnector } from '../helpers/collect-connector.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { captureLog } from '../helpers/log-capture.js';

// GroupDigests, the routing side of digests, through a Router on a real Redis: what it counts and
// logs, and the groups claimDue completes or keeps without returning them.

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

const connectors = new Map([['sink', new CollectConnector({ text: '{{ data.count }}' })]]);
const PREFIX = 'gd:';

function replica(routes: RouteConfigInput[], clock: { now: number }, logger: Logger = silentLogger()): Router {
  return Router.compile(
    routes.map((r) => routeSchema.parse(r)),
    { redis: redis.client(), keyPrefix: PREFIX, logger, connectors, now: () => clock.now },
  );
}

async function flushed(route: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'mb_route_digests_total');
  return ((m?.values ?? []) as { value: number; labels: Record<string, string | number> }[])
    .filter((v) => v.labels.route === route)
    .reduce((a, v) => a + v.value, 0);
}

let seq = 0;
const moment = (athleteId: string): BridgeEvent => ({
  id: `moments:moment:gd${++seq}`,
  source: 'moments',
  kind: 'moment',
  time: new Date().toISOString(),
  data: { athleteId },
});

describe('GroupDigests', () => {
  it('counts each completed digest for its route', async () => {
    const route: RouteConfigInput = { name: 'gd-count', to: ['sink'], group: { by: ['data.athleteId'], wait: '30s', interval: '5m' } };
    const clock = { now: 5_000_000 };
    const router = replica([route], clock);
    await router.route(moment('a'));
    await router.route(moment('b'));
    clock.now += 30_000;
    const due = await router.digests.claimDue();
    expect(due.map((d) => d.events.length)).toEqual([1, 1]);
    const before = await flushed('gd-count');
    for (const d of due) await router.digests.complete(d);
    expect((await flushed('gd-count')) - before).toBe(2);
    // Both groups sent all they held: no group is left due or leased.
    expect(await router.pendingGroups()).toBe(0);
  });

  it('an event joining a group while its digest is being flushed waits for that flush: the group is not made due a second time', async () => {
    const route: RouteConfigInput = { name: 'gd-busy', to: ['sink'], group: { by: ['data.athleteId'], wait: '30s', interval: '5m' } };
    const clock = { now: 5_000_000 };
    const router = replica([route], clock);
    await router.route(moment('a'));
    clock.now += 30_000;
    const [claimed] = await router.digests.claimDue();
    expect(claimed!.events).toHaveLength(1);
    await router.route(moment('a'));
    // One group, leased; not also due (a second replica would flush it at the same time).
    expect(await router.pendingGroups()).toBe(1);
    // Within the flush lease (a lapsed lease means a crashed flush, which is claimed again).
    clock.now += 1_000;
    expect(await router.digests.claimDue()).toEqual([]);
    await router.digests.complete(claimed!);
    clock.now += 300_000;
    const [next] = await router.digests.claimDue();
    expect(next!.events).toHaveLength(1);
  });

  it('a group of a route gone from the config: a warning naming the route and its size, not returned', async () => {
    const route: RouteConfigInput = { name: 'gd-gone', to: ['sink'], group: { by: ['data.athleteId'], wait: '30s', interval: '5m' } };
    const clock = { now: 5_000_000 };
    const router = replica([route], clock);
    await router.route(moment('a'));
    await router.route(moment('a'));
    clock.now += 30_000;
    const { lines, logger } = captureLog();
    const without = replica([{ ...route, name: 'gd-other' }], clock, logger);
    expect(await without.digests.claimDue()).toEqual([]);
    expect(lines.filter((l) => l.level === 40)).toEqual([
      expect.objectContaining({
        route: 'gd-gone',
        events: 2,
        msg: 'pending group digest for a route that no longer exists or no longer groups; kept, retried hourly',
      }),
    ]);
    expect(await without.pendingGroups()).toBe(1);
  });

  it('a due group whose events are gone (e.g. evicted) is completed and dropped, not returned or kept leased', async () => {
    const route: RouteConfigInput = { name: 'gd-empty', to: ['sink'], group: { by: ['data.athleteId'], wait: '30s', interval: '5m' } };
    const clock = { now: 5_000_000 };
    const router = replica([route], clock);
    await router.route(moment('a'));
    const lists = await redis.client().keys(`${PREFIX}{routing-groups}:events:*`);
    expect(lists).toHaveLength(1);
    await redis.client().del(lists[0]!);
    clock.now += 30_000;
    expect(await router.digests.claimDue()).toEqual([]);
    expect(await router.pendingGroups()).toBe(0);
  });
});

describe('digestEvent', () => {
  const by = [{ path: 'data.athleteId', get: fieldGetter('data.athleteId') }];
  const at = Date.UTC(2026, 0, 5, 12, 0);

  it("spreads the first event's data under the digest's own fields", () => {
    const first = { ...moment('a'), data: { athleteId: 'a', value: 3, count: 99 } };
    const d = digestEvent('r', by, [first, moment('a')], at);
    expect(d).toMatchObject({ id: `moments:digest:r/${first.id}`, source: 'moments', kind: 'digest', time: '2026-01-05T12:00:00.000Z' });
    expect(Object.keys(d.data).sort()).toEqual(['athleteId', 'count', 'events', 'group', 'route', 'value']);
    expect(d.data.count).toBe(2);
  });

  it('takes nothing from first data that is not an object: an array, a string or null', () => {
    for (const data of [['x', 'y'], 'text', null]) {
      const d = digestEvent('r', by, [{ ...moment('a'), data }], at);
      expect(Object.keys(d.data).sort()).toEqual(['count', 'events', 'group', 'route']);
    }
  });
});

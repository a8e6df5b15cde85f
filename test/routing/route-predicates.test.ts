import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { registry } from '../../src/core/metrics.js';
import { compileRoutes } from '../../src/routing/route-compiler.js';
import { isConditionFailure, routeMiss } from '../../src/routing/route-predicates.js';
import { routeSchema, type RouteConfigInput } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { CollectConnector } from '../helpers/collect-connector.js';

// Never connects: the predicates and explanations send no Redis command.
const lazyRedis = new Redis({ lazyConnect: true, port: 1, enableOfflineQueue: false });
afterAll(() => lazyRedis.disconnect());
const deps = { redis: lazyRedis, keyPrefix: 'pred:', logger: silentLogger(), connectors: new Map([['sink', new CollectConnector({ text: 'x' })]]) };

const NOON = Date.parse('2025-03-04T12:00:00.000Z');
const route: RouteConfigInput = {
  name: 'r',
  from: ['moments'],
  match: { kind: 'moment', 'data.value': { gt: 10 } },
  activeTimes: [{ from: '08:00', to: '20:00' }],
  when: 'data.ok == true',
  to: ['sink'],
};
const [compiled] = compileRoutes([routeSchema.parse(route)], deps).routes;
const event = (data: Record<string, unknown>, source = 'moments'): BridgeEvent => ({
  id: `${source}:moment:1`,
  source,
  kind: 'moment',
  time: '2025-03-04T12:00:00.000Z',
  data,
});

async function conditionErrors(routeName: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'mb_route_condition_errors_total');
  return (m?.values ?? []).filter((v) => v.labels.route === routeName).reduce((a, v) => a + v.value, 0);
}

describe('routeMiss: the first check that fails, without allocating', () => {
  it.each<[string, BridgeEvent, number, (miss: unknown) => void]>([
    ['matches', event({ value: 11, ok: true }), NOON, (miss) => expect(miss).toBeUndefined()],
    ['from', event({ value: 11, ok: true }, 'observer'), NOON, (miss) => expect(miss).toBe('from')],
    ['the failing match entry itself', event({ value: 3, ok: true }), NOON, (miss) => expect(miss).toBe(compiled!.matchers[1])],
    ['activeTimes', event({ value: 11, ok: true }), NOON + 10 * 3_600_000, (miss) => expect(miss).toBe('activeTimes')],
    ['when false', event({ value: 11, ok: false }), NOON, (miss) => expect(miss).toBe('when')],
    [
      'the CEL result of an evaluation error',
      event({ value: 11 }),
      NOON,
      (miss) => expect(miss).toMatchObject({ ok: false, error: expect.stringMatching(/ok/) }),
    ],
  ])('%s', (name, e, now, check) => {
    const miss = routeMiss(compiled!, e, now);
    check(miss);
    // Only an evaluation error is one routing counts in mb_route_condition_errors_total.
    expect(miss !== undefined && isConditionFailure(miss)).toBe(name === 'the CEL result of an evaluation error');
  });

  it('checks in order: from before match before activeTimes before when', () => {
    expect(routeMiss(compiled!, event({ value: 3 }, 'observer'), NOON + 10 * 3_600_000)).toBe('from');
    expect(routeMiss(compiled!, event({ value: 3 }), NOON + 10 * 3_600_000)).toBe(compiled!.matchers[1]);
    expect(routeMiss(compiled!, event({ value: 11 }), NOON + 10 * 3_600_000)).toBe('activeTimes');
  });
});

describe('routing and explanations share the predicates', () => {
  it('a `when` that fails to evaluate: routing counts and skips it, the explanation says why and counts nothing', async () => {
    const router = Router.compile([routeSchema.parse({ ...route, name: 'pred-failing' })], { ...deps, now: () => NOON });
    const e = event({ value: 11 });
    const before = await conditionErrors('pred-failing');
    const x = router.explain(e);
    expect(x.routes[0]).toMatchObject({
      status: 'no-match',
      reason: expect.stringMatching(/^when: data.ok == true failed to evaluate \(.*\); counted as no match$/),
    });
    expect(await conditionErrors('pred-failing')).toBe(before);
    expect(router.matchNames(e)).toEqual([]);
    expect(await conditionErrors('pred-failing')).toBe(before + 1);
  });

  it.each<[string, BridgeEvent, number, string]>([
    ['from', event({ value: 11, ok: true }, 'observer'), NOON, 'from: source "observer" is not one of moments'],
    ['match', event({ value: 3, ok: true }), NOON, 'match: data.value is 3, expected > 10'],
    ['activeTimes', event({ value: 11, ok: true }), NOON + 10 * 3_600_000, 'activeTimes: 2025-03-04T22:00:00.000Z is outside '],
    ['when', event({ value: 11, ok: false }), NOON, 'when: data.ok == true is false'],
  ])('%s: no match in routing, the same check named in the explanation', (_, e, now, reason) => {
    const router = Router.compile([routeSchema.parse(route)], { ...deps, now: () => now });
    expect(router.matchNames(e)).toEqual([]);
    expect(router.explain(e).routes[0]!.reason).toContain(reason);
  });
});

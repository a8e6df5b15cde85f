import { describe, expect, it } from 'vitest';
import { configWarnings } from '../../src/config/config-lint.js';
import { routeSchema, type RouteConfigInput } from '../../src/routing/route-schema.js';
import { unreachableRoutes } from '../../src/routing/unreachable-routes.js';

const route = (r: Partial<RouteConfigInput> & { name: string }) => routeSchema.parse({ to: ['c'], ...r });
const unreachable = (...routes: ReturnType<typeof route>[]) => unreachableRoutes(routes).map((i) => i.path[1]);

describe('unreachableRoutes', () => {
  it.each([
    ['after a catch-all', [route({ name: 'all' }), route({ name: 'x', match: { kind: 'moment' } })], [1]],
    [
      'after a route whose conditions are a subset of its own',
      [route({ name: 'm', match: { kind: 'moment' } }), route({ name: 'x', match: { kind: 'moment', 'data.v': { gt: 5 } } })],
      [1],
    ],
    ['after a route for all of its sources', [route({ name: 'm', from: ['a', 'b'] }), route({ name: 'x', from: ['a'] })], [1]],
    ['the first shadowing route is named once, not per route above', [route({ name: 'all' }), route({ name: 'all2' }), route({ name: 'x' })], [1, 2]],
  ])('reports a route %s', (_what, routes, expected) => {
    expect(unreachable(...routes)).toEqual(expected);
  });

  it.each([
    ['the earlier route continues', [route({ name: 'all', continue: true }), route({ name: 'x' })]],
    ['the earlier route has a CEL condition', [route({ name: 'all', when: 'data.v > 1' }), route({ name: 'x' })]],
    ['the earlier route is only active at times', [route({ name: 'all', activeTimes: [{ days: ['mon'] }] }), route({ name: 'x' })]],
    ['the earlier route is disabled', [route({ name: 'all', enabled: false }), route({ name: 'x' })]],
    ['the later route is disabled (on purpose)', [route({ name: 'all' }), route({ name: 'x', enabled: false })]],
    ['the values differ', [route({ name: 'm', match: { kind: 'moment' } }), route({ name: 'x', match: { kind: 'trigger.created' } })]],
    ['the earlier route has a condition the later one lacks', [route({ name: 'm', match: { kind: 'moment' } }), route({ name: 'x' })]],
    ['the later route sees a source the earlier does not', [route({ name: 'm', from: ['a'] }), route({ name: 'x', from: ['a', 'b'] })]],
    ['the earlier route names sources and the later sees all', [route({ name: 'm', from: ['a'] }), route({ name: 'x' })]],
  ])('does not report a route when %s', (_what, routes) => {
    expect(unreachable(...routes)).toEqual([]);
  });
});

describe('configWarnings', () => {
  it('names connectors no route uses, and those only disabled routes use', () => {
    const raw = {
      connectors: { used: {}, spare: {}, parked: {} },
      routes: [
        { name: 'a', to: ['used'] },
        { name: 'b', enabled: false, to: [{ connector: 'parked', channel: '#x' }] },
      ],
    };
    expect(configWarnings(raw)).toEqual([
      { path: ['connectors', 'spare'], message: expect.stringContaining('connector "spare" is used by no route') },
      { path: ['connectors', 'parked'], message: expect.stringContaining('connector "parked" is used only by disabled routes') },
    ]);
  });

  it('skips routes the schema rejects (their problems are errors already) but keeps their indexes', () => {
    const raw = {
      routes: [
        { name: 'broken', to: 'not-a-list' },
        { name: 'all', to: ['c'] },
        { name: 'late', to: ['c'] },
      ],
    };
    expect(configWarnings(raw).map((w) => w.path)).toEqual([['routes', 2]]);
  });
});

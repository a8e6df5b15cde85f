import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { silentLogger } from '../../src/core/log.js';
import { routeSchema } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { readRuleTests, runRuleTest } from '../../src/routing/rule-tests.js';
import { CollectConnector } from '../helpers/collect-connector.js';

/**
 * examples/rules.test.yaml against the routes of config.example.yaml. The real connectors render
 * the payloads under `moments-bridge test`; here each connector is a collecting stand-in, so only
 * the routing decisions (which routes, which connectors) are checked.
 */
const lazyRedis = new Redis({ lazyConnect: true, port: 1, enableOfflineQueue: false });
afterAll(() => lazyRedis.disconnect());

const example = parse(readFileSync('config.example.yaml', 'utf8')) as { routes: unknown[]; connectors: Record<string, unknown> };
const connectors = new Map(
  Object.keys(example.connectors).map((name) => [
    name,
    new CollectConnector({ text: '{{ id }}', channel: '', summary: '', severity: '', dedupKey: '', eventAction: '' }),
  ]),
);
const router = Router.compile(
  example.routes.map((r) => routeSchema.parse(r)),
  { redis: lazyRedis, keyPrefix: 't:', logger: silentLogger(), connectors },
);

describe('examples/rules.test.yaml decisions on config.example.yaml routes', () => {
  const cases = readRuleTests('examples/rules.test.yaml');
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(5));
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const decisionsOnly = {
      ...c,
      expect: {
        ...c.expect,
        ...(c.expect.deliveries ? { deliveries: c.expect.deliveries.map(({ connector, route }) => ({ connector, ...(route ? { route } : {}) })) } : {}),
      },
    };
    const result = runRuleTest(router, decisionsOnly);
    expect(result.problems).toEqual([]);
  });
});

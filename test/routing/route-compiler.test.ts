import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { delivered, type Connector, type DeliveryResult, type PayloadRenderer } from '../../connectors/connector.js';
import { ConfigValidationError } from '../../src/core/config-error.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { compileRoutes } from '../../src/routing/route-compiler.js';
import { routeSchema, type RouteConfigInput } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { CollectConnector } from '../helpers/collect-connector.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

// The route compiler's own decisions: where a bad target is reported, what a connector's renderer
// is given, one report for a connector whose template is broken, key templates tried on a sample
// event, and the Redis key names throttle and dedupe windows live under (pinned: a rename would
// reopen every window on upgrade).

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

/** A connector that records what its renderer was asked with, or refuses every renderer. */
class RendererProbe implements Connector {
  readonly asked: (Record<string, unknown> | undefined)[] = [];
  constructor(private readonly refuse?: string) {}
  renderer(overrides?: Record<string, unknown>): PayloadRenderer {
    this.asked.push(overrides);
    if (this.refuse) throw new Error(this.refuse);
    return { render: (event) => ({ id: event.id }) };
  }
  async deliver(): Promise<DeliveryResult> {
    return delivered();
  }
}

function issues(input: RouteConfigInput[], connectors: ReadonlyMap<string, Connector>): { path: string; message: string }[] {
  try {
    compileRoutes(
      input.map((r) => routeSchema.parse(r)),
      { redis: redis.client(), keyPrefix: 'rc:', connectors },
    );
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return (err as ConfigValidationError).issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  }
  return [];
}

const ok = new CollectConnector({ text: '{{ data.n }}' });

describe('compileRoutes', () => {
  it('an unknown connector: at the list item for a name, at its `connector` key for an object, naming the ones there are', () => {
    const found = issues(
      [
        { name: 'a', to: ['hookz'] },
        { name: 'b', to: ['hooks', { connector: 'pagr', severity: 'error' }] },
      ],
      new Map<string, Connector>([
        ['hooks', ok],
        ['pager', ok],
      ]),
    );
    expect(found.map((i) => i.path)).toEqual(['routes.0.to.0', 'routes.1.to.1.connector']);
    expect(found[0]!.message).toMatch(/no connector named "hookz".*"hooks"/);
    expect(found[1]!.message).toMatch(/no connector named "pagr".*"pager"/);
  });

  it('a renderer gets the route overrides, or undefined when the route gives only the connector', () => {
    const probe = new RendererProbe();
    expect(issues([{ name: 'a', to: ['p', { connector: 'p' }, { connector: 'p', severity: 'error' }] }], new Map([['p', probe]]))).toEqual([]);
    expect(probe.asked).toEqual([undefined, undefined, { severity: 'error' }]);
  });

  it('a connector whose own template is broken is reported once, at the first route that uses it', () => {
    const broken = new RendererProbe('payload.text: cannot compile template "{{ x | nosuch }}"');
    const found = issues(
      [
        { name: 'a', to: ['ok', 'broken'] },
        { name: 'b', to: ['broken'] },
      ],
      new Map<string, Connector>([
        ['ok', ok],
        ['broken', broken],
      ]),
    );
    expect(found).toEqual([{ path: 'routes.0.to.1', message: 'payload.text: cannot compile template "{{ x | nosuch }}"' }]);
    expect(broken.asked).toHaveLength(2);
  });

  it('a key template that compiles but cannot render is refused at compile time, at its path, as a key template', () => {
    const runaway = '{% for i in (1..100000000) %}x{% endfor %}';
    const found = issues(
      [
        { name: 't', throttle: { key: runaway, window: '1m' }, to: ['ok'] },
        { name: 'd', dedupe: { key: runaway, window: '1m' }, to: ['ok'] },
      ],
      new Map([['ok', ok]]),
    );
    expect(found.map((i) => i.path)).toEqual(['routes.0.throttle.key', 'routes.1.dedupe.key']);
    for (const i of found) expect(i.message).toMatch(/^key template: the template .* was stopped/);
  });
});

describe('throttle and dedupe windows in Redis', () => {
  const ev = (n: number): BridgeEvent => ({ id: `moments:moment:k${n}`, source: 'moments', kind: 'moment', time: '2026-01-05T12:00:00.000Z', data: { n } });

  it('live under <keyPrefix>routing:throttle:<route>: and <keyPrefix>routing:dedupe:<route>:', async () => {
    const router = Router.compile(
      [
        { name: 'thr', throttle: { key: 'k-{{ data.n }}', window: '1m' }, to: ['ok'], continue: true },
        { name: 'dup', dedupe: { window: '1m' }, to: ['ok'] },
      ].map((r) => routeSchema.parse(r)),
      { redis: redis.client(), keyPrefix: 'mb:', logger: silentLogger(), connectors: new Map([['ok', ok]]) },
    );
    await router.route(ev(1));
    const keys = (await redis.client().keys('*')).sort();
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe('mb:routing:throttle:thr:k-1');
    expect(keys[0]).toMatch(/^mb:routing:dedupe:dup:\S+$/);
  });
});

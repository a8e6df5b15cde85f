import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../../src/core/config-error.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { routeSchema, type RouteConfigInput } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { CollectConnector } from '../helpers/collect-connector.js';

// A client that never connects: these tests prove the pure paths send no Redis command.
const lazyRedis = new Redis({ lazyConnect: true, port: 1, enableOfflineQueue: false });
afterAll(() => lazyRedis.disconnect());

const connectors = new Map([
  ['slack', new CollectConnector({ channel: '#ops', text: '{{ data.triggerName }}: {{ data.moment | mrkdwn }}' })],
  ['pager', new CollectConnector({ summary: '{{ data.athleteId }} {{ data.value | number: 1 }}', severity: 'critical' })],
  ['sheet', new CollectConnector({ row: ['{{ data.publicId }}', '{{ time | date: "%Y-%m-%d" }}', '{{ data.missing | default: "n/a" }}'] })],
]);

function compile(input: RouteConfigInput[], now?: () => number): Router {
  return Router.compile(
    input.map((r) => routeSchema.parse(r)),
    { redis: lazyRedis, keyPrefix: 'test:', logger: silentLogger(), connectors, ...(now ? { now } : {}) },
  );
}

function moment(data: Record<string, unknown>, source = 'moments'): BridgeEvent {
  return { id: `${source}:moment:${String(data.publicId ?? 'x')}`, source, kind: 'moment', time: '2025-03-04T10:00:00.000Z', data };
}

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return (err as ConfigValidationError).issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  }
  throw new Error('expected a ConfigValidationError');
}

describe('compile errors', () => {
  it('reports every bad rule with its path, all at once', () => {
    const issues = issuesOf(() =>
      compile([
        { name: 'ok', to: ['slack'] },
        { name: 'syntax', when: 'data.value >', to: ['slack'] },
        { name: 'unknown-fn', when: 'shout(data.x)', to: ['slack'] },
        { name: 'not-bool', when: 'kind + "x"', to: ['slack'] },
        { name: 'bad-regex', match: { 'data.triggerName': '/(HR/' }, to: ['slack'] },
        { name: 'bad-template', to: [{ connector: 'slack', text: '{{ data.x | nosuchfilter }}' }] },
        { name: 'bad-throttle', throttle: { key: '{{ data.athleteId | nosuchfilter }}', window: '5m' }, to: ['slack'] },
        { name: 'bad-override', to: ['slack', { connector: 'pager', chanel: '#x' }] },
        { name: 'no-connector', to: ['slak'] },
        { name: 'bad-tz', activeTimes: [{ tz: 'Mars/Olympus' }], to: ['slack'] },
        { name: 'ok', to: ['slack'] },
      ]),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'routes.1.when',
      'routes.2.when',
      'routes.3.when',
      'routes.4.match.data.triggerName',
      'routes.5.to.0',
      'routes.6.throttle.key',
      'routes.7.to.1',
      'routes.8.to.0',
      'routes.9.activeTimes',
      'routes.10.name',
    ]);
    const msg = (p: string) => issues.find((i) => i.path === p)!.message;
    expect(msg('routes.1.when')).toMatch(/CEL syntax error at column \d+ of "data.value >"/);
    expect(msg('routes.2.when')).toMatch(/no matching overload for 'shout/);
    expect(msg('routes.3.when')).toMatch(/must be true or false/);
    expect(msg('routes.4.match.data.triggerName')).toMatch(/does not compile/);
    expect(msg('routes.5.to.0')).toMatch(/nosuchfilter/);
    expect(msg('routes.6.throttle.key')).toMatch(/nosuchfilter/);
    expect(msg('routes.7.to.1')).toMatch(/unknown override "chanel"/);
    expect(msg('routes.8.to.0')).toMatch(/no connector named "slak"/);
    expect(msg('routes.9.activeTimes')).toMatch(/unknown time zone "Mars\/Olympus"/);
    expect(msg('routes.10.name')).toMatch(/already used by routes\[0\]/);
  });

  it('rejects unknown keys and bad values in the schema', () => {
    expect(routeSchema.safeParse({ name: 'x', to: ['a'], contine: true }).success).toBe(false);
    expect(routeSchema.safeParse({ name: 'x', to: [] }).success).toBe(false);
    expect(routeSchema.safeParse({ name: 'x', to: ['a'], activeTimes: [{ days: ['someday'] }] }).success).toBe(false);
    expect(routeSchema.safeParse({ name: 'x', to: ['a'], activeTimes: [{ from: '25:00' }] }).success).toBe(false);
    expect(routeSchema.parse({ name: 'x', to: ['a'] })).toMatchObject({ enabled: true, continue: false });
  });
});

describe('routing decisions', () => {
  const router = compile([
    { name: 'disabled', enabled: false, to: ['slack'] },
    {
      name: 'hr-critical',
      from: ['moments'],
      match: { kind: 'moment', 'data.triggerName': 'HR > 170' },
      when: 'data.matches.exists(m, m.metric == "heartrate" && m.value > 180)',
      to: ['slack', { connector: 'pager', severity: 'error' }],
      continue: true,
    },
    { name: 'hr-all', match: { 'data.triggerName': ['HR > 170', 'HR > 150'] }, to: ['sheet'] },
    { name: 'speed', match: { 'data.triggerName': '/^speed/i', 'data.value': { ge: 30 } }, to: ['slack'] },
    { name: 'catch-all', to: ['sheet'] },
  ]);

  const hr = (value: number, source = 'moments') =>
    moment({ publicId: `p${value}`, triggerName: 'HR > 170', athleteId: 'a-1', value, moment: '<@U1> ran', matches: [{ metric: 'heartrate', value }] }, source);

  it('CEL true + continue: both the critical route and the next match, in order', async () => {
    const out = await router.route(hr(185));
    expect(out.map((d) => `${d.route}/${d.connector}`)).toEqual(['hr-critical/slack', 'hr-critical/pager', 'hr-all/sheet']);
    expect(out[0]!.payload).toEqual({ channel: '#ops', text: 'HR > 170: &lt;@U1&gt; ran' });
    expect(out[1]!.payload).toEqual({ summary: 'a-1 185.0', severity: 'error' });
    expect(out[2]!.payload).toEqual({ row: ['p185', '2025-03-04', 'n/a'] });
  });

  it('CEL false: falls to the next route; first match wins (no continue) so catch-all is not reached', async () => {
    const out = await router.route(hr(175));
    expect(out.map((d) => d.route)).toEqual(['hr-all']);
  });

  it('from: another source skips the route', async () => {
    expect((await router.route(hr(185, 'replay'))).map((d) => d.route)).toEqual(['hr-all']);
  });

  it('a CEL evaluation error (missing key) counts as no match', async () => {
    const e = moment({ publicId: 'p', triggerName: 'HR > 170' });
    expect((await router.route(e)).map((d) => d.route)).toEqual(['hr-all']);
    const hrRoute = router.explain(e).routes.find((r) => r.route === 'hr-critical')!;
    expect(hrRoute.status).toBe('no-match');
    expect(hrRoute.reason).toMatch(/failed to evaluate \(No such key: matches\)/);
  });

  it('regex + numeric op', async () => {
    expect(router.matchNames(moment({ triggerName: 'Speed high', value: 31 }))).toEqual(['speed']);
    expect(router.matchNames(moment({ triggerName: 'Speed high', value: 29 }))).toEqual(['catch-all']);
  });

  it('explain: every route, matched or why not, rendered payloads, no Redis', () => {
    const x = router.explain(moment({ triggerName: 'Speed high', value: 12 }));
    expect(x.routes.map((r) => [r.route, r.status])).toEqual([
      ['disabled', 'disabled'],
      ['hr-critical', 'no-match'],
      ['hr-all', 'no-match'],
      ['speed', 'no-match'],
      ['catch-all', 'matched'],
    ]);
    expect(x.routes[1]!.failed).toEqual({ field: 'data.triggerName', expected: '= "HR > 170"', actual: '"Speed high"' });
    expect(x.routes[3]!.reason).toBe('match: data.value is 12, expected >= 30');
    expect(x.deliveries).toHaveLength(1);
    expect(x.deliveries[0]!.payload).toEqual({ row: ['', '2025-03-04', 'n/a'] }); // a missing field renders as empty
    const y = router.explain(hr(175));
    expect(y.routes[4]).toMatchObject({ status: 'not-reached', wouldMatch: true, reason: expect.stringMatching(/"hr-all" matched first/) });
    expect(lazyRedis.status).toBe('wait');
  });

  it('the index and the linear explanation agree on a mixed set of events', () => {
    const events = [
      hr(185),
      hr(175),
      hr(185, 'other'),
      moment({ triggerName: 'HR > 150' }),
      moment({ triggerName: 'speed', value: 40 }),
      { ...hr(185), kind: 'trigger.created' },
      moment({}),
    ];
    for (const e of events) {
      const explained = router
        .explain(e)
        .routes.filter((r) => r.status === 'matched')
        .map((r) => r.route);
      expect(router.matchNames(e)).toEqual(explained);
    }
    expect(router.indexDescription()).toEqual({ '*': null, moments: 'data.triggerName' });
  });
});

describe('index scales with unrelated routes', () => {
  it('an event is tested against its bucket and the un-indexable routes only, in route order', () => {
    const input: RouteConfigInput[] = [];
    for (let i = 0; i < 500; i++) input.push({ name: `t${i}`, match: { kind: 'moment', 'data.triggerName': `T${i}` }, to: ['slack'], continue: true });
    input.splice(250, 0, { name: 'numeric', match: { 'data.value': { gt: 100 } }, to: ['slack'], continue: true });
    const router = compile(input);
    expect(router.matchNames(moment({ triggerName: 'T300', value: 101 }))).toEqual(['numeric', 't300']);
    expect(router.matchNames(moment({ triggerName: 'T3', value: 101 }))).toEqual(['t3', 'numeric']);
    expect(router.matchNames(moment({ triggerName: 'T3', value: 1 }))).toEqual(['t3']);
    expect(router.matchNames(moment({ triggerName: 'nope', value: 1 }))).toEqual([]);
  });
});

describe('templates in payloads and overrides', () => {
  it('formats, defaults, truncates, serialises and escapes; overrides replace connector fields per route', async () => {
    const router = compile([
      {
        name: 't',
        to: [
          {
            connector: 'slack',
            channel: '#{{ data.team | downcase }}',
            text: '{{ data.moment | mrkdwn | truncate: 12 }} {{ data.value | number: 2 }} {{ data.tags | json }} {{ data.nope | default: "-" }} {{ time | date: "%H:%M" }}',
          },
        ],
      },
    ]);
    const [d] = await router.route(moment({ team: 'OPS', moment: '<!channel> hello world', value: 3.14159, tags: ['a', 'b'] }));
    expect(d!.payload).toEqual({ channel: '#ops', text: '&lt;!chan... 3.14 ["a","b"] - 10:00' });
  });
});

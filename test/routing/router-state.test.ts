import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { Dedupe } from '../../src/routing/dedupe.js';
import { routeSchema, type RouteConfigInput } from '../../src/routing/route-schema.js';
import { DigestStage, type DigestHandOver } from '../../src/pipeline/digest-stage.js';
import type { RoutedDelivery } from '../../src/routing/render-targets.js';
import { Router } from '../../src/routing/router.js';
import { CollectConnector } from '../helpers/collect-connector.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

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
  ['slack', new CollectConnector({ text: '{{ data.athleteId }} {{ data.value }}' })],
  ['digest', new CollectConnector({ text: '{{ data.count }} moments for {{ data.group["data.athleteId"] }}', ids: '{{ events | map: "id" | join: "," }}' })],
]);

/** One Router = one daemon replica: its own Redis connection, its own clock. */
function replica(input: RouteConfigInput[], clock: { now: number } = { now: Date.now() }): Router {
  return Router.compile(
    input.map((r) => routeSchema.parse(r)),
    { redis: redis.client(), keyPrefix: 'mb:', logger: silentLogger(), connectors, now: () => clock.now },
  );
}

/** The digest stage a daemon runs beside a replica's router, handing due digests to `handOver`. */
function digestStage(router: Router, handOver: DigestHandOver = async () => undefined): DigestStage {
  return new DigestStage({ digests: router.digests, handOver, logger: silentLogger() });
}

let seq = 0;
function moment(athleteId: string, value = 1): BridgeEvent {
  seq++;
  return { id: `moments:moment:m${seq}`, source: 'moments', kind: 'moment', time: new Date().toISOString(), data: { athleteId, value } };
}

describe('throttle', () => {
  const routes: RouteConfigInput[] = [{ name: 'hr', to: ['slack'], throttle: { key: '{{ data.athleteId }}', window: '5m' } }];

  it('two replicas on one Redis: at most one delivery per key per window', async () => {
    const a = replica(routes);
    const b = replica(routes);
    const results = await Promise.all([a.route(moment('a-1')), b.route(moment('a-1')), a.route(moment('a-1')), b.route(moment('a-1'))]);
    expect(results.flat()).toHaveLength(1);
    // Another key is independent.
    expect(await b.route(moment('a-2'))).toHaveLength(1);
  });

  it('the same event routed by both replicas passes on both (one job id downstream), other events stay throttled', async () => {
    const a = replica(routes);
    const b = replica(routes);
    const e = moment('a-3');
    const [fromA, fromB] = [await a.route(e), await b.route(e)];
    expect(fromA).toHaveLength(1);
    expect(fromB.map((d) => [d.event.id, d.route, d.connector])).toEqual(fromA.map((d) => [d.event.id, d.route, d.connector]));
    expect(await b.route(moment('a-3'))).toHaveLength(0);
  });

  it('the window expires', async () => {
    const a = replica([{ name: 'fast', to: ['slack'], throttle: { key: '{{ data.athleteId }}', window: 50 } }]);
    expect(await a.route(moment('a-4'))).toHaveLength(1);
    expect(await a.route(moment('a-4'))).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 120));
    expect(await a.route(moment('a-4'))).toHaveLength(1);
  });
});

describe('dedupe', () => {
  // The identity is part of the Redis key: a changed format would reset every open window on an
  // upgrade, letting a rolling deploy's replicas deliver the same content twice.
  it.each<[unknown, string]>([
    ['x', '"x"'],
    [{ a: 1 }, '{"a":1}'],
    [undefined, 'undefined'],
  ])('identity of %j is 32 base64url characters of sha256(%s)', (content, hashed) => {
    const expected = createHash('sha256').update(hashed).digest('base64url').slice(0, 32);
    expect(Dedupe.identity(content)).toBe(expected);
    expect(expected).toHaveLength(32);
  });

  it('identical rendered content is delivered once per window, across replicas', async () => {
    const routes: RouteConfigInput[] = [{ name: 'd', to: ['slack'], dedupe: { window: '1m' } }];
    const a = replica(routes);
    const b = replica(routes);
    expect(await a.route(moment('a-1', 5))).toHaveLength(1);
    expect(await b.route(moment('a-1', 5))).toHaveLength(0);
    expect(await b.route(moment('a-1', 6))).toHaveLength(1);
  });

  it('with a key template', async () => {
    const a = replica([{ name: 'k', to: ['slack'], dedupe: { key: '{{ data.athleteId }}', window: '1m' } }]);
    expect(await a.route(moment('a-1', 5))).toHaveLength(1);
    expect(await a.route(moment('a-1', 6))).toHaveLength(0);
  });
});

describe('grouping', () => {
  const routes: RouteConfigInput[] = [{ name: 'g', to: ['digest'], group: { by: ['data.athleteId'], wait: '30s', interval: '5m', max: 3 } }];

  it('a restart does not lose a pending group: a new Router on the same Redis flushes it', async () => {
    const clock = { now: 1_000_000 };
    const first = replica(routes, clock);
    const firstStage = digestStage(first);
    firstStage.start();
    const e1 = moment('a-1');
    const e2 = moment('a-1');
    const other = moment('a-2');
    expect(await first.route(e1)).toEqual([]);
    expect(await first.route(e2)).toEqual([]);
    expect(await first.route(other)).toEqual([]);
    // The same event from a second replica is not added twice.
    expect(await replica(routes, clock).route(e1)).toEqual([]);
    await firstStage.stop(); // the daemon goes away before `wait` is over

    const second = replica(routes, clock);
    const got: RoutedDelivery[] = [];
    const secondDigests = digestStage(second, async (d) => void got.push(...d));
    expect(await secondDigests.flushDue()).toBe(0); // not due yet
    clock.now += 30_000;
    expect(await secondDigests.flushDue()).toBe(2);
    const a1 = got.find((d) => (d.event.data as { group: Record<string, unknown> }).group['data.athleteId'] === 'a-1')!;
    expect(a1.payload).toEqual({ text: '2 moments for a-1', ids: `${e1.id},${e2.id}` });
    expect(a1.event.kind).toBe('digest');
    expect(a1.event.id).toBe(`moments:digest:g/${e1.id}`);
    expect(await second.pendingGroups()).toBe(0);
  });

  it('later events wait for `interval`; a full group (max) goes at once', async () => {
    const clock = { now: 2_000_000 };
    const r = replica(routes, clock);
    const got: RoutedDelivery[][] = [];
    const rDigests = digestStage(r, async (d) => void got.push(d));
    await r.route(moment('a-1'));
    clock.now += 30_000;
    expect(await rDigests.flushDue()).toBe(1);
    await r.route(moment('a-1'));
    clock.now += 30_000;
    expect(await rDigests.flushDue()).toBe(0); // interval (5m) since the last digest is not over
    clock.now += 270_000;
    expect(await rDigests.flushDue()).toBe(1);
    for (let i = 0; i < 3; i++) await r.route(moment('a-9'));
    expect(await rDigests.flushDue()).toBe(1); // max 3 reached: due immediately
    expect(got.map((d) => (d[0]!.event.data as { count: number }).count)).toEqual([1, 1, 3]);
  });

  it('a failing digest hand-over keeps the group and retries it', async () => {
    const clock = { now: 3_000_000 };
    const r = replica(routes, clock);
    let fail = true;
    const got: RoutedDelivery[] = [];
    const rDigests = digestStage(r, async (d) => {
      if (fail) throw new Error('queue down');
      got.push(...d);
    });
    await r.route(moment('a-1'));
    clock.now += 30_000;
    expect(await rDigests.flushDue()).toBe(0);
    fail = false;
    clock.now += 5_000;
    expect(await rDigests.flushDue()).toBe(1);
    expect(got).toHaveLength(1);
  });

  it('two replicas flushing at once hand each digest on exactly once', async () => {
    const clock = { now: 4_000_000 };
    const a = replica(routes, clock);
    const b = replica(routes, clock);
    const got: RoutedDelivery[] = [];
    const aDigests = digestStage(a, async (d) => void got.push(...d));
    const bDigests = digestStage(b, async (d) => void got.push(...d));
    for (const id of ['x', 'y', 'z']) await a.route(moment(id));
    clock.now += 30_000;
    const [fa, fb] = await Promise.all([aDigests.flushDue(), bDigests.flushDue()]);
    expect(fa + fb).toBe(3);
    expect(got).toHaveLength(3);
  });

  /**
   * `max` at its edges: a group reaching `max` goes at once (for `max: 1` that is every event,
   * on its own), a digest never holds more than `max`, and what is left over goes at once when it
   * fills a group again, else after `interval`.
   */
  it.each([1, 2, 3])('max: %i — a full group goes at once, a digest holds at most max events, the rest follows', async (max) => {
    const clock = { now: 5_000_000 };
    const r = replica([{ name: `g-max-${max}`, to: ['digest'], group: { by: ['data.athleteId'], wait: '30s', interval: '5m', max } }], clock);
    const got: RoutedDelivery[] = [];
    const rDigests = digestStage(r, async (d) => void got.push(...d));
    const ids = (d: RoutedDelivery | undefined) => (d?.event.data as { events: BridgeEvent[] } | undefined)?.events.map((e) => e.id);

    const full = Array.from({ length: max }, () => moment('full'));
    for (const e of full) await r.route(e);
    expect(await rDigests.flushDue()).toBe(1); // full: no waiting for `wait`
    expect(ids(got.shift())).toEqual(full.map((e) => e.id));

    const over = Array.from({ length: max + 1 }, () => moment('over'));
    for (const e of over) await r.route(e);
    expect(await rDigests.flushDue()).toBe(1);
    expect(ids(got.shift())).toEqual(over.slice(0, max).map((e) => e.id)); // never more than max
    // The one left over fills a group of one at once; a bigger group waits for `interval`.
    expect(await rDigests.flushDue()).toBe(max === 1 ? 1 : 0);
    if (max > 1) {
      clock.now += 300_000;
      expect(await rDigests.flushDue()).toBe(1);
    }
    expect(ids(got.shift())).toEqual([over[max]!.id]);
    expect(got).toEqual([]);
    expect(await r.pendingGroups()).toBe(0);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { DigestStage, type DigestHandOver, type DigestSource } from '../../src/pipeline/digest-stage.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { routeSchema, type RouteConfigInput } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { CollectConnector } from '../helpers/collect-connector.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { makeQueues, until } from '../queue/queue-test-kit.js';
import { captureLog } from '../helpers/log-capture.js';

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

const sink = new CollectConnector({ text: '{{ data.count }} for {{ data.group["data.athleteId"] }}' });
const grouped: RouteConfigInput = { name: 'g', to: ['sink'], group: { by: ['data.athleteId'], wait: '30s', interval: '5m' } };

function replica(routes: RouteConfigInput[], clock: { now: number }, keyPrefix = 'ds:'): Router {
  return Router.compile(
    routes.map((r) => routeSchema.parse(r)),
    { redis: redis.client(), keyPrefix, logger: silentLogger(), connectors: new Map([['sink', sink]]), now: () => clock.now },
  );
}

let seq = 0;
const moment = (athleteId: string): BridgeEvent => ({
  id: `moments:moment:d${++seq}`,
  source: 'moments',
  kind: 'moment',
  time: new Date().toISOString(),
  data: { athleteId },
});

/** Routing's digests, counting the claims: each claim is one flush. */
function countingClaims(digests: DigestSource): { source: DigestSource; claims: () => number } {
  let claims = 0;
  const source: DigestSource = {
    get grouping() {
      return digests.grouping;
    },
    claimDue: () => {
      claims++;
      return digests.claimDue();
    },
    render: (d) => digests.render(d),
    complete: (d) => digests.complete(d),
    reschedule: (d, at) => digests.reschedule(d, at),
  };
  return { source, claims: () => claims };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DigestStage timer', () => {
  it('a tick during a hand-over starts no second flush, and stop() waits for the flush in progress', async () => {
    const clock = { now: 1_000_000 };
    const router = replica([grouped], clock);
    await router.route(moment('a'));
    clock.now += 30_000;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handed: unknown[] = [];
    const { source, claims } = countingClaims(router.digests);
    const stage = new DigestStage({
      digests: source,
      handOver: async (d) => {
        await gate;
        handed.push(...d);
      },
      logger: silentLogger(),
      everyMs: 5,
    });
    stage.start();
    await until(() => claims() === 1, 5_000, 'the first flush');
    await sleep(60); // a dozen ticks while the hand-over hangs
    expect(claims()).toBe(1);

    let stopped = false;
    const stopping = stage.stop().then(() => (stopped = true));
    await sleep(30);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(handed).toHaveLength(1);
    expect(await router.pendingGroups()).toBe(0);
    await sleep(30);
    expect(claims()).toBe(1); // stopped: no more ticks
  });

  it('no route groups: start() sets no timer', async () => {
    const { source, claims } = countingClaims(replica([{ name: 'plain', to: ['sink'] }], { now: Date.now() }).digests);
    const stage = new DigestStage({ digests: source, handOver: async () => undefined, logger: silentLogger(), everyMs: 5 });
    stage.start();
    await sleep(40);
    await stage.stop();
    expect(claims()).toBe(0);
  });
});

describe('DigestStage flushes', () => {
  it('a digest for a route gone from the config is kept, retried hourly, and flushed once the route is back', async () => {
    const clock = { now: 2_000_000 };
    await replica([grouped], clock).route(moment('a'));
    clock.now += 30_000;
    const handed: unknown[] = [];
    const handOver: DigestHandOver = async (d) => void handed.push(...d);
    const without = replica([{ ...grouped, name: 'other' }], clock);
    expect(await new DigestStage({ digests: without.digests, handOver, logger: silentLogger() }).flushDue()).toBe(0);
    expect(await without.pendingGroups()).toBe(1);

    const back = new DigestStage({ digests: replica([grouped], clock).digests, handOver, logger: silentLogger() });
    clock.now += 3_599_000;
    expect(await back.flushDue()).toBe(0); // not due before the hour is over
    clock.now += 1_000;
    expect(await back.flushDue()).toBe(1);
    expect(handed).toHaveLength(1);
  });

  it('hands digests to the pipeline: a hand-over that failed after enqueuing is retried after 5 s, and the stable digest id keeps it one job', async () => {
    const clock = { now: 3_000_000 };
    const router = replica([grouped], clock, 'dsq:');
    const queues = makeQueues(redis.url, 'dsq', { sink: { connector: sink } });
    try {
      const pipeline = new Pipeline(router, queues, silentLogger());
      for (let i = 0; i < 2; i++) await router.route(moment('a'));
      clock.now += 30_000;
      let acks = 0;
      const lostAck = new DigestStage({
        digests: router.digests,
        handOver: async (d, u) => {
          await pipeline.acceptDigest(d, u);
          if (acks++ === 0) throw new Error('connection lost after the enqueue');
        },
        logger: silentLogger(),
      });
      expect(await lostAck.flushDue()).toBe(0);
      expect(await router.pendingGroups()).toBe(1);
      clock.now += 4_999;
      expect(await lostAck.flushDue()).toBe(0); // not due again yet
      clock.now += 1;
      expect(await lostAck.flushDue()).toBe(1);
      expect(await router.pendingGroups()).toBe(0);
      await until(async () => (await queues.depth()).sink!.waiting === 1, 5_000, 'one digest job');
      expect((await queues.depth()).sink!.waiting).toBe(1);
    } finally {
      await queues.close();
    }
  });
});

describe('DigestStage when things fail', () => {
  it('a flush that fails (Redis down) is logged, and the next tick tries again, at the interval asked', async () => {
    const { lines, logger } = captureLog('info');
    let claims = 0;
    const failing: DigestSource = {
      grouping: true,
      claimDue: () => {
        claims++;
        return Promise.reject(new Error('Connection is closed.'));
      },
      render: () => ({ deliveries: [], unrendered: [] }),
      complete: () => Promise.resolve(),
      reschedule: () => Promise.resolve(),
    };
    const stage = new DigestStage({ digests: failing, handOver: () => Promise.resolve(), logger, everyMs: 20 });
    stage.start();
    try {
      await until(() => claims >= 3, 2000, 'three ticks at 20 ms');
    } finally {
      await stage.stop();
    }
    expect(lines.find((l) => l.msg === 'group digest flush failed; will retry')).toMatchObject({ level: 50, err: 'Connection is closed.' });
  });

  it('logs a failed hand-over with its route and size', async () => {
    const { lines, logger } = captureLog('info');
    const clock = { now: 2_000_000 };
    const router = replica([grouped], clock, 'ds-log:');
    await router.route(moment('z'));
    clock.now += 31_000;
    const stage = new DigestStage({ digests: router.digests, handOver: () => Promise.reject(new Error('queue down')), logger });
    expect(await stage.flushDue()).toBe(0);
    expect(lines.find((l) => l.msg === 'group digest hand-over failed; retrying shortly')).toMatchObject({
      level: 50,
      route: 'g',
      events: 1,
      err: 'queue down',
    });
  });

  it('its timer does not keep the process alive', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const stage = new DigestStage({
      digests: {
        grouping: true,
        claimDue: async () => [],
        render: () => ({ deliveries: [], unrendered: [] }),
        complete: async () => undefined,
        reschedule: async () => undefined,
      },
      handOver: async () => undefined,
      logger: silentLogger(),
    });
    stage.start();
    try {
      expect(timers()).toBe(before);
    } finally {
      await stage.stop();
    }
  });
});

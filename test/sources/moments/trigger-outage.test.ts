import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../src/daemon/daemon.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { startChaosSink, type ChaosSink } from '../../chaos/chaos-sink.js';
import { baseUrl, getReadyz, until } from '../../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { startMomentsDaemon } from './moments-daemon-kit.js';

let redis: TestRedis | undefined;
let sim: MomentsSimulator | undefined;
let sink: ChaosSink | undefined;
let daemon: Daemon | undefined;

afterEach(async () => {
  await daemon?.stop();
  await sink?.stop();
  await sim?.stop();
  await redis?.stop();
  daemon = sink = sim = redis = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('moments source: trigger changes during a Redis outage', () => {
  it('every trigger.created / trigger.updated made while Redis is down reaches the sink once Redis is back, none twice', async () => {
    redis = await startTestRedis({ appendOnly: true });
    sim = await startMomentsSimulator({ schema: 'vendor', keepAliveIntervalMs: 300, connectionTimeoutMs: 3000 });
    sink = await startChaosSink();
    daemon = await startMomentsDaemon({ redisUrl: redis.url, sim, sinkUrl: sink.url });
    await until('source connected', async () => (await getReadyz(baseUrl(daemon!))).status === 200);
    const before = sim.control.createTrigger({ name: 'before the outage' });
    const expected = [`moments:trigger.created:${before.publicId}`];
    await until('the first trigger delivered', () => sink!.tally(expected).lost === 0);

    await redis.server.stop();
    // The upstream is otherwise idle: only trigger changes, over the live socket, while Redis is down.
    const created = Array.from({ length: 4 }, (_, i) => sim!.control.createTrigger({ name: `made during the outage ${i}` }));
    for (const t of created) expected.push(`moments:trigger.created:${t.publicId}`);
    await sleep(50);
    for (const t of [before, created[0]!]) {
      const updated = sim.control.updateTrigger(t.publicId, { name: `${t.name} (changed)`, updatedAt: new Date(Date.now() + 1).toISOString() });
      expected.push(`moments:trigger.updated:${t.publicId}@${updated.updatedAt}`);
      await sleep(5);
    }
    await sleep(2000);
    await redis.server.start();

    await until('every trigger change at the sink', () => sink!.tally(expected).lost === 0, 20_000).catch(() => undefined);
    await sleep(500);
    const tally = sink.tally(expected);
    expect(tally).toMatchObject({ expected: 7, delivered: 7, lost: 0, duplicated: 0 });
  }, 40_000);
});

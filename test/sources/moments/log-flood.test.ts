import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../src/daemon/daemon.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { startChaosSink, type ChaosSink } from '../../chaos/chaos-sink.js';
import { baseUrl, getReadyz, until } from '../../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { capturingLogger, startMomentsDaemon } from './moments-daemon-kit.js';

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

describe('moments source: a flood of bad frames produces a bounded number of log lines', () => {
  it('5,000 malformed frames → a bounded number of lines about them (any level), and the daemon keeps delivering', async () => {
    redis = await startTestRedis();
    sim = await startMomentsSimulator({ keepAliveIntervalMs: 300, connectionTimeoutMs: 3000 });
    sink = await startChaosSink();
    const { logger, lines } = capturingLogger();
    daemon = await startMomentsDaemon({ redisUrl: redis.url, sim, sinkUrl: sink.url, logger });
    await until('ready', async () => (await getReadyz(baseUrl(daemon!))).status === 200);
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) {
      sim.control.sendRaw(i % 2 ? `{"type":"data","id":${i}` : '\u0000 not json');
      if (i % 1000 === 0) ids.push(`moments:moment:${sim.control.createMoment().publicId}`);
    }
    ids.push(`moments:moment:${sim.control.createMoment().publicId}`);
    await until('every valid moment delivered', () => sink!.tally(ids).lost === 0, 20_000);
    const about = lines.filter((l) => /not a JSON object|malformed/i.test(l.msg));
    expect(about.length).toBeGreaterThan(0);
    expect(about.length).toBeLessThanOrEqual(20);
    expect(sink.tally(ids)).toMatchObject({ lost: 0, duplicated: 0 });
    expect(sim.control.stats().realtimeConnections).toBe(1);
  }, 60_000);
});

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

interface SourceCheck {
  ok: boolean;
  reason?: string;
  detail?: { status: string; lastError?: string; progress?: { pending: number; lagMs?: number } };
}

describe('moments source: a stuck source is visible on /readyz', () => {
  it('a moment the pipeline keeps refusing (Redis down past server.stallAfter) → the source check fails, not `connected`, with the reason; 200 after recovery', async () => {
    redis = await startTestRedis({ appendOnly: true });
    sim = await startMomentsSimulator({ keepAliveIntervalMs: 300, connectionTimeoutMs: 3000 });
    sink = await startChaosSink();
    daemon = await startMomentsDaemon({ redisUrl: redis.url, sim, sinkUrl: sink.url, stallAfter: '1s' });
    const base = baseUrl(daemon);
    await until('ready', async () => (await getReadyz(base)).status === 200);
    const first = sim.control.createMoment();
    await until('the first moment delivered', () => sink!.tally([`moments:moment:${first.publicId}`]).lost === 0);

    await redis.server.stop();
    const refused = sim.control.createMoment();
    const check = await until(
      'the source check failing with a stall',
      async () => {
        const r = await getReadyz(base);
        const c = r.body.checks['source:moments'] as SourceCheck;
        return r.status === 503 && !c.ok && /no progress for \d+ s/.test(c.reason ?? '') && c.detail?.status !== 'connected' && c;
      },
      15_000,
    );
    expect(check.detail?.status).not.toBe('connected');
    expect(check.detail).toMatchObject({ status: 'reconnecting', lastError: expect.stringMatching(/pipeline refused|back-fill failed|no progress for/) });
    expect(check.detail?.progress?.pending).toBeGreaterThanOrEqual(1);
    expect(check.detail?.progress?.lagMs).toBeGreaterThan(0);

    await redis.server.start();
    await until('ready again', async () => (await getReadyz(base)).status === 200, 20_000);
    const after = await getReadyz(base);
    expect(after.body.checks['source:moments']).toMatchObject({ ok: true, detail: { status: 'connected', progress: { pending: 0 } } });
    await until('the refused moment delivered', () => sink!.tally([`moments:moment:${refused.publicId}`]).lost === 0, 10_000);
  }, 60_000);
});

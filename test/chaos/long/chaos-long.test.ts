/**
 * The long chaos runs (`npm run chaos:long`, about 6 minutes): the sizes — a 30 s upstream
 * outage, a sink down for 60 s, 10,000 bad frames. Excluded from `npm test` by vitest.config.ts.
 * Run one: `npm run chaos:long -- -t "chaos 2"`.
 */
import { describe, expect, it } from 'vitest';
import { report } from '../chaos-rig.js';
import { badFrames, daemonKill, redisRestart, replicaKill, sinkFaults, upstreamDrops } from '../scenarios.js';

describe('chaos (long)', () => {
  it('chaos 1: daemon SIGKILL during load, restarted', async () => {
    const r = await daemonKill({ events: 5000, perSecond: 250, killAfterMs: 8000, settleMs: 120_000 });
    report('daemon-kill (long)', r);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(Math.max(r.inFlightAtFault, r.openRequestsAtKill as number));
  }, 240_000);

  it('chaos 2: upstream socket dropped every 3 s, and one 30 s outage', async () => {
    const r = await upstreamDrops({ events: 10_000, perSecond: 150, dropEveryMs: 3000, outageMs: 30_000, settleMs: 120_000 });
    report('upstream-drops (long)', r);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
  }, 300_000);

  it('chaos 3: Redis (AOF on) restarted during load, down 5 s', async () => {
    const r = await redisRestart({ events: 5000, perSecond: 250, restartAfterMs: 8000, downMs: 5000, settleMs: 120_000 });
    report('redis-restart (long)', r);
    expect(r.lost).toBe(0);
  }, 240_000);

  it('chaos 4: sink 500 for 60 s, then 429 + Retry-After to every second call', async () => {
    const r = await sinkFaults({ events: 4000, perSecond: 50, failMs: 60_000, settleMs: 120_000 });
    report('sink-faults (long)', r);
    expect(r.lost).toBe(0);
    expect(r.deadLetters).toBe(0);
  }, 360_000);

  it('chaos 5: two replicas, one SIGKILLed mid-run', async () => {
    const r = await replicaKill({ events: 5000, perSecond: 250, killAfterMs: 8000, settleMs: 120_000 });
    report('replica-kill (long)', r);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(r.inFlightAtFault);
  }, 240_000);

  it('chaos 6: 10,000 malformed / schema-invalid / oversized frames mixed into valid traffic', async () => {
    const r = await badFrames({ events: 2000, badFrames: 10_000, settleMs: 120_000 });
    report('bad-frames (long)', r);
    expect(r.daemonAlive).toBe(true);
    expect(r.lost).toBe(0);
  }, 240_000);
});

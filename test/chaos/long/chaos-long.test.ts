/**
 * The long chaos runs (`npm run chaos:long`, about 15 minutes): the issue's sizes — a 30 s upstream
 * outage, a sink down for 60 s, 10,000 bad frames — and the sinks' own failure modes at length.
 * Excluded from `npm test` by vitest.config.ts. Run one: `npm run chaos:long -- -t "chaos 2"`.
 */
import { describe, expect, it } from 'vitest';
import { report } from '../chaos-rig.js';
import {
  expectEveryEventOnce,
  expectNoLossWithinBound,
  expectOneAlertPerEvent,
  expectOneRecordPerEvent,
  expectReloadRouted,
  expectSlackStormHandled,
} from '../expectations.js';
import { redisKill, type RedisKillParams } from '../redis-kill-scenario.js';
import { reloadUnderLoad } from '../reload-scenario.js';
import { badFrames, daemonKill, redisRestart, replicaKill, sinkFaults, upstreamDrops } from '../scenarios.js';
import { kinesisPartial, pagerdutyBursts, sheetsQuota, slackStorm } from '../sink-scenarios.js';

const redisKillLoad: Omit<RedisKillParams, 'persistence'> = { events: 5000, perSecond: 250, killAfterMs: 8000, downMs: 5000, settleMs: 120_000 };

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

  it('chaos 7a: Redis SIGKILLed (AOF everysec) with a backlog queued, down 5 s', async () => {
    const r = await redisKill({ persistence: 'aof', ...redisKillLoad });
    report('redis-kill aof (long)', r);
    expectNoLossWithinBound(r);
  }, 300_000);

  it('chaos 7a′: Redis SIGKILLed, the last second of the AOF lost', async () => {
    const r = await redisKill({ persistence: 'aof', loseLastMs: 1000, ...redisKillLoad });
    report('redis-kill aof, last 1 s lost (long)', r);
    expectNoLossWithinBound(r);
  }, 300_000);

  it('chaos 7b: Redis SIGKILLed without persistence', async () => {
    const r = await redisKill({ persistence: 'none', ...redisKillLoad });
    report('redis-kill no persistence (long)', r);
    expectNoLossWithinBound(r);
  }, 300_000);

  it('chaos 8: SIGHUP reload under load', async () => {
    const r = await reloadUnderLoad({ events: 5000, perSecond: 250, reloadAfterMs: 8000, settleMs: 120_000 });
    report('reload-under-load (long)', r);
    expectReloadRouted(r);
  }, 240_000);

  it('chaos 9: Slack 429 + Retry-After storm on every other call, three channels', async () => {
    const r = await slackStorm({ events: 600, perSecond: 30, faultAfterMs: 2000, stormCalls: 200, settleMs: 180_000 });
    report('slack-storm (long)', r);
    expectSlackStormHandled(r);
  }, 300_000);

  it('chaos 10: PagerDuty 503 and 429 bursts', async () => {
    const r = await pagerdutyBursts({ events: 4000, perSecond: 100, faultAfterMs: 2000, bursts: 10, burstSize: 50, gapMs: 1000, settleMs: 120_000 });
    report('pagerduty-bursts (long)', r);
    expectOneAlertPerEvent(r);
  }, 240_000);

  it('chaos 11: Google Sheets quota 429 bursts, append and upsert', async () => {
    const r = await sheetsQuota({
      events: 3000,
      perSecond: 50,
      faultAfterMs: 2000,
      bursts: 10,
      burstSize: 3,
      gapMs: 3000,
      lostAnswersPerBurst: 2,
      settleMs: 180_000,
    });
    report('sheets-quota (long)', r);
    expectEveryEventOnce(r);
  }, 300_000);

  it('chaos 12: Kinesis partial PutRecords failures for 20 s', async () => {
    const r = await kinesisPartial({ events: 10_000, perSecond: 250, faultAfterMs: 2000, failEvery: 3, faultForMs: 20_000, settleMs: 120_000 });
    report('kinesis-partial (long)', r);
    expectOneRecordPerEvent(r);
  }, 240_000);
});

import { describe, expect, it } from 'vitest';
import { report } from './chaos-rig.js';
import { leaderFailover, leaderPause } from './leader-failover.js';

describe('chaos: two replicas, the source leader SIGKILLed mid-stream', () => {
  it('one upstream subscription while both run; the stand-by leads within 10 s, back-fills from the cursor, and nothing is lost', async () => {
    const r = await leaderFailover({ events: 1200, perSecond: 100, killAfterMs: 3000, settleMs: 60_000 });
    report('leader-failover', r);
    // While both ran: one reader, counted at the simulator, and both replicas ready.
    expect(r.rolesBefore.sort()).toEqual(['leader', 'standby']);
    expect(r.bothReady).toBe(true);
    expect(r.leaderGaugeSum).toBe(1);
    expect(r.peakSocketsBothUp).toBe(1);
    expect(r.peakMomentSubscriptionsBothUp).toBe(1);
    // The take-over: within the default bound (leaseTtl 6 s + renewEvery 2 s, and the connect).
    expect(r.takeoverMs).toBeLessThanOrEqual(10_000);
    expect(r.peakMomentSubscriptionsAfter).toBe(1);
    expect(r.survivorLeaderGauge).toBe(1);
    // Moments made while no one read came from the survivor's back-fill from the shared cursor.
    expect(r.backfilledBySurvivor).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(r.inFlightAtFault);
  }, 150_000);

  it('a leader paused (SIGSTOP) past its lease is replaced; resumed, it finds its lease gone and stands down, and nothing is lost', async () => {
    const r = await leaderPause({ events: 1200, perSecond: 100, pauseAfterMs: 3000, settleMs: 60_000 });
    report('leader-pause', r);
    expect(r.takeoverMs).toBeLessThanOrEqual(10_000);
    expect(r.pausedRoleAfter).toBe('standby');
    // It found out once, by its own clock (expired), its renewal (taken) or a refused cursor write (fenced).
    expect(r.pausedLeaseLost.taken + r.pausedLeaseLost.fenced + r.pausedLeaseLost.expired).toBe(1);
    expect(r.momentSubscriptionsAfter).toBe(1);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBeLessThanOrEqual(r.inFlightAtFault);
  }, 150_000);
});

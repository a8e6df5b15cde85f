/**
 * Leader fail-over (issue #18): two `moments-bridge run` replicas with the default
 * `leadership.readers: leader`; the one reading the source is SIGKILLed mid-stream. Measured at
 * the Moments simulator: how many `onCreateMoment` subscriptions were live at once while both ran
 * (one replica reads, the other stands by) and after the take-over; at the daemons: who leads
 * (/readyz role, mb_source_leader) and how long the survivor took to read the source again.
 */
import type { BridgeProcess } from '../../bench/lib/bridge-rig.js';
import { sleep, waitFor } from '../../bench/lib/measure.js';
import { metricSum, startChaosRig } from './chaos-rig.js';
import type { ScenarioResult } from './scenarios.js';

interface SourceCheck {
  ok: boolean;
  detail?: { status?: string; role?: string; replica?: string; leader?: string };
}

/** The moments source's /readyz check on one replica. */
export async function sourceCheck(d: BridgeProcess): Promise<SourceCheck | undefined> {
  const body = (await (await fetch(`http://127.0.0.1:${d.port}/readyz`)).json()) as { checks: Record<string, SourceCheck> };
  return body.checks['source:moments'];
}

export interface LeaderFailoverResult extends ScenarioResult {
  /** Replica roles on /readyz with both up: [first, second]. */
  rolesBefore: string[];
  /** Both replicas' readyz status while both ran. */
  bothReady: boolean;
  /** mb_source_leader summed over both replicas while both ran (1: exactly one reads). */
  leaderGaugeSum: number;
  /** Upstream WebSocket sockets and onCreateMoment subscriptions open at once, most seen while both ran. */
  peakSocketsBothUp: number;
  peakMomentSubscriptionsBothUp: number;
  /** The same, from the kill to the end (the survivor alone). */
  peakMomentSubscriptionsAfter: number;
  /** SIGKILL → the survivor's source connected as leader, ms. */
  takeoverMs: number;
  /** Moments the survivor emitted from its start back-fill (read from the shared cursor). */
  backfilledBySurvivor: number;
}

export async function leaderFailover(p: { events: number; perSecond: number; killAfterMs: number; settleMs: number }): Promise<LeaderFailoverResult> {
  const rig = await startChaosRig('leader', { sinkDelayMs: 10 });
  try {
    const first = await rig.startDaemon();
    const second = await rig.startDaemon();
    const rolesBefore = [(await sourceCheck(first))?.detail?.role ?? '?', (await sourceCheck(second))?.detail?.role ?? '?'];
    const [leader, standby] = rolesBefore[0] === 'leader' ? [first, second] : [second, first];
    const bothReady =
      (await fetch(`http://127.0.0.1:${standby.port}/readyz`)).status === 200 && (await fetch(`http://127.0.0.1:${leader.port}/readyz`)).status === 200;
    const leaderGaugeSum =
      (await metricSum(first.port, 'mb_source_leader', 'source="moments"')) + (await metricSum(second.port, 'mb_source_leader', 'source="moments"'));

    const load = rig.publish(p.events, p.perSecond);
    await sleep(p.killAfterMs);
    const beforeKill = rig.sim.control.stats();
    const inFlightAtFault = (await rig.depth()).active!;
    await leader.kill('SIGKILL');
    const killedAt = Date.now();
    // The killed replica's socket closes with the process: from here on, only the survivor's count.
    await waitFor(() => rig.sim.control.stats().openSockets === 0, 10_000, 'the killed leader’s socket to close', 10);
    rig.sim.control.resetPeaks();
    await waitFor(
      async () => {
        const c = await sourceCheck(standby);
        return c?.detail?.role === 'leader' && c.detail.status === 'connected';
      },
      30_000,
      'the stand-by to lead',
      50,
    );
    const takeoverMs = Date.now() - killedAt;
    await load;
    const tally = await rig.settle(p.settleMs);
    const after = rig.sim.control.stats();
    return {
      ...tally,
      inFlightAtFault,
      rolesBefore,
      bothReady,
      leaderGaugeSum,
      peakSocketsBothUp: beforeKill.peakOpenSockets,
      peakMomentSubscriptionsBothUp: beforeKill.peakMomentSubscriptions,
      peakMomentSubscriptionsAfter: after.peakMomentSubscriptions,
      takeoverMs,
      backfilledBySurvivor: await metricSum(standby.port, 'mb_moments_backfilled_total', 'source="moments"'),
      survivorLeaderGauge: await metricSum(standby.port, 'mb_source_leader', 'source="moments"'),
    };
  } finally {
    await rig.stop();
  }
}

export interface LeaderPauseResult extends ScenarioResult {
  /** SIGSTOP → the other replica's source connected as leader, ms. */
  takeoverMs: number;
  /** The paused replica's role once it runs again and its lease check ran. */
  pausedRoleAfter: string;
  /** Times the paused replica lost the lease, by reason (`expired`: by its own clock; `taken`: its renewal found the new leader; `fenced`: a cursor write was refused). */
  pausedLeaseLost: { taken: number; fenced: number; expired: number };
  /** onCreateMoment subscriptions at the simulator once the paused replica stood down. */
  momentSubscriptionsAfter: number;
}

/**
 * The leader is paused (SIGSTOP) longer than its lease, mid-stream: the stand-by takes over; when
 * the old leader runs again (SIGCONT) with moments and timers queued from before, it must not move
 * the cursor (its writes are fenced) and must stop reading.
 */
export async function leaderPause(p: { events: number; perSecond: number; pauseAfterMs: number; settleMs: number }): Promise<LeaderPauseResult> {
  const rig = await startChaosRig('paused', { sinkDelayMs: 10 });
  try {
    const first = await rig.startDaemon();
    const second = await rig.startDaemon();
    const [paused, other] = (await sourceCheck(first))?.detail?.role === 'leader' ? [first, second] : [second, first];
    const load = rig.publish(p.events, p.perSecond);
    await sleep(p.pauseAfterMs);
    const inFlightAtFault = (await rig.depth()).active!;
    process.kill(paused.pid, 'SIGSTOP');
    const pausedAt = Date.now();
    let takeoverMs: number;
    try {
      await waitFor(
        async () => {
          const c = await sourceCheck(other);
          return c?.detail?.role === 'leader' && c.detail.status === 'connected';
        },
        30_000,
        'the other replica to lead',
        50,
      );
      takeoverMs = Date.now() - pausedAt;
      // Moments keep coming to the paused replica's socket while the new leader reads them too.
      await sleep(2000);
    } finally {
      process.kill(paused.pid, 'SIGCONT');
    }
    await waitFor(async () => (await sourceCheck(paused))?.detail?.role === 'standby', 30_000, 'the resumed replica to stand by', 50);
    await waitFor(() => rig.sim.control.stats().momentSubscriptions === 1, 30_000, 'one upstream subscription again', 50);
    await load;
    const tally = await rig.settle(p.settleMs);
    const lost = async (reason: string) => metricSum(paused.port, 'mb_source_lease_lost_total', `reason="${reason}"`);
    return {
      ...tally,
      inFlightAtFault,
      takeoverMs,
      pausedRoleAfter: (await sourceCheck(paused))?.detail?.role ?? '?',
      pausedLeaseLost: { taken: await lost('taken'), fenced: await lost('fenced'), expired: await lost('expired') },
      momentSubscriptionsAfter: rig.sim.control.stats().momentSubscriptions,
    };
  } finally {
    await rig.stop();
  }
}

/**
 * Chaos 7: Redis SIGKILLed during load (not a graceful stop) and started again on the same port
 * and data dir, with AOF (`appendfsync everysec`, optionally losing its last second as a machine
 * crash would) or with no persistence at all. The promise under test (docs/PRODUCT.md §6): the
 * moments cursor lives in the same Redis as the jobs, so whatever Redis loses, it loses cursor and
 * jobs together, and the back-fill re-creates what was not delivered. Nothing may be lost;
 * duplicates are the deliveries Redis forgot it had made.
 */
import { sleep } from '../../bench/lib/measure.js';
import { metricSum, startChaosRig } from './chaos-rig.js';
import { redisCrasher } from './redis-crash.js';
import type { ScenarioResult } from './scenarios.js';

export interface RedisKillParams {
  /** `aof`: appendonly yes, appendfsync everysec; `none`: Redis restarts empty (cursor, seen set and jobs gone). */
  persistence: 'aof' | 'none';
  events: number;
  perSecond: number;
  killAfterMs: number;
  downMs: number;
  /** AOF only: drop what Redis wrote in the last `loseLastMs` before the kill (not fsynced yet). */
  loseLastMs?: number;
  settleMs: number;
}

export async function redisKill(p: RedisKillParams): Promise<ScenarioResult> {
  // A slow sink (≈ 100 deliveries/s for 150 published/s): a backlog of jobs is waiting in Redis at the kill.
  const rig = await startChaosRig(`redis-kill-${p.persistence}`, { persistence: p.persistence, sinkDelayMs: 20, concurrency: 2 });
  const crasher = redisCrasher(rig.redis.server);
  try {
    const daemon = await rig.startDaemon();
    const load = rig.publish(p.events, p.perSecond);
    // Deliveries made after this instant may be forgotten by the crash (their completion lost).
    const lostWindowMs = p.persistence === 'aof' ? (p.loseLastMs ?? 0) + 200 : p.killAfterMs;
    await sleep(p.killAfterMs - lostWindowMs);
    const deliveredBeforeWindow = p.persistence === 'aof' ? rig.tally().delivered : 0;
    await sleep(lostWindowMs);
    const inFlightAtFault = (await rig.depth()).active!;
    // Counted while Redis is down (after the deliveries in flight at the kill reached the sink):
    // everything the crashed Redis handed out, so everything it can forget it delivered.
    let deliveredAtFault = 0;
    const { aofBytesDropped } = await crasher.crash({
      downMs: p.downMs,
      whileDown: () => (deliveredAtFault = rig.tally().delivered),
      ...(p.loseLastMs !== undefined ? { loseLastMs: p.loseLastMs } : {}),
    });
    await load;
    const tally = await rig.settle(p.settleMs);
    const depth = await rig.depth();
    return {
      ...tally,
      inFlightAtFault,
      deliveredAtFault,
      // What the crash can make Redis forget: the deliveries it made in the lost window (with AOF),
      // or all of them (without persistence: the back-fill window re-sends them), in flight included.
      duplicateBound: deliveredAtFault - deliveredBeforeWindow,
      aofBytesDropped,
      downMs: p.downMs,
      backfilled: await metricSum(daemon.port, 'mb_moments_backfilled_total'),
      deadLetters: depth.failed,
    };
  } finally {
    crasher.stop();
    await rig.stop();
  }
}

/**
 * The six chaos scenarios of issue #10, parameterised: the short versions (test/chaos/*.test.ts)
 * run in `npm test`; the long ones (test/chaos/long/) with `npm run chaos:long`. Each returns the
 * sink's tally (delivered / lost / duplicated over the unique event ids it published) and the
 * in-flight count at the fault, which bounds the duplicates at-least-once delivery may cause.
 */
import { sleep } from '../../bench/lib/measure.js';
import { metricSum, startChaosRig } from './chaos-rig.js';
import type { Tally } from './chaos-sink.js';

export interface ScenarioResult extends Tally {
  /** Jobs active (claimed by a worker) when the fault hit; 0 when the fault is not on the delivery side. */
  inFlightAtFault: number;
  [k: string]: unknown;
}

/** 1. The daemon is SIGKILLed during load and restarted; in-flight jobs come back after their lock expires. */
export async function daemonKill(p: { events: number; perSecond: number; killAfterMs: number; settleMs: number }): Promise<ScenarioResult> {
  const rig = await startChaosRig('kill', { sinkDelayMs: 20 });
  try {
    const first = await rig.startDaemon();
    const load = rig.publish(p.events, p.perSecond);
    await sleep(p.killAfterMs);
    const openAtKill = rig.sink.open();
    await first.kill('SIGKILL');
    const inFlightAtFault = (await rig.depth()).active!;
    const deliveredAtKill = rig.sink.tally(rig.ids).delivered;
    await rig.startDaemon();
    await load;
    const tally = await rig.settle(p.settleMs);
    return { ...tally, inFlightAtFault, openRequestsAtKill: openAtKill, deliveredAtKill };
  } finally {
    await rig.stop();
  }
}

/** 2. The upstream socket is dropped every `dropEveryMs`, and once refused for `outageMs`; back-fill closes the gaps. */
export async function upstreamDrops(p: { events: number; perSecond: number; dropEveryMs: number; outageMs: number; settleMs: number }): Promise<ScenarioResult> {
  const rig = await startChaosRig('drops');
  try {
    await rig.startDaemon();
    let drops = 0;
    const dropper = setInterval(() => {
      rig.sim.control.dropSockets();
      drops++;
    }, p.dropEveryMs);
    const load = rig.publish(p.events, p.perSecond);
    // The outage in the middle of the load: handshakes refused, the open socket dropped.
    await sleep((p.events / p.perSecond) * 500);
    rig.sim.control.refuseRealtime(true);
    rig.sim.control.dropSockets();
    await sleep(p.outageMs);
    rig.sim.control.refuseRealtime(false);
    await load;
    clearInterval(dropper);
    const tally = await rig.settle(p.settleMs);
    return { ...tally, inFlightAtFault: 0, drops, outageMs: p.outageMs, realtimeConnections: rig.sim.control.stats().realtimeConnections };
  } finally {
    await rig.stop();
  }
}

/** 3. Redis (AOF on, appendfsync everysec) is restarted during load. */
export async function redisRestart(p: { events: number; perSecond: number; restartAfterMs: number; downMs: number; settleMs: number }): Promise<ScenarioResult> {
  const rig = await startChaosRig('redis');
  try {
    await rig.startDaemon();
    const load = rig.publish(p.events, p.perSecond);
    await sleep(p.restartAfterMs);
    const inFlightAtFault = (await rig.depth()).active!;
    await rig.redis.server.stop();
    await sleep(p.downMs);
    await rig.redis.server.start();
    await load;
    const tally = await rig.settle(p.settleMs);
    return { ...tally, inFlightAtFault, downMs: p.downMs };
  } finally {
    await rig.stop();
  }
}

/** 4. The sink answers 500 for `failMs`, then is healthy; then answers 429 + Retry-After: 1 to every second call. */
export async function sinkFaults(p: { events: number; perSecond: number; failMs: number; settleMs: number }): Promise<ScenarioResult> {
  const rig = await startChaosRig('sink');
  try {
    await rig.startDaemon();
    rig.sink.mode = { kind: 'fail', status: 500 };
    const half = Math.floor(p.events / 2);
    const load = rig.publish(half, p.perSecond);
    await sleep(p.failMs);
    rig.sink.mode = { kind: 'healthy' };
    await load;
    const afterOutage = await rig.settle(p.settleMs);
    rig.sink.mode = { kind: 'rate-limit-every-second-call', retryAfterSeconds: 1 };
    await rig.publish(p.events - half, p.perSecond);
    const tally = await rig.settle(p.settleMs);
    const depth = await rig.depth();
    return { ...tally, inFlightAtFault: 0, lostAfterOutage: afterOutage.lost, answered500: rig.sink.statuses.get(500) ?? 0, answered429: rig.sink.statuses.get(429) ?? 0, deadLetters: depth.failed };
  } finally {
    await rig.stop();
  }
}

/** 5. Two replicas, both subscribed to the source and delivering; one is SIGKILLed mid-run. */
export async function replicaKill(p: { events: number; perSecond: number; killAfterMs: number; settleMs: number }): Promise<ScenarioResult> {
  const rig = await startChaosRig('replicas', { sinkDelayMs: 20 });
  try {
    const a = await rig.startDaemon();
    await rig.startDaemon();
    const load = rig.publish(p.events, p.perSecond);
    await sleep(p.killAfterMs);
    const activeBefore = (await rig.depth()).active!;
    await a.kill('SIGKILL');
    await load;
    const tally = await rig.settle(p.settleMs);
    // Both replicas' workers were active at the kill; only the killed one's jobs can repeat.
    return { ...tally, inFlightAtFault: activeBefore };
  } finally {
    await rig.stop();
  }
}

/** 6. Malformed, schema-invalid and oversized upstream frames mixed into valid traffic. */
export async function badFrames(p: { events: number; badFrames: number; settleMs: number }): Promise<ScenarioResult> {
  const rig = await startChaosRig('frames');
  try {
    const daemon = await rig.startDaemon();
    const kinds = { malformedJson: 0, unknownType: 0, strayData: 0, oversized: 0, schemaInvalid: 0 };
    const big = 'x'.repeat(300 * 1024);
    const perValid = Math.max(1, Math.floor(p.badFrames / p.events));
    let bad = 0;
    for (let i = 0; i < p.events; i++) {
      await rig.publish(1, Infinity);
      for (let k = 0; k < perValid && bad < p.badFrames; k++, bad++) {
        switch (bad % 5) {
          case 0:
            rig.sim.control.sendRaw(`{"type":"data","id":${bad}`);
            kinds.malformedJson++;
            break;
          case 1:
            rig.sim.control.sendRaw(JSON.stringify({ type: `bogus-${bad}`, payload: {} }));
            kinds.unknownType++;
            break;
          case 2:
            rig.sim.control.sendRaw(JSON.stringify({ type: 'data', id: `no-such-subscription-${bad}`, payload: { data: { onCreateMoment: { publicId: 'x' } } } }));
            kinds.strayData++;
            break;
          case 3:
            // Oversized frames are rarer: one in 50 bad frames carries 300 KiB.
            if (bad % 50 === 3) {
              rig.sim.control.sendRaw(JSON.stringify({ type: 'data', id: 'big', payload: { data: { blob: big } } }));
              kinds.oversized++;
            } else {
              rig.sim.control.sendRaw('\u0000\u0001 not json at all');
              kinds.malformedJson++;
            }
            break;
          default:
            // A moment the upstream publishes but that fails the bridge's schema (its createdAt is not a date).
            rig.sim.control.createMoment({ publicId: `invalid-${bad}`, createdAt: 'not-a-date' });
            kinds.schemaInvalid++;
        }
      }
      if (i % 50 === 49) await sleep(5);
    }
    const tally = await rig.settle(p.settleMs);
    const alive = (await fetch(`http://127.0.0.1:${daemon.port}/healthz`)).status === 200;
    return {
      ...tally,
      inFlightAtFault: 0,
      badFramesSent: bad,
      kinds,
      quarantined: await metricSum(daemon.port, 'mb_events_quarantined_total'),
      protocolErrors: await metricSum(daemon.port, 'mb_moments_realtime_protocol_errors_total'),
      daemonAlive: alive,
    };
  } finally {
    await rig.stop();
  }
}

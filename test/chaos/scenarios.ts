/**
 * The six chaos scenarios of issue #10, parameterised: the short versions (test/chaos/*.test.ts)
 * run in `npm test`; the long ones (test/chaos/long/) with `npm run chaos:long`. Each returns the
 * sink's tally (delivered / lost / duplicated over the unique event ids it published) and the
 * in-flight count at the fault, which bounds the duplicates at-least-once delivery may cause.
 */
import type { BridgeProcess } from '../../bench/lib/bridge-rig.js';
import { sleep, waitFor } from '../../bench/lib/measure.js';
import { queueName } from '../../src/queue/queue-names.js';
import { metricSum, startChaosRig, webhookTargets, type ChaosRig, type ChaosRigOptions } from './chaos-rig.js';
import { keySlot } from '../../src/redis/key-slot.js';
import type { Tally } from './chaos-sink.js';

export interface ScenarioResult extends Tally {
  /** Jobs active (claimed by a worker) when the fault hit; 0 when the fault is not on the delivery side. */
  inFlightAtFault: number;
  [k: string]: unknown;
}

/** What a crash did to the jobs, read from Redis once every job is settled. */
export interface CrashOutcome {
  /**
   * Jobs that came back through BullMQ's stall recovery (`stalledCounter` > 0): their lock expired
   * because the process holding them died. Greater than 0 proves the killed process held jobs.
   */
  recoveredFromStall: number;
  /** Jobs in the failed state (dead letters), summed over connectors. */
  deadLetters: number;
  /** Jobs dead-lettered or failed for good, by their last error (empty when none). */
  failedReasons: string[];
}

/**
 * Waits until no job is waiting, active or delayed — the jobs a killed process held stay active
 * until their lock expires (15 s) and a live worker's stall check requeues them — then reads each
 * job's outcome from the `hook` connector's queue (the rig's default delivery).
 */
async function crashOutcome(rig: ChaosRig, timeoutMs: number, connector = 'hook'): Promise<CrashOutcome> {
  await waitFor(
    async () => {
      const d = await rig.depth();
      return d.wait! + d.active! + d.delayed! + d.prioritized! === 0;
    },
    timeoutMs,
    'every job completed or failed (stalled jobs recovered)',
    200,
  );
  const queue = rig.queue(connector);
  const completed = await queue.getJobs(['completed']);
  const failed = await queue.getJobs(['failed']);
  return {
    recoveredFromStall: [...completed, ...failed].filter((j) => j.stalledCounter > 0).length,
    deadLetters: (await rig.depth()).failed!,
    failedReasons: failed.map((j) => j.failedReason),
  };
}

/**
 * SIGKILLs `daemon` at a moment deliveries are open at the sink (polled from now on), so the kill
 * interrupts work rather than falling between two jobs. Returns the requests open at the kill.
 */
async function killWhileDelivering(rig: ChaosRig, daemon: BridgeProcess, minOpen: number): Promise<number> {
  await waitFor(() => rig.sink.open() >= minOpen, 10_000, `${minOpen} deliveries open at the sink`, 1);
  const open = rig.sink.open();
  await daemon.kill('SIGKILL');
  return open;
}

/**
 * Runs a kill scenario until its kill interrupted jobs of the killed process (recoveredFromStall
 * > 0), at most `runs` times, moving the kill a little later each time: a run whose kill hit no
 * job proves nothing about recovery, and is not the run the assertions look at.
 */
async function untilKillInterruptedJobs<R extends ScenarioResult & CrashOutcome>(
  runs: number,
  killAfterMs: number,
  run: (killAfterMs: number) => Promise<R>,
): Promise<R & { runs: number }> {
  let r: R | undefined;
  for (let i = 0; i < runs; i++) {
    r = await run(Math.round(killAfterMs * (1 + 0.37 * i)));
    if (r.recoveredFromStall > 0) return { ...r, runs: i + 1 };
  }
  return { ...r!, runs };
}

/**
 * 1. The daemon is SIGKILLed during load, while it has deliveries open, and restarted; the jobs it
 * held come back once their lock expires. `runs` bounds the re-runs when a kill hit no job.
 */
export async function daemonKill(p: {
  events: number;
  perSecond: number;
  killAfterMs: number;
  settleMs: number;
  runs?: number;
  backend?: ChaosRigOptions['backend'];
}): Promise<ScenarioResult & CrashOutcome & { runs: number }> {
  return untilKillInterruptedJobs(p.runs ?? 3, p.killAfterMs, async (killAfterMs) => {
    const rig = await startChaosRig('kill', { sinkDelayMs: 20, ...(p.backend ? { backend: p.backend } : {}) });
    try {
      const first = await rig.startDaemon();
      const load = rig.publish(p.events, p.perSecond);
      await sleep(killAfterMs);
      const openAtKill = await killWhileDelivering(rig, first, 1);
      // The only daemon is dead: every active job is one it held.
      const inFlightAtFault = (await rig.depth()).active!;
      const deliveredAtKill = rig.sink.tally(rig.ids).delivered;
      await rig.startDaemon();
      await load;
      await rig.settle(p.settleMs);
      const outcome = await crashOutcome(rig, p.settleMs);
      return { ...rig.tally(), ...outcome, inFlightAtFault, openRequestsAtKill: openAtKill, deliveredAtKill };
    } finally {
      await rig.stop();
    }
  });
}

/**
 * 13. Redis Cluster: the master holding the delivery queue's slot is SIGKILLed mid-stream (two
 * daemons running); its replica is promoted after cluster-node-timeout. Jobs enqueued before the
 * kill were replicated before the sources recorded them (WAIT), so the promoted replica has them;
 * jobs active at the kill come back through stall recovery.
 */
export async function clusterMasterKill(p: {
  events: number;
  perSecond: number;
  killAfterMs: number;
  settleMs: number;
  /**
   * The queue's connector: `hook` hashes to the master that also holds the source's slot
   * (`{moments}`), `out` to another one — the source's cursor then survives the kill, and only
   * the replication wait before it is recorded keeps the queue's jobs. @defaultValue hook
   */
  connector?: 'hook' | 'out';
}): Promise<ScenarioResult & CrashOutcome & { failoverMs: number; victimHeldSource: boolean }> {
  const connector = p.connector ?? 'hook';
  const rig = await startChaosRig('master', { sinkDelayMs: 20, backend: 'cluster', delivery: (sink) => webhookTargets(sink, 20, connector) });
  try {
    const cluster = rig.cluster!;
    await rig.startDaemon();
    await rig.startDaemon({ noSources: true });
    const load = rig.publish(p.events, p.perSecond);
    await sleep(p.killAfterMs);
    await waitFor(() => rig.sink.open() >= 1, 10_000, 'deliveries open at the sink', 1);
    const slots = await cluster.client().cluster('SLOTS');
    const ownerOf = (key: string) => slots.find(([from, to]) => keySlot(key) >= from && keySlot(key) <= to)![2]![1];
    const victim = ownerOf(`mb:${queueName(connector, { cluster: true })}:meta`);
    const activeAtKill = (await rig.depth()).active!;
    const deliveredAtKill = rig.sink.tally(rig.ids).delivered;
    const killedAt = Date.now();
    cluster.kill(victim);
    await cluster.failedOver(victim);
    const failoverMs = Date.now() - killedAt;
    // Replication is asynchronous: a job completed just before the kill may still be active on
    // the promoted replica, and is delivered again. In flight at the fault: what either side saw.
    const activeAfterFailover = (await rig.depth()).active!;
    const inFlightAtFault = Math.max(activeAtKill, activeAfterFailover);
    await load;
    await rig.settle(p.settleMs);
    const outcome = await crashOutcome(rig, p.settleMs, connector);
    return {
      ...rig.tally(),
      ...outcome,
      inFlightAtFault,
      activeAtKill,
      activeAfterFailover,
      deliveredAtKill,
      failoverMs,
      victimHeldSource: ownerOf('mb:source:{moments}:cursor') === victim,
    };
  } finally {
    await rig.stop();
  }
}

/** 2. The upstream socket is dropped every `dropEveryMs`, and once refused for `outageMs`; back-fill closes the gaps. */
export async function upstreamDrops(p: {
  events: number;
  perSecond: number;
  dropEveryMs: number;
  outageMs: number;
  settleMs: number;
}): Promise<ScenarioResult> {
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

/**
 * 3. Redis (AOF on, appendfsync everysec) is stopped during load and started again. The restart
 * falls mid-load: `publishedAtStop` < events and moments are still published after the restart.
 * `inFlightAtFault` is the jobs in flight at the restart — the largest of the active jobs just
 * before the stop, the requests open at the sink then, the active jobs Redis reloaded, and the jobs
 * that later came back from a stall (their worker lost them with the connection): a job whose
 * request reached the sink but whose completion Redis never heard is delivered again.
 */
export async function redisRestart(p: {
  events: number;
  perSecond: number;
  restartAfterMs: number;
  downMs: number;
  settleMs: number;
}): Promise<ScenarioResult & CrashOutcome> {
  const rig = await startChaosRig('redis');
  try {
    await rig.startDaemon();
    const load = rig.publish(p.events, p.perSecond);
    await sleep(p.restartAfterMs);
    const activeBeforeStop = (await rig.depth()).active!;
    const publishedAtStop = rig.ids.length;
    const openAtStop = rig.sink.open();
    await rig.redis.server.stop();
    await sleep(p.downMs);
    await rig.redis.server.start();
    const publishedAtStart = rig.ids.length;
    // The first command on the new server: the active jobs Redis reloaded from its AOF.
    const activeAfterStart = (await rig.depth()).active!;
    await load;
    await rig.settle(p.settleMs);
    // A job whose completion Redis never heard comes back only after its lock expires: wait for it.
    const outcome = await crashOutcome(rig, p.settleMs);
    return {
      ...rig.tally(),
      ...outcome,
      inFlightAtFault: Math.max(activeBeforeStop, activeAfterStart, openAtStop, outcome.recoveredFromStall),
      activeBeforeStop,
      activeAfterStart,
      openAtStop,
      publishedAtStop,
      publishedAfterStart: rig.ids.length - publishedAtStart,
      downMs: p.downMs,
    };
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
    return {
      ...tally,
      inFlightAtFault: 0,
      lostAfterOutage: afterOutage.lost,
      answered500: rig.sink.statuses.get(500) ?? 0,
      answered429: rig.sink.statuses.get(429) ?? 0,
      deadLetters: depth.failed,
    };
  } finally {
    await rig.stop();
  }
}

/**
 * 5. Two replicas, both subscribed to the source and delivering; one is SIGKILLed mid-run, while
 * deliveries are open. `recoveredFromStall` counts the jobs the killed replica held (only a dead
 * process's locks expire); `runs` bounds the re-runs when the kill hit none of its jobs.
 */
export async function replicaKill(p: {
  events: number;
  perSecond: number;
  killAfterMs: number;
  settleMs: number;
  runs?: number;
  backend?: ChaosRigOptions['backend'];
}): Promise<ScenarioResult & CrashOutcome & { runs: number }> {
  return untilKillInterruptedJobs(p.runs ?? 3, p.killAfterMs, async (killAfterMs) => {
    const rig = await startChaosRig('replicas', { sinkDelayMs: 20, ...(p.backend ? { backend: p.backend } : {}) });
    try {
      const a = await rig.startDaemon();
      await rig.startDaemon();
      const load = rig.publish(p.events, p.perSecond);
      await sleep(killAfterMs);
      const activeBefore = (await rig.depth()).active!;
      // Two replicas share the open requests: wait for a few, so the killed one likely holds some.
      const openAtKill = await killWhileDelivering(rig, a, 2);
      await load;
      await rig.settle(p.settleMs);
      const outcome = await crashOutcome(rig, p.settleMs);
      // Both replicas' workers were active at the kill; only the killed one's jobs can repeat, and
      // those are exactly the jobs recovered from a stall.
      return { ...rig.tally(), ...outcome, inFlightAtFault: outcome.recoveredFromStall, activeBothReplicas: activeBefore, openRequestsAtKill: openAtKill };
    } finally {
      await rig.stop();
    }
  });
}

/** 6. Malformed, schema-invalid and oversized upstream frames mixed into valid traffic. */
export async function badFrames(p: { events: number; badFrames: number; settleMs: number }): Promise<ScenarioResult> {
  const rig = await startChaosRig('frames');
  try {
    const daemon = await rig.startDaemon();
    const kinds = { malformedJson: 0, unknownType: 0, strayData: 0, oversized: 0, schemaInvalid: 0 };
    const big = 'x'.repeat(300 * 1024);
    const perValid = Math.max(1, Math.floor(p.badFrames / p.events));
    const invalidIds: string[] = [];
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
            rig.sim.control.sendRaw(
              JSON.stringify({ type: 'data', id: `no-such-subscription-${bad}`, payload: { data: { onCreateMoment: { publicId: 'x' } } } }),
            );
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
            invalidIds.push(`invalid-${bad}`);
            kinds.schemaInvalid++;
        }
      }
      if (i % 50 === 49) await sleep(5);
    }
    const tally = await rig.settle(p.settleMs);
    const alive = (await fetch(`http://127.0.0.1:${daemon.port}/healthz`)).status === 200;
    const records = await quarantinedMoments(rig);
    return {
      ...tally,
      invalidMoments: invalidIds.length,
      // Each invalid moment must have its own quarantine record, found by its publicId.
      invalidWithoutRecord: invalidIds.filter((id) => !records.has(id)),
      invalidRecordedMoreThanOnce: invalidIds.filter((id) => (records.get(id) ?? 0) > 1),
      // And nothing else was quarantined as a moment (a valid moment in quarantine is a lost event).
      otherQuarantinedMoments: [...records.keys()].filter((id) => !id.startsWith('invalid-')),
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

/** Moment quarantine records in Redis (the daemon's `mb:quarantine` list), counted by publicId. */
async function quarantinedMoments(rig: ChaosRig): Promise<Map<string, number>> {
  const client = rig.redis.client();
  const rows = await client.lrange('mb:quarantine', 0, -1);
  const counts = new Map<string, number>();
  for (const row of rows) {
    const item = JSON.parse(row) as { kind?: string; raw?: { publicId?: unknown } };
    if (item.kind !== 'moment') continue;
    const id = String(item.raw?.publicId);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

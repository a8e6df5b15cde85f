/**
 * Chaos scenarios of the moments source (issue #15): poison objects mixed into a stream, trigger
 * changes during a Redis outage, and a hostile real-time peer. Each runs a real redis-server
 * (AOF on), the Moments simulator, the counting sink and an in-process daemon whose one route
 * sends every moment and trigger change to the sink. Short versions: test/chaos/moments-*.test.ts;
 * long ones: test/chaos/long/moments-long.test.ts.
 */
import { Redis } from 'ioredis';
import type { Daemon } from '../../src/daemon/daemon.js';
import { listQuarantined } from '../../src/quarantine/quarantine.js';
import { startMomentsSimulator, type MomentsSimulator, type MomentsSimulatorOptions } from '../../simulators/moments/moments-simulator.js';
import { baseUrl, getReadyz, until } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startMomentsDaemon } from '../sources/moments/moments-daemon-kit.js';
import { startChaosSink, type ChaosSink, type Tally } from './chaos-sink.js';

export interface MomentsScenarioResult extends Tally {
  /** Items the scenario expects in quarantine, and how many of them are there. */
  poisonSent: number;
  quarantined: number;
  /** Items waiting in the source (its progress().pending) when the fault ended; 0 when the fault is not on the pipeline side. */
  inFlightAtFault: number;
  [k: string]: unknown;
}

interface Rig {
  redis: TestRedis;
  sim: MomentsSimulator;
  sink: ChaosSink;
  daemon: Daemon;
  admin: Redis;
  base: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startRig(sim: MomentsSimulatorOptions = {}): Promise<Rig> {
  const redis = await startTestRedis({ appendOnly: true });
  const s = await startMomentsSimulator({ keepAliveIntervalMs: 300, connectionTimeoutMs: 3000, ...sim });
  const sink = await startChaosSink();
  const daemon = await startMomentsDaemon({ redisUrl: redis.url, sim: s, sinkUrl: sink.url });
  const base = baseUrl(daemon);
  await until('the daemon ready', async () => (await getReadyz(base)).status === 200, 15_000);
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  return {
    redis,
    sim: s,
    sink,
    daemon,
    admin,
    base,
    async stop() {
      admin.disconnect();
      await daemon.stop();
      await sink.stop();
      await s.stop();
      await redis.stop();
    },
  };
}

/** Quarantined entries whose raw object carries one of `publicIds` (directly, or as the moment of a set-aside event). */
async function quarantinedOf(rig: Rig, publicIds: ReadonlySet<string>): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const q of await listQuarantined(rig.admin, 'mb:', 10_000)) {
    const raw = q.raw as { publicId?: unknown; event?: { data?: { publicId?: unknown } } } | null;
    const id = String(raw?.publicId ?? raw?.event?.data?.publicId ?? '');
    if (publicIds.has(id)) found.set(id, q.reason);
  }
  return found;
}

function deepArrayText(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** A moment as JSON text, with `triggerObjectText` spliced in verbatim (it may be too deep to build with JSON.stringify). */
function momentText(publicId: string, fields: Record<string, unknown>, triggerObjectText?: string): string {
  const base = JSON.stringify({
    publicId,
    clientId: 1,
    athleteId: 7,
    eventId: 3,
    matches: [],
    moment: 'poison',
    createdAt: new Date().toISOString(),
    ...fields,
  });
  return triggerObjectText === undefined ? base : `${base.slice(0, -1)},"triggerObject":${triggerObjectText}}`;
}

/**
 * Poison objects mixed into a stream of valid moments: each is quarantined alone (counted by its
 * publicId in the quarantine list), every valid moment is delivered, the cursor moves, /readyz
 * stays 200. Kinds: a 6,000-deep triggerObject (a deep array on the vendor variant, AWSJSON text
 * on amplify), an AWSJSON triggerObject over the 256 KiB bound (amplify), a non-object item, a
 * frame of invalid UTF-8 (the socket is dropped and the back-fill recovers), plus valid moments
 * that are hard but legal: a 200 KB `moment` text and lone surrogates.
 */
export async function momentsPoison(p: {
  schema: 'vendor' | 'amplify';
  rounds: number;
  validPerRound: number;
  settleMs: number;
}): Promise<MomentsScenarioResult> {
  const rig = await startRig({ schema: p.schema });
  try {
    const ids: string[] = [];
    const poison = new Set<string>();
    const kinds: Record<string, number> = { deep: 0, overBound: 0, notAnObject: 0, invalidUtf8: 0, big200k: 0, loneSurrogate: 0 };
    const readyStatuses: number[] = [];
    const connectionsBefore = rig.sim.control.stats().realtimeConnections;
    const big = 'm'.repeat(200 * 1024);
    for (let r = 0; r < p.rounds; r++) {
      for (let i = 0; i < p.validPerRound; i++) ids.push(`moments:moment:${rig.sim.control.createMoment({ athleteId: i }).publicId}`);
      const deepId = `poison-deep-${r}`;
      const deep = deepArrayText(6000);
      rig.sim.control.sendDataText('onCreateMoment', momentText(deepId, {}, p.schema === 'amplify' ? JSON.stringify(deep) : deep));
      poison.add(deepId);
      kinds.deep!++;
      if (p.schema === 'amplify') {
        const overId = `poison-over-${r}`;
        rig.sim.control.sendDataText('onCreateMoment', momentText(overId, {}, JSON.stringify(JSON.stringify({ blob: 'x'.repeat(300 * 1024) }))));
        poison.add(overId);
        kinds.overBound!++;
      }
      // Not an object at all: kept in quarantine under a synthetic id the test can find.
      rig.sim.control.sendDataText('onCreateMoment', JSON.stringify(`poison-notobject-${r}`));
      kinds.notAnObject!++;
      // Hard but legal: delivered like any other moment.
      ids.push(`moments:moment:${rig.sim.control.createMoment({ moment: big }).publicId}`);
      kinds.big200k!++;
      const surrogateId = `lone-surrogate-${r}`;
      rig.sim.control.sendDataText(
        'onCreateMoment',
        momentText(surrogateId, { moment: 'broken \ud800 text \udc00' })
          .replace(/\ud800/, '\\ud800')
          .replace(/\udc00/, '\\udc00'),
      );
      ids.push(`moments:moment:${surrogateId}`);
      kinds.loneSurrogate!++;
      readyStatuses.push((await getReadyz(rig.base)).status);
      await sleep(20);
    }
    // Invalid UTF-8 last: ws closes the socket (1007); moments made meanwhile come back by back-fill.
    rig.sim.control.sendRawBytes(Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    kinds.invalidUtf8!++;
    for (let i = 0; i < p.validPerRound; i++) ids.push(`moments:moment:${rig.sim.control.createMoment({ athleteId: 100 + i }).publicId}`);
    await until('every valid moment at the sink', () => rig.sink.tally(ids).lost === 0, p.settleMs).catch(() => undefined);
    const notObjects = (await listQuarantined(rig.admin, 'mb:', 10_000)).filter((q) => q.raw === null || typeof q.raw !== 'object').length;
    const found = await quarantinedOf(rig, poison);
    const last = ids.at(-1)!.split(':').pop()!;
    const cursor = await rig.admin.hget('mb:source:moments:cursor', 'ids');
    readyStatuses.push((await getReadyz(rig.base)).status);
    return {
      ...rig.sink.tally(ids),
      poisonSent: poison.size + kinds.notAnObject!,
      quarantined: found.size + Math.min(notObjects, kinds.notAnObject!),
      inFlightAtFault: 0,
      reasons: [...new Set([...found.values()].map((r) => r.replace(/\d+/g, 'N')))],
      kinds,
      cursorAtLast: Boolean(cursor?.includes(last)),
      readyAlways200: readyStatuses.every((s) => s === 200),
      extraConnections: rig.sim.control.stats().realtimeConnections - connectionsBefore,
    };
  } finally {
    await rig.stop();
  }
}

/**
 * Trigger changes created and updated while Redis is down and the upstream is otherwise idle:
 * every trigger.created / trigger.updated reaches the sink once Redis is back, none twice.
 */
export async function momentsTriggerOutage(p: { created: number; updated: number; downMs: number; settleMs: number }): Promise<MomentsScenarioResult> {
  const rig = await startRig();
  try {
    const ids: string[] = [];
    await rig.redis.server.stop();
    const triggers = Array.from({ length: p.created }, (_, i) => rig.sim.control.createTrigger({ name: `made during the outage ${i}` }));
    for (const t of triggers) ids.push(`moments:trigger.created:${t.publicId}`);
    const spacing = Math.max(1, Math.floor(p.downMs / 2 / Math.max(1, p.updated)));
    for (let i = 0; i < p.updated; i++) {
      await sleep(spacing);
      const t = triggers[i % triggers.length]!;
      const u = rig.sim.control.updateTrigger(t.publicId, { name: `${t.name} v${i}` });
      ids.push(`moments:trigger.updated:${t.publicId}@${u.updatedAt}`);
    }
    await sleep(Math.max(0, p.downMs - spacing * p.updated));
    const held = ((await getReadyz(rig.base)).body.checks['source:moments']?.detail as { progress?: { pending?: number } } | undefined)?.progress?.pending ?? 0;
    await rig.redis.server.start();
    await until('every trigger change at the sink', () => rig.sink.tally(ids).lost === 0, p.settleMs).catch(() => undefined);
    await sleep(300);
    return { ...rig.sink.tally(ids), poisonSent: 0, quarantined: 0, inFlightAtFault: held, downMs: p.downMs };
  } finally {
    await rig.stop();
  }
}

/**
 * A hostile real-time peer: absurd connectionTimeoutMs values on each connection_ack (negative,
 * huge, not a number), unknown message types, and start_ack / data / error / complete frames for
 * subscriptions that do not exist, mixed into a stream of valid moments. Connections are counted:
 * only the socket drops the scenario makes itself may add one.
 */
export async function momentsHostilePeer(p: { moments: number; hostilePerMoment: number; settleMs: number }): Promise<MomentsScenarioResult> {
  const acks: Array<Record<string, unknown>> = [{ connectionTimeoutMs: -5 }, { connectionTimeoutMs: 1e15 }, { connectionTimeoutMs: 'soon' }, {}];
  const rig = await startRig();
  try {
    const ids: string[] = [];
    let drops = 0;
    const sent: Record<string, number> = { unknownType: 0, unknownSubscription: 0 };
    const before = rig.sim.control.stats().realtimeConnections;
    const phase = Math.ceil(p.moments / (acks.length + 1));
    for (let i = 0; i < p.moments; i++) {
      // A new connection with the next absurd keep-alive timeout at each phase.
      if (i > 0 && i % phase === 0 && drops < acks.length) {
        const opened = rig.sim.control.stats().realtimeConnections;
        rig.sim.control.setConnectionAck(acks[drops]);
        drops += rig.sim.control.dropSockets();
        await until(
          'the source reconnected',
          () => rig.sim.control.stats().realtimeConnections > opened && rig.sim.control.stats().openSockets === 1,
          5_000,
        ).catch(() => undefined);
      }
      ids.push(`moments:moment:${rig.sim.control.createMoment({ athleteId: i % 40 }).publicId}`);
      for (let k = 0; k < p.hostilePerMoment; k++) {
        const n = i * p.hostilePerMoment + k;
        if (n % 2 === 0) {
          rig.sim.control.sendRaw(JSON.stringify({ type: `bogus-${n % 7}`, id: `x${n}`, payload: { connectionTimeoutMs: -1 } }));
          sent.unknownType!++;
        } else {
          const type = ['start_ack', 'data', 'error', 'complete'][n % 4]!;
          rig.sim.control.sendRaw(
            JSON.stringify({ type, id: `sub-${1000 + n}`, payload: { data: { onCreateMoment: { publicId: `ghost-${n}` } }, errors: [{ message: 'ghost' }] } }),
          );
          sent.unknownSubscription!++;
        }
      }
      if (i % 20 === 19) await sleep(5);
    }
    // Long enough for a clamped 1 s keep-alive timeout to fire if the peer's `ka` were not honoured.
    await sleep(1500);
    await until('every moment at the sink', () => rig.sink.tally(ids).lost === 0, p.settleMs).catch(() => undefined);
    await sleep(300);
    const connections = rig.sim.control.stats().realtimeConnections - before;
    const ghosts = [...rig.sink.receipts.keys()].filter((k) => k.includes('ghost-')).length;
    return {
      ...rig.sink.tally(ids),
      poisonSent: 0,
      quarantined: 0,
      inFlightAtFault: 0,
      drops,
      newConnections: connections,
      sent,
      ghostsDelivered: ghosts,
      ready: (await getReadyz(rig.base)).status,
    };
  } finally {
    await rig.stop();
  }
}

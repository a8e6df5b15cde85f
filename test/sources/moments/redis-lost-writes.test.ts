/**
 * A Redis that comes back without its last writes (PRODUCT.md §6, issue #15): the cursor lives in
 * the same Redis as the jobs, so a lost AOF tail loses both together, and the source must
 * re-create the jobs from the cursor Redis holds after the restart. Deterministic: the AOF is cut
 * back to a size recorded at a known point (as a machine crash with `appendfsync everysec` would
 * leave it), not to "one second ago".
 *
 * The "pipeline" here writes each accepted moment into a Redis list on its own connection, with
 * the settings of the queue's producer (offline queue, re-send of commands in flight): a moment
 * is safe once its id is in the list, and lost if the list lacks it.
 */
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { SeenWindow } from '../../../src/sources/shared/seen-window.js';
import type { BridgeEvent } from '../../../src/core/event.js';
import { createLogger } from '../../../src/core/log.js';
import { momentsSource } from '../../../src/sources/moments/index.js';
import type { Source, SourceContext } from '../../../src/sources/source.js';
import { simulatorSourceConfig, startMomentsSimulator, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { newestIncrementFile } from '../../chaos/redis-crash.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';

const JOBS = 'test:jobs';
const SEEN_BASE = 'mb:source:moments:';

let redis: TestRedis | undefined;
let sim: MomentsSimulator | undefined;
let source: Source | undefined;
let producer: Redis | undefined;

afterEach(async () => {
  await source?.stop();
  producer?.disconnect();
  await sim?.stop();
  await redis?.stop();
  source = sim = redis = producer = undefined;
});

interface Rig {
  admin: Redis;
  /** Runs after each hand-over was written (before the source commits it). */
  afterHandOver: { hook: (() => Promise<void>) | undefined };
  make(n: number): string[];
  jobs(): Promise<string[]>;
  /** Waits until every id is in the jobs list and in the seen set (its commit landed). */
  committed(ids: readonly string[]): Promise<void>;
  /** The size of the AOF now: what a crash that loses everything written from here keeps. */
  aofSize(): number;
  /** SIGKILL, cut the AOF back to `keep` bytes, start again on the same port and dir; returns what the AOF kept. */
  crash(keep: number): Promise<string>;
}

async function startRig(): Promise<Rig> {
  redis = await startTestRedis({ appendOnly: true });
  sim = await startMomentsSimulator({ connectionTimeoutMs: 2000, keepAliveIntervalMs: 300 });
  // As the queue's producer (DeliveryQueues): offline queue on, commands in flight re-sent.
  producer = new Redis(redis.url, { maxRetriesPerRequest: 1 }).on('error', () => undefined);
  const admin = redis.client();
  const afterHandOver: Rig['afterHandOver'] = { hook: undefined };
  const handOver = async (events: BridgeEvent[]) => {
    await producer!.rpush(JOBS, ...events.map((e) => e.id));
    await afterHandOver.hook?.();
  };
  const ctx: SourceContext = {
    name: 'moments',
    // As the daemon's shared client: maxRetriesPerRequest null, offline queue, re-send.
    redis: redis.client(),
    keyPrefix: 'mb:',
    logger: createLogger({ level: 'silent', format: 'json' }),
    configDir: process.cwd(),
    emit: (event) => handOver([event]),
    emitBatch: handOver,
    quarantine: async () => undefined,
  };
  const config = momentsSource.configSchema.parse(simulatorSourceConfig(sim, { reconnect: { initialDelay: '50ms', maxDelay: '300ms' } }));
  source = momentsSource.create(config, ctx);
  await source.start();
  await vi.waitFor(() => expect(source!.state().status).toBe('connected'), { timeout: 5000, interval: 20 });
  const dataDir = redis.server.dataDir;
  return {
    admin,
    afterHandOver,
    make: (n) => Array.from({ length: n }, () => `moments:moment:${sim!.control.createMoment({}).publicId}`),
    jobs: () => admin.lrange(JOBS, 0, -1),
    async committed(ids) {
      const publicIds = ids.map((id) => id.split(':').at(-1)!);
      await vi.waitFor(
        async () => {
          expect(await admin.lrange(JOBS, 0, -1)).toEqual(expect.arrayContaining([...ids]));
          expect((await new SeenWindow(admin, SEEN_BASE, 86_400_000).seenMany(publicIds)).every(Boolean)).toBe(true);
        },
        { timeout: 5000, interval: 20 },
      );
    },
    aofSize: () => statSync(newestIncrementFile(dataDir)!).size,
    async crash(keep) {
      await redis!.server.kill();
      const file = newestIncrementFile(dataDir)!;
      expect(statSync(file).size).toBeGreaterThan(keep);
      truncateSync(file, keep);
      const aof = readFileSync(file, 'latin1');
      await redis!.server.start();
      return aof;
    },
  };
}

/** Every id in the jobs list exactly once, nothing else. */
async function expectJobsExactly(rig: Rig, ids: readonly string[]): Promise<void> {
  await vi.waitFor(async () => expect(new Set(await rig.jobs())).toEqual(new Set(ids)), { timeout: 10_000, interval: 50 });
  expect((await rig.jobs()).sort()).toEqual([...ids].sort());
}

describe('moments source: Redis restarts without its last writes', () => {
  it('the AOF tail with jobs, seen set and cursor of 5 moments is lost: the back-fill after the reconnect re-creates them, none twice', async () => {
    const rig = await startRig();
    const kept = rig.make(5);
    await rig.committed(kept);
    const keep = rig.aofSize();
    const lost = rig.make(5);
    await rig.committed(lost);

    const aof = await rig.crash(keep);
    // What Redis restarts with: the first five jobs, not the last five (nor their seen entries).
    for (const id of kept) expect(aof).toContain(id);
    for (const id of lost) expect(aof).not.toContain(id.split(':').at(-1));
    const after = rig.make(3);
    await expectJobsExactly(rig, [...kept, ...lost, ...after]);
  }, 30_000);

  it('a cursor commit in flight at the crash is not re-sent to the restarted Redis (it would mark a moment whose job was lost)', async () => {
    const rig = await startRig();
    const kept = rig.make(5);
    await rig.committed(kept);
    const keep = rig.aofSize();
    // The next hand-over is written, then Redis holds every write: the commit that follows is
    // sent and unanswered when Redis dies, and the job is in the part of the AOF the crash loses.
    rig.afterHandOver.hook = async () => {
      rig.afterHandOver.hook = undefined;
      await rig.admin.call('CLIENT', 'PAUSE', '10000', 'WRITE');
    };
    const lost = rig.make(1);
    await vi.waitFor(async () => expect(await rig.jobs()).toEqual([...kept, ...lost]), { timeout: 5000, interval: 20 });
    await new Promise((r) => setTimeout(r, 300));

    const aof = await rig.crash(keep);
    expect(aof).not.toContain(lost[0]!.split(':').at(-1));
    await expectJobsExactly(rig, [...kept, ...lost]);
    // Its commit is the back-fill's, on the new Redis, after its job.
    await rig.committed(lost);
  }, 30_000);
});

/**
 * The Observer source after a Redis that comes back without its last writes (issue #15): a row's
 * seen mark is written after its job, so a lost AOF tail takes both; the source must find those
 * rows again (it re-reads every open frame on a Redis reconnect) and hand them over once more.
 * The "pipeline" writes each event id into a Redis list on a connection set up like the queue's
 * producer; a row is safe once its id is in the list.
 */
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import { digestWindowSize } from '../../helpers/digest-window-size.js';
import { ObserverSource } from '../../../src/sources/observer/observer-source.js';
import { observerSourceConfigSchema } from '../../../src/sources/observer/source-config.js';
import { newestIncrementFile } from '../../chaos/redis-crash.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { harness, waitFor } from './source-harness.js';

const JOBS = 'test:jobs';
let redis: TestRedis | undefined;
let sim: RunningObserverSimulator | undefined;
let source: ObserverSource | undefined;
let producer: Redis | undefined;

afterEach(async () => {
  await source?.stop();
  producer?.disconnect();
  await sim?.stop();
  await redis?.stop();
  source = sim = redis = producer = undefined;
});

describe('observer source: Redis restarts without its last writes', () => {
  it('rows whose jobs and seen marks the lost AOF tail took are read again and handed over, none twice', async () => {
    redis = await startTestRedis({ appendOnly: true });
    sim = await startObserverSimulator({ accessToken: 'tok' });
    producer = new Redis(redis.url, { maxRetriesPerRequest: 1 }).on('error', () => undefined);
    const admin = redis.client();
    const h = harness('calls', redis.client());
    h.ctx.emit = async (event) => {
      await producer!.rpush(JOBS, event.id);
    };
    const config = observerSourceConfigSchema.parse({
      type: 'observer',
      url: sim.url,
      accessToken: 'tok',
      frames: [{ database: { resource: 'incidents' } }],
      reconnect: { initialDelay: '20ms', maxDelay: '100ms' },
    });
    source = new ObserverSource(config, h.ctx);
    await source.start();
    await waitFor(() => source!.openFrames().includes('database:incidents'), 'the frame open');

    const push = (from: number) =>
      [0, 1, 2].map((i) => String(sim!.control.pushRow({ kind: 'database', resource: 'incidents', row: { id: `r${from + i}` } }).id));
    /** Every pushed row in the jobs list and marked seen. */
    const done = (n: number) =>
      waitFor(async () => (await admin.llen(JOBS)) === n && (await digestWindowSize(admin, 'mbtest:source:calls:seenw')) === n, `${n} rows done`);
    const kept = push(1);
    await done(3);
    const file = newestIncrementFile(redis.server.dataDir)!;
    const keep = statSync(file).size;
    const lost = push(4);
    await done(6);
    const ids = await admin.lrange(JOBS, 0, -1);

    await redis.server.kill();
    truncateSync(file, keep);
    const aof = readFileSync(file, 'latin1');
    expect(kept.every((id) => aof.includes(`incidents::${id}\r\n`)) && lost.every((id) => !aof.includes(`incidents::${id}\r\n`))).toBe(true);
    await redis.server.start();

    await waitFor(async () => (await admin.llen(JOBS)) >= 6, 'the lost rows handed over again', 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await admin.lrange(JOBS, 0, -1)).sort()).toEqual([...ids].sort());
    expect(await digestWindowSize(admin, 'mbtest:source:calls:seenw')).toBe(6);
  }, 30_000);
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimsKey, queuedOrClaimed } from '../../src/queue/delivery-claims.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import type { DeliveryQueues } from '../../src/queue/delivery-queues.js';
import { listDeadLetters, purgeDeadLetters } from '../../src/queue/dead-letters.js';
import { queueName } from '../../src/queue/queue-names.js';
import { BUCKETS_PER_WINDOW } from '../../src/redis/digest-window.js';
import { digestWindowSize } from '../helpers/digest-window-size.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { ageWindow } from '../helpers/window-clock.js';
import { makeQueues, routed, until } from './queue-test-kit.js';

let redis: TestRedis;
const open: DeliveryQueues[] = [];
let n = 0;
const nextPrefix = () => `c${++n}`;
const track = (q: DeliveryQueues) => (open.push(q), q);
const HOUR = 3_600_000;
const TTL = 12 * HOUR;
const SPAN = TTL / BUCKETS_PER_WINDOW;
const NONE = { rejected: 0, quarantined: 0, deadLettered: 0 };

beforeAll(async () => {
  redis = await startTestRedis();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((q) => q.close()));
});
afterAll(async () => {
  await redis.stop();
});

/** The queue's key prefix, its claims directory, and the job key of delivery `i`. */
function keysOf(prefix: string) {
  const qualified = `${prefix}:${queueName('sink')}`;
  return {
    qualified,
    claims: claimsKey({ qualifiedName: qualified }),
    job: (i: number | string) => `${qualified}:${deliveryId(`moments:moment:${i}`, 'r1', 'sink')}`,
  };
}

/** Deletes the jobs of `list` as retention trimming would (their claims stay). */
async function trim(prefix: string, list: (number | string)[]): Promise<void> {
  const { qualified, job } = keysOf(prefix);
  const client = redis.client();
  for (const i of list) {
    const id = deliveryId(`moments:moment:${i}`, 'r1', 'sink');
    await client.del(job(i));
    await client.lrem(`${qualified}:wait`, 0, id);
  }
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('delivery claims', () => {
  it('counts repeats exactly across buckets once the jobs are trimmed, and adds nothing for them (no gate left behind)', async () => {
    const prefix = nextPrefix();
    const { qualified, claims, job } = keysOf(prefix);
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: new ScriptedConnector() } }, { dedupTtlMs: TTL }));
    const all: number[] = [];
    for (let b = 0; b < 4; b++) {
      const batch = range(b * 100, 100);
      expect(await q.enqueue(batch.map((i) => routed(i)))).toEqual({ enqueued: 100, duplicates: 0, ...NONE });
      await trim(prefix, batch);
      await ageWindow(redis.client(), claims, SPAN);
      all.push(...batch);
    }
    expect(await digestWindowSize(redis.client(), claims)).toBe(400);
    const mixed = [...all, ...range(1000, 50)].map((i) => routed(i));
    expect(await q.enqueue(mixed)).toEqual({ enqueued: 50, duplicates: 400, ...NONE });
    expect(await redis.client().llen(`${qualified}:wait`)).toBe(50);
    expect(await redis.client().exists(...all.map(job))).toBe(0);
  });

  it('frees a delivery once its window is over (it may be sent again)', async () => {
    const prefix = nextPrefix();
    const { claims } = keysOf(prefix);
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: new ScriptedConnector() } }, { dedupTtlMs: TTL }));
    await q.enqueue([routed('w')]);
    await trim(prefix, ['w']);
    await ageWindow(redis.client(), claims, TTL - 60_000);
    expect((await q.enqueue([routed('w')])).duplicates).toBe(1);
    await ageWindow(redis.client(), claims, SPAN + 60_000);
    expect((await q.enqueue([routed('w')])).enqueued).toBe(1);
  });

  it('honours claims of the former layout (BullMQ dedup keys) until they expire', async () => {
    const prefix = nextPrefix();
    const { qualified, job } = keysOf(prefix);
    const id = deliveryId('moments:moment:old', 'r1', 'sink');
    // As BullMQ's `deduplication: { id, ttl }` left it: the job trimmed, its dedup key still there.
    await redis.client().set(`${qualified}:de:${id}`, id, 'PX', 60_000);
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: new ScriptedConnector() } }));
    expect(await q.enqueue([routed('old'), routed('new')])).toEqual({ enqueued: 1, duplicates: 1, ...NONE });
    expect(await redis.client().exists(job('old'))).toBe(0);
    expect(await redis.client().pttl(`${qualified}:de:${id}`)).toBeGreaterThan(0);
  });

  it('the look into another queue (after `partitions` changed) finds its jobs, its claims and its former-layout claims, and claims nothing', async () => {
    const prefix = nextPrefix();
    const { qualified, claims, job } = keysOf(prefix);
    const id = (i: string) => deliveryId(`moments:moment:${i}`, 'r1', 'sink');
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: new ScriptedConnector() } }));
    expect(await q.enqueue([routed('claimed')])).toMatchObject({ enqueued: 1 });
    await trim(prefix, ['claimed']); // its claim stays, its job is gone
    await redis.client().hset(job('job-only'), 'name', 'sink'); // a job kept past its claim's window
    await redis.client().set(`${qualified}:de:${id('old-layout')}`, id('old-layout'), 'PX', 60_000);
    const before = await digestWindowSize(redis.client(), claims);
    const ids = ['claimed', 'job-only', 'old-layout', 'never'].map(id);
    expect(await queuedOrClaimed(redis.client(), qualified, ids, TTL)).toEqual([true, true, true, false]);
    expect(await digestWindowSize(redis.client(), claims)).toBe(before);
    expect(await queuedOrClaimed(redis.client(), qualified, [], TTL)).toEqual([]);
  });

  it('never leaves a claim without a job: a delivery whose add fails is not claimed, and is queued by the next try', async () => {
    const prefix = nextPrefix();
    const { qualified, claims } = keysOf(prefix);
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: new ScriptedConnector() } }));
    await q.enqueue([routed('first')]); // the queue exists
    // BullMQ's add script fails (WRONGTYPE) on a meta key of the wrong type, inside the
    // transaction, before it writes the job.
    await redis.client().rename(`${qualified}:meta`, `${qualified}:meta-saved`);
    await redis.client().set(`${qualified}:meta`, 'not a hash');
    await expect(q.enqueue([routed('x')])).rejects.toThrow(/WRONGTYPE/);
    expect(await digestWindowSize(redis.client(), claims)).toBe(1);
    await redis.client().del(`${qualified}:meta`);
    await redis.client().rename(`${qualified}:meta-saved`, `${qualified}:meta`);
    expect(await q.enqueue([routed('x')])).toEqual({ enqueued: 1, duplicates: 0, ...NONE });
    expect(await digestWindowSize(redis.client(), claims)).toBe(2);
  });

  it('dlq purge frees the claim: a back-fill sends the purged delivery again', async () => {
    const sink = new ScriptedConnector();
    sink.script('moments:moment:p', [{ do: 'permanent' }]);
    const prefix = nextPrefix();
    const q = track(makeQueues(redis.url, prefix, { sink: { connector: sink } }));
    await q.enqueue([routed('p')]);
    await q.startWorkers();
    await until(async () => (await listDeadLetters(redis.client(), { prefix })).length === 1);
    expect((await q.enqueue([routed('p')])).duplicates).toBe(1);
    expect(await purgeDeadLetters(redis.client(), { prefix })).toBe(1);
    expect(await q.enqueue([routed('p')])).toEqual({ enqueued: 1, duplicates: 0, ...NONE });
  });

  it('two producers racing on the same new deliveries: one job each, and the duplicates add up exactly', async () => {
    const prefix = nextPrefix();
    const a = track(makeQueues(redis.url, prefix, { sink: { connector: new ScriptedConnector() } }));
    const b = track(makeQueues(redis.url, prefix, { sink: { connector: new ScriptedConnector() } }));
    const batch = range(0, 600).map((i) => routed(i));
    const chunks = (list: typeof batch) => Array.from({ length: 6 }, (_, i) => list.slice(i * 100, i * 100 + 100));
    const results = await Promise.all([...chunks(batch).map((c) => a.enqueue(c)), ...chunks([...batch].reverse()).map((c) => b.enqueue(c))]);
    expect(results.reduce((s, r) => s + r.enqueued, 0)).toBe(600);
    expect(results.reduce((s, r) => s + r.duplicates, 0)).toBe(600);
    expect((await a.depth()).sink!.waiting).toBe(600);
    expect(await digestWindowSize(redis.client(), keysOf(prefix).claims)).toBe(600);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDeadLetters, pageDeadLetters, purgeDeadLetters, queueConnectors, retryDeadLetters, showDeadLetter } from '../../src/queue/dead-letters.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import type { DeliveryQueues } from '../../src/queue/delivery-queues.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { makeQueues, routed, until } from './queue-test-kit.js';

let redis: TestRedis;
let queues: DeliveryQueues;
const alpha = new ScriptedConnector();
const beta = new ScriptedConnector();
const id = (n: string, connector: string) => deliveryId(`moments:moment:${n}`, 'r1', connector);

async function failedCount(prefix: string, connectors: string[], cluster = false): Promise<number> {
  return (await pageDeadLetters(redis.client(), { prefix, connectors, cluster, limit: 0, offset: 0 })).total;
}

/** Dead letters a1, b1, a2, b2, a3 (a = alpha, b = beta), failed in that order, a few ms apart. */
beforeAll(async () => {
  redis = await startTestRedis();
  for (const n of ['a1', 'a2']) alpha.script(`moments:moment:${n}`, [{ do: 'permanent', reason: `bad ${n}` }]);
  // A Retry-After answer is an attempt on record that spends no attempt: 2 records, attemptsMade 1.
  alpha.script('moments:moment:a3', [
    { do: 'retry', retryAfterMs: 1, reason: 'slow down' },
    { do: 'permanent', reason: 'bad a3' },
  ]);
  for (const n of ['b1', 'b2']) beta.script(`moments:moment:${n}`, [{ do: 'permanent', reason: `bad ${n}` }]);
  queues = makeQueues(redis.url, 'dl', { alpha: { connector: alpha }, beta: { connector: beta } });
  await queues.startWorkers();
  let failed = 0;
  for (const [n, c] of [
    ['a1', 'alpha'],
    ['b1', 'beta'],
    ['a2', 'alpha'],
    ['b2', 'beta'],
    ['a3', 'alpha'],
  ] as const) {
    await queues.enqueue([routed(n, c)]);
    failed++;
    await until(async () => (await failedCount('dl', ['alpha', 'beta'])) === failed);
    await new Promise((r) => setTimeout(r, 5));
  }
  // One delivered job, which is not a dead letter.
  await queues.enqueue([routed('ok', 'alpha')]);
  await until(() => alpha.deliveredIds.has(id('ok', 'alpha')));
});
afterAll(async () => {
  await queues.close();
  await redis.stop();
});

describe('pageDeadLetters', () => {
  it('merges every connector newest first, each with its connector, attempts and reason, and the real totals', async () => {
    const page = await pageDeadLetters(redis.client(), { prefix: 'dl', limit: 10, offset: 0 });
    expect(page.total).toBe(5);
    expect(page.counts).toEqual({ alpha: 3, beta: 2 });
    expect(page.items.map((d) => [d.id, d.connector])).toEqual([
      [id('a3', 'alpha'), 'alpha'],
      [id('b2', 'beta'), 'beta'],
      [id('a2', 'alpha'), 'alpha'],
      [id('b1', 'beta'), 'beta'],
      [id('a1', 'alpha'), 'alpha'],
    ]);
    expect(page.items.map((d) => d.attempts)).toEqual([2, 1, 1, 1, 1]);
    expect(page.items[0]).toMatchObject({ route: 'r1', eventId: 'moments:moment:a3', reason: 'bad a3' });
    expect(page.items[0]!.failedAt).toBeGreaterThanOrEqual(page.items[1]!.failedAt!);
  });

  it('pages by offset and limit over the merged list; limit 0 gives only the totals', async () => {
    const ids = async (offset: number, limit: number) => (await pageDeadLetters(redis.client(), { prefix: 'dl', limit, offset })).items.map((d) => d.id);
    expect(await ids(1, 2)).toEqual([id('b2', 'beta'), id('a2', 'alpha')]);
    expect(await ids(0, 1)).toEqual([id('a3', 'alpha')]);
    expect(await ids(4, 10)).toEqual([id('a1', 'alpha')]);
    const none = await pageDeadLetters(redis.client(), { prefix: 'dl', limit: 0, offset: 0 });
    expect(none).toEqual({ total: 5, counts: { alpha: 3, beta: 2 }, items: [] });
  });

  it('keeps to one connector when asked, and counts a connector with none without creating its queue', async () => {
    const page = await pageDeadLetters(redis.client(), { prefix: 'dl', connector: 'beta', limit: 10, offset: 0 });
    expect(page.items.map((d) => d.id)).toEqual([id('b2', 'beta'), id('b1', 'beta')]);
    expect(page.counts).toEqual({ beta: 2 });
    expect((await pageDeadLetters(redis.client(), { prefix: 'dl', connectors: ['alpha', 'nobody'], limit: 10, offset: 0 })).counts).toEqual({
      alpha: 3,
      nobody: 0,
    });
    expect(await queueConnectors(redis.client(), 'dl')).toEqual(['alpha', 'beta']);
  });
});

describe('showDeadLetter', () => {
  it('gives the event, payload and every attempt on record, the rate-limited one included', async () => {
    const d = await showDeadLetter(redis.client(), { prefix: 'dl', id: id('a3', 'alpha') });
    expect(d).toMatchObject({ connector: 'alpha', attempts: 2, event: { id: 'moments:moment:a3' }, payload: { text: 'moment a3' } });
    expect(d!.history.map((h) => h.outcome)).toEqual(['rate-limited', 'permanent']);
  });

  it('is undefined for an unknown id and for a job that was delivered', async () => {
    expect(await showDeadLetter(redis.client(), { prefix: 'dl', id: 'nope' })).toBeUndefined();
    expect(await showDeadLetter(redis.client(), { prefix: 'dl', id: id('ok', 'alpha') })).toBeUndefined();
  });
});

describe('queueConnectors', () => {
  it('finds every connector queue under the prefix, sorted, however many other keys SCAN pages through', async () => {
    const client = redis.client();
    const pipeline = client.pipeline();
    for (let i = 0; i < 5000; i++) pipeline.set(`noise:${i}`, '1');
    await pipeline.exec();
    const more = makeQueues(redis.url, 'dl', { zeta: { connector: new ScriptedConnector() }, delta: { connector: new ScriptedConnector() } });
    try {
      await more.enqueue([routed('z', 'zeta'), routed('d', 'delta')]);
      expect(await queueConnectors(client, 'dl')).toEqual(['alpha', 'beta', 'delta', 'zeta']);
    } finally {
      await more.close();
    }
  });
});

describe('cluster queue names', () => {
  it('finds dead letters under the hash-tagged names only when told the queues are clustered', async () => {
    const gamma = new ScriptedConnector();
    gamma.script('moments:moment:g', [{ do: 'permanent' }]);
    const clustered = makeQueues(redis.url, 'dlc', { gamma: { connector: gamma } }, { cluster: true });
    try {
      await clustered.startWorkers();
      await clustered.enqueue([routed('g', 'gamma')]);
      await until(async () => (await failedCount('dlc', ['gamma'], true)) === 1);
      expect(await failedCount('dlc', ['gamma'], false)).toBe(0);
    } finally {
      await clustered.close();
    }
  });
});

describe('countDeadLetters, retryDeadLetters, purgeDeadLetters', () => {
  it('counts what a purge would delete, by age', async () => {
    expect(await countDeadLetters(redis.client(), { prefix: 'dl', connectors: ['alpha', 'beta'] })).toEqual({ alpha: 3, beta: 2 });
    expect(await countDeadLetters(redis.client(), { prefix: 'dl', connectors: ['alpha', 'beta'], olderThanMs: 3_600_000 })).toEqual({ alpha: 0, beta: 0 });
  });

  it('retries all dead letters of a scope, or the ids given, naming the ones that are not dead letters', async () => {
    const omega = new ScriptedConnector();
    for (const n of ['o1', 'o2', 'o3']) omega.script(`moments:moment:${n}`, [{ do: 'permanent' }]);
    const q = makeQueues(redis.url, 'dlr', { omega: { connector: omega } });
    try {
      await q.startWorkers();
      await q.enqueue(['o1', 'o2', 'o3'].map((n) => routed(n, 'omega')));
      await until(async () => (await failedCount('dlr', ['omega'])) === 3);
      const one = await retryDeadLetters(redis.client(), { prefix: 'dlr', ids: [id('o1', 'omega'), 'unknown-id'] });
      expect(one).toEqual({ retried: [id('o1', 'omega')], missing: ['unknown-id'] });
      await until(() => omega.deliveredIds.has(id('o1', 'omega')));
      const all = await retryDeadLetters(redis.client(), { prefix: 'dlr', all: true });
      expect(all.retried.sort()).toEqual([id('o2', 'omega'), id('o3', 'omega')].sort());
      expect(all.missing).toEqual([]);
      await until(() => omega.deliveredIds.size === 3);
      expect(await failedCount('dlr', ['omega'])).toBe(0);
    } finally {
      await q.close();
    }
  });

  it('purges and says how many', async () => {
    const sigma = new ScriptedConnector();
    for (const n of ['s1', 's2']) sigma.script(`moments:moment:${n}`, [{ do: 'permanent' }]);
    const q = makeQueues(redis.url, 'dlp', { sigma: { connector: sigma } });
    try {
      await q.startWorkers();
      await q.enqueue(['s1', 's2'].map((n) => routed(n, 'sigma')));
      await until(async () => (await failedCount('dlp', ['sigma'])) === 2);
      expect(await purgeDeadLetters(redis.client(), { prefix: 'dlp', olderThanMs: 3_600_000 })).toBe(0);
      expect(await purgeDeadLetters(redis.client(), { prefix: 'dlp' })).toBe(2);
      expect(await failedCount('dlp', ['sigma'])).toBe(0);
    } finally {
      await q.close();
    }
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../src/cli/commands/dlq.js';
import { deliveryId } from '../../src/queue/delivery-id.js';
import type { DeliveryQueues } from '../../src/queue/delivery-queues.js';
import { listDeadLetters } from '../../src/queue/dead-letters.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { makeQueues, routed, until } from './queue-test-kit.js';

let redis: TestRedis;
let dir: string;
let config: string;
let queues: DeliveryQueues;
const sink = new ScriptedConnector();

async function dlq(...args: string[]): Promise<string> {
  let text = '';
  const program = new Command('moments-bridge').exitOverride();
  register(program, { write: (s: string | Uint8Array) => ((text += String(s)), true) });
  await program.parseAsync(['dlq', ...args, '-c', config], { from: 'user' });
  return text;
}

beforeAll(async () => {
  redis = await startTestRedis();
  dir = mkdtempSync(join(tmpdir(), 'mb-dlq-'));
  config = join(dir, 'config.yaml');
  writeFileSync(config, `redis:\n  url: ${redis.url}\n  keyPrefix: cli\n`);
  for (const k of ['a', 'b']) sink.script(`moments:moment:${k}`, [{ do: 'permanent', reason: `bad ${k}` }]);
  queues = makeQueues(redis.url, 'cli', { sink: { connector: sink } });
  await queues.enqueue([routed('a'), routed('b')]);
  await queues.startWorkers();
  await until(async () => (await listDeadLetters(redis.client(), { prefix: 'cli' })).length === 2);
});
afterAll(async () => {
  await queues.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('moments-bridge dlq', () => {
  const idA = deliveryId('moments:moment:a', 'r1', 'sink');
  const idB = deliveryId('moments:moment:b', 'r1', 'sink');

  it('list prints a table and JSON', async () => {
    const table = await dlq('list');
    expect(table).toContain(idA);
    expect(table).toMatch(/2 dead letter\(s\)/);
    const json = JSON.parse(await dlq('list', '--json', '--connector', 'sink')) as { id: string; reason: string }[];
    expect(json.map((d) => d.id).sort()).toEqual([idA, idB].sort());
    expect(json.find((d) => d.id === idA)?.reason).toBe('bad a');
  });

  it('show prints the event, payload and attempts; an unknown id is a clear input error', async () => {
    const shown = JSON.parse(await dlq('show', idA)) as { payload: unknown; history: unknown[]; event: { id: string } };
    expect(shown.event.id).toBe('moments:moment:a');
    expect(shown.payload).toEqual({ text: 'moment a' });
    expect(shown.history).toHaveLength(1);
    await expect(dlq('show', 'nope')).rejects.toMatchObject({ code: 'dlq_not_found' });
  });

  it('retry re-delivers; retry without ids or --all is refused', async () => {
    await expect(dlq('retry')).rejects.toMatchObject({ code: 'dlq_retry_nothing' });
    expect(await dlq('retry', idA)).toContain('retried 1');
    await sink.waitFor(() => sink.deliveredIds.get(idA) === 1, 10_000, 're-delivery');
    expect(await dlq('list')).not.toContain(idA);
  });

  it('purge respects --older-than, then deletes', async () => {
    expect(await dlq('purge', '--older-than', '1h')).toContain('purged 0');
    expect(await dlq('purge')).toContain('purged 1');
    expect(await dlq('list')).toContain('no dead letters');
  });
});

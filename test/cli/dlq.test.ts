import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryQueues } from '../../src/queue/delivery-queues.js';
import { listDeadLetters } from '../../src/queue/dead-letters.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { makeQueues, routed, until } from '../queue/queue-test-kit.js';

/** The real `dlq` command, run where there is no config file at all: `--redis` is enough. */

let redis: TestRedis;
let queues: DeliveryQueues;
let bare: string;
const sink = new ScriptedConnector();

beforeAll(async () => {
  redis = await startTestRedis();
  // Inside the package (so `node --import tsx` resolves), but with no config.yaml or config.example.yaml.
  // .data/ is git-ignored, so a fresh clone does not have it.
  const data = fileURLToPath(new URL('../../.data/', import.meta.url));
  mkdirSync(data, { recursive: true });
  bare = mkdtempSync(join(data, 'mb-dlq-cli-'));
  for (const n of [1, 2, 3]) sink.script(`moments:moment:${n}`, [{ do: 'permanent', reason: `refused ${n}` }]);
  queues = makeQueues(redis.url, 'ops', { hooks: { connector: sink } });
  await queues.enqueue([routed(1, 'hooks'), routed(2, 'hooks'), routed(3, 'hooks')]);
  await queues.startWorkers();
  await until(async () => (await listDeadLetters(redis.client(), { prefix: 'ops' })).length === 3);
});

afterAll(async () => {
  await queues?.close();
  await redis.stop();
  rmSync(bare, { recursive: true, force: true });
});

describe('moments-bridge dlq (CLI)', () => {
  const at = (...args: string[]) => runCli(['dlq', ...args, '--redis', redis.url, '--prefix', 'ops'], { cwd: bare });

  it('works with --redis and no config file', async () => {
    const res = await at('list', '--limit', '1');
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('showing 1–1 of 3 dead letter(s) (hooks 3); next page: --offset 1');
  });

  it('without --redis and without a config says to pass one of them (exit 1)', async () => {
    const res = await runCli(['dlq', 'list'], { cwd: bare });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('no config file: pass -c <file> or --redis <url>');
  });

  it('--connector nosuch is an error (exit 1) listing the connectors that exist', async () => {
    const res = await at('list', '--connector', 'nosuch');
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('moments-bridge: no connector named "nosuch" in Redis (known: hooks)\n');
  });

  it('purge without a terminal and without --yes shows what it would delete, refuses (exit 1) and deletes nothing', async () => {
    const res = await at('purge');
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('purging 3 dead letter(s): hooks 3\n');
    expect(res.stderr).toContain('pass --yes');
    expect(await listDeadLetters(redis.client(), { prefix: 'ops' })).toHaveLength(3);
  });

  it('--json prints one JSON document on stdout (list, show, purge --yes)', async () => {
    const list = JSON.parse((await at('list', '--json')).stdout) as { total: number; items: { id: string }[] };
    expect(list.total).toBe(3);
    const show = JSON.parse((await at('show', list.items[0]!.id, '--json')).stdout) as { id: string; history: unknown[] };
    expect(show).toMatchObject({ id: list.items[0]!.id, history: [expect.objectContaining({ outcome: 'permanent' })] });
    const purge = await at('purge', '--yes', '--json');
    expect(purge.code).toBe(0);
    expect(JSON.parse(purge.stdout)).toEqual({ dryRun: false, olderThan: null, matched: { hooks: 3 }, total: 3, purged: 3 });
    expect(purge.stderr).toBe('purging 3 dead letter(s): hooks 3\n');
  });
});

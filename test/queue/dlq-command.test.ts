import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../src/cli/commands/dlq.js';
import type { PromptIo } from '../../src/cli/confirm.js';
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
const other = new ScriptedConnector();
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** stdin as `purge` sees it: a terminal that answers `answer`, or a pipe. */
function stdin(tty: boolean, answer = ''): PromptIo {
  const input = Object.assign(new PassThrough(), { isTTY: tty });
  input.end(answer);
  return { input, output: new PassThrough() };
}

async function dlq(args: string[], prompt: PromptIo = stdin(false)): Promise<string> {
  let text = '';
  const program = new Command('moments-bridge').exitOverride();
  register(program, { write: (s: string | Uint8Array) => ((text += String(s)), true) }, prompt);
  await program.parseAsync(['dlq', ...args, '-c', config], { from: 'user' });
  return text;
}

beforeAll(async () => {
  redis = await startTestRedis();
  dir = mkdtempSync(join(tmpdir(), 'mb-dlq-'));
  config = join(dir, 'config.yaml');
  // The sinks' secrets are unset: dlq never needs them.
  writeFileSync(
    config,
    `redis:\n  url: ${redis.url}\n  keyPrefix: cli\nconnectors:\n  sink: { type: slack, token: "\${MB_TEST_UNSET_SLACK_TOKEN}", channel: "#x" }\n  other: { type: webhook, url: "https://hooks.example.com/x" }\n`,
  );
  for (const k of ['a', 'b']) sink.script(`moments:moment:${k}`, [{ do: 'permanent', reason: `bad ${k}` }]);
  for (const k of ['c', 'd', 'e']) other.script(`moments:moment:${k}`, [{ do: 'permanent', reason: `bad ${k}` }]);
  queues = makeQueues(redis.url, 'cli', { sink: { connector: sink }, other: { connector: other } });
  await queues.enqueue([routed('a'), routed('b'), routed('c', 'other'), routed('d', 'other'), routed('e', 'other')]);
  await queues.startWorkers();
  await until(async () => (await listDeadLetters(redis.client(), { prefix: 'cli' })).length === 5);
});
afterAll(async () => {
  await queues.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('moments-bridge dlq', () => {
  const idA = deliveryId('moments:moment:a', 'r1', 'sink');
  const idB = deliveryId('moments:moment:b', 'r1', 'sink');

  it('list prints a header and the real total, not the page size', async () => {
    const table = await dlq(['list', '--limit', '2']);
    const lines = table.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CONNECTOR\s+ROUTE\s+EVENT\s+ATTEMPTS\s+FAILED AT\s+REASON$/);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('showing 1–2 of 5 dead letter(s) (other 3, sink 2); next page: --offset 2; show one with: moments-bridge dlq show <id>');
    expect(await dlq(['list', '--limit', '2', '--offset', '4'])).toContain('showing 5–5 of 5 dead letter(s)');
    expect(await dlq(['list', '--offset', '9'])).toBe('no dead letters at offset 9 (5 in all)\n');
  });

  it('pages through every dead letter of every connector once, newest first (--json)', async () => {
    type Page = { total: number; counts: Record<string, number>; items: { id: string; failedAt: string; enqueuedAt: string; reason: string }[] };
    const pages = await Promise.all(
      [0, 2, 4].map(async (offset) => JSON.parse(await dlq(['list', '--json', '--limit', '2', '--offset', String(offset)])) as Page),
    );
    expect(pages.map((p) => p.total)).toEqual([5, 5, 5]);
    expect(pages[0]!.counts).toEqual({ other: 3, sink: 2 });
    const items = pages.flatMap((p) => p.items);
    expect(new Set(items.map((d) => d.id)).size).toBe(5);
    expect(items.map((d) => d.failedAt)).toEqual([...items.map((d) => d.failedAt)].sort().reverse());
    for (const d of items) expect([d.failedAt, d.enqueuedAt]).toEqual([expect.stringMatching(ISO), expect.stringMatching(ISO)]);
    const json = JSON.parse(await dlq(['list', '--json', '--connector', 'sink'])) as Page;
    expect(json.items.map((d) => d.id).sort()).toEqual([idA, idB].sort());
    expect(json.items.find((d) => d.id === idA)?.reason).toBe('bad a');
  });

  it('show prints ISO times (text and --json), the event, payload and attempts; an unknown id is a clear input error', async () => {
    const text = await dlq(['show', idA]);
    expect(text).toMatch(/^failed {6}\d{4}-\d{2}-\d{2}T[\d:.]+Z$/m);
    expect(text).not.toMatch(/\b\d{13}\b/);
    const shown = JSON.parse(await dlq(['show', '--json', idA])) as {
      payload: unknown;
      history: { at: string }[];
      event: { id: string };
      failedAt: string;
      enqueuedAt: string;
    };
    expect(shown.event.id).toBe('moments:moment:a');
    expect(shown.payload).toEqual({ text: 'moment a' });
    expect(shown.history).toHaveLength(1);
    expect([shown.failedAt, shown.enqueuedAt, shown.history[0]!.at]).toEqual([
      expect.stringMatching(ISO),
      expect.stringMatching(ISO),
      expect.stringMatching(ISO),
    ]);
    await expect(dlq(['show', 'nope'])).rejects.toMatchObject({ code: 'dlq_not_found' });
  });

  it('an unknown --connector is an input error naming the known connectors', async () => {
    await expect(dlq(['list', '--connector', 'nosuch'])).rejects.toMatchObject({
      code: 'dlq_connector_unknown',
      message: expect.stringContaining('(known: other, sink)'),
    });
    await expect(dlq(['purge', '--yes', '--connector', 'sinc'])).rejects.toMatchObject({ message: expect.stringContaining('did you mean "sink"?') });
    expect(JSON.parse(await dlq(['list', '--json'])) as { total: number }).toMatchObject({ total: 5 });
  });

  it('retry re-delivers; retry without ids or --all is refused', async () => {
    await expect(dlq(['retry'])).rejects.toMatchObject({ code: 'dlq_retry_nothing' });
    expect(await dlq(['retry', idA])).toContain('retried 1');
    await sink.waitFor(() => sink.deliveredIds.get(idA) === 1, 10_000, 're-delivery');
    expect(await dlq(['list'])).not.toContain(idA);
  });

  it('purge shows what it would delete; --dry-run deletes nothing', async () => {
    const dry = await dlq(['purge', '--dry-run']);
    expect(dry).toBe('would purge 4 dead letter(s): other 3, sink 1\ndry run: nothing was deleted\n');
    expect(JSON.parse(await dlq(['purge', '--dry-run', '--json']))).toEqual({
      dryRun: true,
      olderThan: null,
      matched: { other: 3, sink: 1 },
      total: 4,
      purged: 0,
    });
    expect(await dlq(['purge', '--older-than', '1h', '--yes'])).toBe('no dead letters older than 1h to purge\n');
    expect(JSON.parse(await dlq(['list', '--json'])) as { total: number }).toMatchObject({ total: 4 });
  });

  it('purge without a terminal and without --yes refuses; on a terminal it asks, and only "y" deletes', async () => {
    await expect(dlq(['purge'], stdin(false))).rejects.toMatchObject({ code: 'dlq_purge_unconfirmed', message: expect.stringContaining('pass --yes') });
    await expect(dlq(['purge'], stdin(true, 'n\n'))).rejects.toMatchObject({ code: 'dlq_purge_cancelled' });
    await expect(dlq(['purge'], stdin(true, ''))).rejects.toMatchObject({ code: 'dlq_purge_cancelled' });
    expect(JSON.parse(await dlq(['list', '--json'])) as { total: number }).toMatchObject({ total: 4 });
    const asked = stdin(true, 'y\n');
    let question = '';
    asked.output.on('data', (d: Buffer) => (question += d.toString()));
    expect(await dlq(['purge', '--connector', 'sink'], asked)).toBe('purging 1 dead letter(s): sink 1\npurged 1 dead letter(s)\n');
    expect(question).toBe('Delete 1 dead letter(s)? [y/N] ');
    expect(JSON.parse(await dlq(['purge', '--yes', '--json']))).toEqual({
      dryRun: false,
      olderThan: null,
      matched: { other: 3, sink: 0 },
      total: 3,
      purged: 3,
    });
    expect(await dlq(['list'])).toBe('no dead letters\n');
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/queue/delivery-id.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { HttpPostConnector } from '../helpers/http-post-connector.js';
import { ScriptedConnector } from '../helpers/scripted-connector.js';
import { makeQueues, routed, until } from './queue-test-kit.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

/**
 * Every child a test starts. A child left running (an assertion failed before the test stopped it)
 * keeps this worker alive: vitest would print FAIL and then never exit, so CI would see a time-out
 * instead of a red test. afterEach SIGKILLs what is left — SIGTERM is not enough, a fixture daemon
 * may sit in its graceful shutdown.
 */
const children = new Set<ChildProcess>();
afterEach(async () => {
  const left = [...children];
  children.clear();
  await Promise.all(
    left.map((child) => {
      const gone = exited(child);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return gone;
    }),
  );
});

/** Runs a fixture with tsx; resolves once it printed "ready". */
async function startChild(name: string, args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture(name), ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  await until(() => lines.includes('ready') || child.exitCode !== null, 20_000, `${name} to start`);
  if (!lines.includes('ready')) throw new Error(`${name} exited with ${child.exitCode}`);
  return { child, lines };
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

async function listen(
  handler: (req: IncomingMessage, body: string) => { status: number; headers?: Record<string, string>; delayMs?: number },
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const { status, headers, delayMs } = handler(req, body);
      setTimeout(() => res.writeHead(status, headers).end(status < 300 ? 'ok' : 'no'), delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

describe('queue across processes', () => {
  it('a child process and this one enqueue the same 1,000 events at once: exactly 1,000 jobs and 1,000 deliveries', async () => {
    const prefix = 'two';
    const sink = new ScriptedConnector();
    const q = makeQueues(redis.url, prefix, { sink: { connector: sink, options: { concurrency: 100 } } });
    try {
      const { child, lines } = await startChild('enqueue-events.ts', [redis.url, prefix, '1000']);
      child.stdin!.write('go\n');
      const mine = { enqueued: 0, duplicates: 0 };
      const chunks = Array.from({ length: 10 }, (_, c) => Array.from({ length: 100 }, (_, k) => routed(999 - (c * 100 + k))));
      for (const r of await Promise.all(chunks.map((c) => q.enqueue(c)))) {
        mine.enqueued += r.enqueued;
        mine.duplicates += r.duplicates;
      }
      expect(await exited(child)).toBe(0);
      const theirs = JSON.parse(lines.find((l) => l.startsWith('{'))!) as { enqueued: number; duplicates: number };
      // Each side saw every event once; racing new ones may be counted as enqueued by both, never lost.
      expect(mine.enqueued + mine.duplicates).toBe(1000);
      expect(theirs.enqueued + theirs.duplicates).toBe(1000);
      const depth = (await q.depth()).sink!;
      expect(depth.waiting).toBe(1000);
      await q.startWorkers();
      await sink.waitFor(() => sink.deliveredIds.size === 1000, 20_000, '1000 deliveries');
      await new Promise((r) => setTimeout(r, 300));
      expect(sink.calls).toHaveLength(1000);
      expect((await q.depth()).sink).toMatchObject({ waiting: 0, active: 0, failed: 0 });
    } finally {
      await q.close();
    }
  });

  it('HTTP 429 with Retry-After: 2 → retried after ≥ 2 s as the same attempt', async () => {
    const seen: { at: number; attempt: string }[] = [];
    const { server, url } = await listen((req) => {
      seen.push({ at: Date.now(), attempt: String(req.headers['x-attempt']) });
      return seen.length === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 };
    });
    const q = makeQueues(redis.url, 'h429', { sink: { connector: new HttpPostConnector(url) } });
    try {
      await q.enqueue([routed('429')]);
      await q.startWorkers();
      await until(() => seen.length === 2, 10_000, 'the retry');
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(2000);
      expect(seen.map((s) => s.attempt)).toEqual(['1', '1']);
      await until(async () => (await q.depth()).sink!.completed === 1, 5000, 'completion');
    } finally {
      await q.close();
      server.close();
    }
  });

  it('kill test: a daemon with 2,000 queued deliveries is SIGKILLed mid-flight, restarted, and every delivery completes', async () => {
    const prefix = 'kill';
    const total = 2000;
    const received = new Map<string, number>();
    let requests = 0;
    let open = 0;
    const { server, url } = await listen((req) => {
      requests++;
      open++;
      const id = String(req.headers['x-delivery-id']);
      received.set(id, (received.get(id) ?? 0) + 1);
      setTimeout(() => open--, 40);
      return { status: 200, delayMs: 40 };
    });
    // The producer side only (no workers here): the daemon delivers.
    const q = makeQueues(redis.url, prefix, { sink: { connector: new HttpPostConnector(url) } });
    const env = { REDIS_URL: redis.url, PREFIX: prefix, SINK_URL: url, CONCURRENCY: '50' };
    try {
      const events = Array.from({ length: total }, (_, i) => routed(i));
      for (let i = 0; i < total; i += 500) await q.enqueue(events.slice(i, i + 500));
      const first = await startChild('delivery-daemon.ts', [], env);
      await until(() => received.size >= 500, 20_000, '500 deliveries before the kill');
      const openRequestsAtKill = open;
      first.child.kill('SIGKILL');
      await exited(first.child);
      const atKill = (await q.depth()).sink!;
      const inFlightAtKill = atKill.active;
      const deliveredAtKill = received.size;
      expect(inFlightAtKill).toBeGreaterThan(0);
      expect(atKill.waiting).toBeGreaterThan(0);

      const second = await startChild('delivery-daemon.ts', [], env);
      await until(() => received.size === total, 30_000, 'every delivery after the restart');
      await until(
        async () => {
          const d = (await q.depth()).sink!;
          return d.waiting + d.active + d.delayed === 0;
        },
        10_000,
        'an empty queue',
      );
      const duplicates = requests - received.size;
      const losses = events.filter((e) => !received.has(deliveryId(e.event.id, 'r1', 'sink'))).length;
      console.log(JSON.stringify({ kill: { total, deliveredAtKill, inFlightAtKill, openRequestsAtKill, duplicates, losses } }));
      expect(losses).toBe(0);
      expect(duplicates).toBeLessThanOrEqual(inFlightAtKill);
      expect((await q.depth()).sink!.failed).toBe(0);

      second.child.kill('SIGTERM');
      expect(await exited(second.child)).toBe(0);
    } finally {
      await q.close();
      server.close();
    }
  }, 60_000);
});

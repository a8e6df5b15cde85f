import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueName } from '../../src/queue/queue-names.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { until } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let sink: WebhookReceiver;
let dir: string;
const running: RunningCli[] = [];

const ROUTES = `
routes:
  - { name: alerts, match: { kind: moment, data.level: high }, to: [hooks] }
  - { name: audit, match: { kind: moment }, to: [hooks] }
`;

function event(n: number, level: string): string {
  return JSON.stringify({
    id: `moments:moment:m${n}`,
    source: 'moments',
    kind: 'moment',
    time: new Date(Date.now() - n * 1000).toISOString(),
    data: { n, level },
  });
}

beforeAll(async () => {
  redis = await startTestRedis();
  sink = await startWebhookReceiver();
  dir = mkdtempSync(join(tmpdir(), 'mb-replay-'));
  // m1, m2: alerts; m3: audit; trigger: no route.
  writeFileSync(
    join(dir, 'events.jsonl'),
    [
      event(1, 'high'),
      event(2, 'high'),
      '',
      event(3, 'low'),
      JSON.stringify({ id: 'moments:trigger.created:t1', source: 'moments', kind: 'trigger.created', time: new Date().toISOString(), data: {} }),
    ].join('\n') + '\n',
  );
  writeFileSync(
    join(dir, 'bad.jsonl'),
    [event(4, 'high'), '{"id": "x", oops', JSON.stringify({ source: 'moments', kind: 'moment', data: {} })].join('\n') + '\n',
  );
});

afterAll(async () => {
  for (const cli of running) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  await sink?.stop();
  await redis?.stop();
});

describe('moments-bridge replay', () => {
  it('enqueues once per (event, route, connector); a second replay enqueues 0 (dedup)', async () => {
    const cfg = join(dir, 'external.yaml');
    writeFileSync(
      cfg,
      `redis: { url: "${redis.url}", keyPrefix: rp }\nconnectors:\n  hooks: { type: webhook, url: "${sink.url}", allowPrivateNetworks: true }\n${ROUTES}`,
    );
    const first = await runCli(['replay', '-c', cfg, '--from', join(dir, 'events.jsonl')]);
    expect(first.stderr).toMatch(/replay: 4\/4 events .* done in/);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('replay: 4 event(s): 3 deliveries enqueued, 0 already queued or delivered (duplicates), 1 with no delivery');
    const queue = new Queue(queueName('hooks'), { connection: redis.client(), prefix: 'rp' });
    expect(await queue.getJobCountByTypes('waiting')).toBe(3);

    const second = await runCli(['replay', '-c', cfg, '--from', join(dir, 'events.jsonl')]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('replay: 4 event(s): 0 deliveries enqueued, 3 already queued or delivered (duplicates)');
    expect(await queue.getJobCountByTypes('waiting')).toBe(3);
    await queue.close();
  });

  it('--dry-run prints each decision and queues nothing; --route narrows it', async () => {
    const cfg = join(dir, 'dry.yaml');
    writeFileSync(
      cfg,
      `redis: { url: "redis://127.0.0.1:1", keyPrefix: dry }\nconnectors:\n  hooks: { type: webhook, url: "${sink.url}", allowPrivateNetworks: true }\n${ROUTES}`,
    );
    const dry = await runCli(['replay', '-c', cfg, '--from', join(dir, 'events.jsonl'), '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout.split('\n').filter((l) => l.startsWith('events.jsonl:'))).toEqual([
      'events.jsonl:1  moments:moment:m1  alerts → hooks',
      'events.jsonl:2  moments:moment:m2  alerts → hooks',
      'events.jsonl:4  moments:moment:m3  audit → hooks',
      'events.jsonl:5  moments:trigger.created:t1  no route',
    ]);
    expect(dry.stdout).toContain('dry run: 4 event(s), 3 would be delivered, 1 match no route, 0 skipped; nothing was queued');
    const audit = await runCli(['replay', '-c', cfg, '--from', join(dir, 'events.jsonl'), '--dry-run', '--route', 'audit']);
    expect(audit.stdout).toContain('events.jsonl:1  moments:moment:m1  audit → hooks');
    expect((await runCli(['replay', '-c', cfg, '--from', join(dir, 'events.jsonl'), '--dry-run', '--route', 'nope'])).stderr).toContain(
      'no route named "nope" (routes: alerts, audit)',
    );
  });

  it('--json prints one document: the counts, and with --dry-run each decision', async () => {
    const cfg = join(dir, 'json.yaml');
    writeFileSync(
      cfg,
      `redis: { url: "${redis.url}", keyPrefix: rj }\nconnectors:\n  hooks: { type: webhook, url: "${sink.url}", allowPrivateNetworks: true }\n${ROUTES}`,
    );
    const dry = await runCli(['replay', '-c', cfg, '--from', join(dir, 'events.jsonl'), '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({
      command: 'replay',
      dryRun: true,
      events: 4,
      enqueued: 0,
      duplicates: 0,
      noDelivery: 1,
      invalid: 0,
      filtered: 0,
      decisions: [
        { where: 'events.jsonl:1', eventId: 'moments:moment:m1', deliveries: [{ route: 'alerts', connector: 'hooks' }] },
        { where: 'events.jsonl:2', eventId: 'moments:moment:m2', deliveries: [{ route: 'alerts', connector: 'hooks' }] },
        { where: 'events.jsonl:4', eventId: 'moments:moment:m3', deliveries: [{ route: 'audit', connector: 'hooks' }] },
        { where: 'events.jsonl:5', eventId: 'moments:trigger.created:t1', deliveries: [] },
      ],
    });
    const real = await runCli(['replay', '-c', cfg, '--from', join(dir, 'events.jsonl'), '--json']);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toEqual({
      command: 'replay',
      dryRun: false,
      events: 4,
      enqueued: 3,
      duplicates: 0,
      noDelivery: 1,
      invalid: 0,
      filtered: 0,
    });
  });

  it('reports bad lines with file:line, replays the rest, and exits 1', async () => {
    const cfg = join(dir, 'dry.yaml');
    const res = await runCli(['replay', '-c', cfg, '--from', join(dir, 'bad.jsonl'), '--dry-run']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/bad\.jsonl:2: skipped: not JSON/);
    expect(res.stderr).toMatch(/bad\.jsonl:3: skipped: not an event \(id: .*\)/);
    expect(res.stdout).toContain('bad.jsonl:1  moments:moment:m4  alerts → hooks');
    expect(res.stderr).toContain('2 line(s) of');
    const missing = await runCli(['replay', '-c', cfg, '--from', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read');
  });

  it("with redis: embedded, finds the running daemon's Redis (replay and dlq need no --redis) and the daemon delivers", async () => {
    const cfg = join(dir, 'embedded.yaml');
    writeFileSync(
      cfg,
      `redis: { url: embedded, dataDir: ./redis-data }\nserver: { port: 0 }\nlog: { format: json }\nconnectors:\n  hooks: { type: webhook, url: "${sink.url}embedded", allowPrivateNetworks: true }\n${ROUTES}`,
    );
    const daemon = startCli(['run', '-c', cfg]);
    running.push(daemon);
    await daemon.waitFor('moments-bridge running');
    const embeddedHits = () => sink.received.filter((r) => r.path === '/embedded').length;

    const replay = await runCli(['replay', '-c', cfg, '--from', join(dir, 'events.jsonl')]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('3 deliveries enqueued');
    await until('the daemon delivered the replayed events', () => embeddedHits() === 3);
    const again = await runCli(['replay', '-c', cfg, '--from', join(dir, 'events.jsonl')]);
    expect(again.stdout).toContain('0 deliveries enqueued, 3 already queued or delivered');

    const dlq = await runCli(['dlq', 'list', '-c', cfg]);
    expect(dlq.code).toBe(0);
    expect(dlq.stdout).toContain('no dead letters');
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    expect(embeddedHits()).toBe(3);
  });
});

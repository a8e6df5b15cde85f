import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';
import { silentLogger } from '../../src/core/log.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { freePort } from '../../src/redis/embedded-redis.js';
import { keySlot } from '../../src/redis/key-slot.js';
import { queueName } from '../../src/queue/queue-names.js';
import { scanKeys } from '../../src/redis/scan-keys.js';
import { startMomentsSimulator, type MomentsSimulator } from '../../simulators/moments/moments-simulator.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../simulators/sinks/webhook/webhook-receiver.js';
import { runCli, startCli, stopCli } from '../helpers/cli.js';
import { startTestRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { until } from '../helpers/until.js';

// The daemon and the CLI on a real Redis Cluster (3 masters, 3 replicas) configured as
// `redis.cluster: [seed urls]`: moments flow from the simulator to three webhook connectors whose
// queues sit on three different masters; dead letters on every master are found by `dlq` (SCAN on
// each master), re-driven, and counted by `status`; every key of one queue or one source lives in
// one slot, so no script or transaction is refused with CROSSSLOT.

let cluster: TestRedisCluster;
let sim: MomentsSimulator;
let hook: WebhookReceiver;
let dir: string;
/** Three connector names whose queues hash to three different masters. */
let spread: string[];

beforeAll(async () => {
  cluster = await startTestRedisCluster();
  sim = await startMomentsSimulator({ schema: 'vendor' });
  hook = await startWebhookReceiver();
  dir = mkdtempSync(join(tmpdir(), 'mb-cluster-daemon-'));
  const c = cluster.client();
  const ranges = await c.cluster('SLOTS');
  const ownerOf = (key: string) => ranges.find(([from, to]) => keySlot(key) >= from && keySlot(key) <= to)![2]![1];
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < 3; i++) {
    const name = `sink${i}`;
    const owner = ownerOf(`mb:${queueName(name, { cluster: true })}:meta`);
    if (!byMaster.has(owner)) byMaster.set(owner, name);
  }
  spread = [...byMaster.values()];
}, 60_000);

afterAll(async () => {
  await hook?.stop();
  await sim?.stop();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(port: number): string {
  const file = join(dir, 'config.yaml');
  const config = {
    redis: { cluster: cluster.urls, keyPrefix: 'mb' },
    server: { enabled: true, host: '127.0.0.1', port, adminToken: 'cluster-admin-token' },
    log: { level: 'warn', format: 'json' },
    sources: {
      moments: {
        type: 'moments',
        cognitoEndpoint: sim.cognitoEndpoint,
        graphqlUrl: sim.graphqlUrl,
        clientId: 'sim-client',
        username: 'demo',
        password: 'demo-password',
        reconnect: { initialDelay: '100ms', maxDelay: '500ms' },
      },
    },
    connectors: Object.fromEntries(spread.map((name) => [name, { type: 'webhook', url: `${hook.url}?to=${name}`, allowPrivateNetworks: true }])),
    routes: [{ name: 'all-moments', match: { kind: 'moment' }, to: spread }],
  };
  writeFileSync(file, stringify(config));
  return file;
}

describe('the daemon and the CLI on a Redis Cluster (redis.cluster: [seeds])', () => {
  it('delivers every moment to three connectors on three masters; dlq, status and the dashboard see the dead letters of every master; replay, check --online and tap work through the cluster', async () => {
    expect(new Set(spread.map((n) => keySlot(`mb:${queueName(n, { cluster: true })}:meta`))).size).toBe(3);
    const port = await freePort();
    const file = writeConfig(port);
    const daemon = await Daemon.start({ loaded: await loadValidatedConfig(file), logger: silentLogger() });
    try {
      const created: string[] = [];
      for (let i = 0; i < 20; i++) created.push(sim.control.createMoment({ athleteId: i % 5 }).publicId);
      await until(() => hook.received.length >= 60, 30_000, '60 webhooks');
      for (const name of spread) {
        const got = hook.received.filter((w) => w.search === `?to=${name}`).map((w) => (w.body as { data: { publicId: string } }).data.publicId);
        expect(new Set(got)).toEqual(new Set(created));
        expect(got).toHaveLength(20);
      }

      // The source's state is hash-tagged by source: one slot for its cursor and seen set.
      const c = cluster.client();
      const sourceKeys = await scanKeys(c, 'mb:source:*');
      expect(sourceKeys.length).toBeGreaterThan(0);
      for (const key of sourceKeys) expect(key.startsWith('mb:source:{moments}:')).toBe(true);

      // replay through the cluster: queued once on every connector's master, a second run all duplicates.
      const events = join(dir, 'events.jsonl');
      writeFileSync(
        events,
        ['r1', 'r2']
          .map((id) => JSON.stringify({ id: `replayed:${id}`, source: 'moments', kind: 'moment', time: new Date().toISOString(), data: { publicId: id } }))
          .join('\n') + '\n',
      );
      const replayed = await runCli(['replay', '-c', file, '--from', events, '--json']);
      expect(replayed.code).toBe(0);
      expect(JSON.parse(replayed.stdout)).toMatchObject({ enqueued: 6, duplicates: 0 });
      await until(
        () => hook.received.filter((w) => ['r1', 'r2'].includes((w.body as { data: { publicId: string } }).data.publicId)).length === 6,
        30_000,
        'the replayed deliveries',
      );
      expect(JSON.parse((await runCli(['replay', '-c', file, '--from', events, '--json'])).stdout)).toMatchObject({ enqueued: 0, duplicates: 6 });

      // One dead letter per connector, each on its own master.
      hook.injectStatus(400, 3);
      const bad = sim.control.createMoment({ athleteId: 1 }).publicId;
      await until(
        async () => {
          const res = await runCli(['dlq', 'list', '-c', file, '--json']);
          return res.code === 0 && (JSON.parse(res.stdout) as { total: number }).total === 3;
        },
        30_000,
        'three dead letters',
      );
      const list = JSON.parse((await runCli(['dlq', 'list', '-c', file, '--json'])).stdout) as { total: number; counts: Record<string, number> };
      expect(list.counts).toEqual(Object.fromEntries(spread.map((n) => [n, 1])));

      const status = JSON.parse((await runCli(['status', '--url', `http://127.0.0.1:${port}`, '--json'])).stdout) as {
        redisUp: boolean;
        connectors: { name: string; depth: { failed: number } }[];
      };
      expect(status.redisUp).toBe(true);
      expect(Object.fromEntries(status.connectors.map((x) => [x.name, x.depth.failed]))).toEqual(Object.fromEntries(spread.map((n) => [n, 1])));

      // The queue dashboard reads the queues on their masters: each shows its dead letter.
      const dash = await fetch(`http://127.0.0.1:${port}/admin/queues/api/queues?status=failed`, { headers: { authorization: 'Bearer cluster-admin-token' } });
      expect(dash.status).toBe(200);
      const shown = ((await dash.json()) as { queues: { displayName?: string; name: string; counts: { failed: number } }[] }).queues;
      expect(Object.fromEntries(shown.map((q) => [q.displayName ?? q.name, q.counts.failed]))).toEqual(Object.fromEntries(spread.map((n) => [n, 1])));

      // check --online connects to the cluster and reports its state.
      const online = await runCli(['check', '--online', '-c', file]);
      expect(online.stdout).toMatch(/ok\s+redis\s+cluster redis:\/\/127\.0\.0\.1:\d+.*: connected \(Redis [\d.]+\), cluster_state ok, 3 master\(s\)/);

      // tap: the subscriber sits on one node, the daemon publishes on another (a cluster forwards PUBLISH to every node).
      const tap = startCli(['tap', '-c', file, '--json', '--kind', 'moment']);
      try {
        await tap.waitFor(/"type":"hello"/);
        sim.control.createMoment({ athleteId: 2 });
        // The moment accepted by the daemon, then a delivery attempt of that moment, seen through the cluster
        // (attempts of earlier moments may arrive first: they are not what this waits for).
        await tap.waitFor(/"type":"event"/);
        const records = () =>
          tap
            .output()
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as { type: string; id?: string; eventId?: string });
        const event = records().find((r) => r.type === 'event')!;
        await until(() => records().some((r) => r.type === 'attempt' && r.eventId === event.id), 20_000, 'a tapped attempt of the tapped moment');
      } finally {
        await stopCli(tap);
      }

      // Re-driven from every master: each connector gets the moment once more, now accepted.
      const retry = await runCli(['dlq', 'retry', '--all', '-c', file]);
      expect(retry.code).toBe(0);
      await until(
        () => hook.received.filter((w) => w.status === 204 && (w.body as { data: { publicId: string } }).data.publicId === bad).length === 3,
        30_000,
        'the re-driven deliveries',
      );
      const after = JSON.parse((await runCli(['dlq', 'list', '-c', file, '--json'])).stdout) as { total: number };
      expect(after.total).toBe(0);
    } finally {
      await daemon.stop();
    }
  }, 120_000);

  it('keySlot computes the slot the cluster itself computes (hash tags included)', async () => {
    const c = cluster.client();
    for (const key of ['mb:{delivery.hooks}:meta', 'mb:source:{moments}:cursor', 'plain', '{}empty-tag', 'a{b}c{d}', 'ünïcode{é}']) {
      expect(keySlot(key)).toBe(await c.cluster('KEYSLOT', key));
    }
  });
});

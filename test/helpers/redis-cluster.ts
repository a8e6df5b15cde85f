import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { freePort } from '../../src/redis/embedded-redis.js';
import { until } from './until.js';

export interface ClusterNode {
  port: number;
  /** The redis-server process (null once killed). */
  process: ChildProcess | null;
}

export interface TestRedisCluster {
  /** Seed URLs, one per node: `redis://127.0.0.1:<port>`. */
  urls: string[];
  nodes: ClusterNode[];
  /** A new ioredis Cluster client (closed by stop()). */
  client(): Cluster;
  /** Ports of the nodes that are masters now, as the cluster sees itself. */
  masters(): Promise<number[]>;
  /** FLUSHALL on every master (replicas follow). */
  flush(): Promise<void>;
  /** SIGKILLs one node: a master's replica is promoted after cluster-node-timeout. */
  kill(port: number): void;
  /** Resolves once the killed master on `port` is replaced: `masters` masters again, none of them `port`, and the cluster healthy. */
  failedOver(port: number, timeoutMs?: number): Promise<void>;
  /** Resolves once every live node reports `cluster_state:ok`, `masters` masters hold all slots and every live replica is in sync. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Polls until `check` holds; a check that throws (a node not up yet) counts as not yet. */
function settled(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  return until(() => check().catch(() => false), timeoutMs, `redis cluster: ${what}`);
}

async function ask<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/**
 * A real Redis Cluster on loopback from Debian's redis-server: `masters` masters with one replica
 * each (`redis-cli --cluster create … --cluster-replicas 1`; `replicasPerMaster: 0` for none), in a
 * temp dir, no persistence. A
 * short cluster-node-timeout makes fail-over tests take seconds. One per test file:
 * `const cluster = await startTestRedisCluster()` in beforeAll, `await cluster.stop()` in afterAll.
 */
export async function startTestRedisCluster(options: { masters?: number; replicasPerMaster?: 0 | 1; nodeTimeoutMs?: number } = {}): Promise<TestRedisCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 1;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const dir = mkdtempSync(join(tmpdir(), 'mb-redis-cluster-'));
  const nodes: ClusterNode[] = [];
  const clients: Cluster[] = [];
  const stop = async (): Promise<void> => {
    for (const c of clients) c.disconnect();
    await Promise.all(
      nodes.map(
        (n) =>
          new Promise<void>((resolve) => {
            const p = n.process;
            if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
      const port = await freePort();
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          '--save',
          '',
          '--appendonly',
          'no',
          // Replicas sync at once: a replica that never synced does not stand for election.
          '--repl-diskless-sync-delay',
          '0',
          '--daemonize',
          'no',
        ],
        { stdio: 'ignore' },
      );
      nodes.push({ port, process: child });
    }
    for (const n of nodes) await settled(async () => (await ask(n.port, (r) => r.ping())) === 'PONG', 10_000, `node ${n.port} did not answer PING`);
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (exit ${create.status}): ${create.stdout}${create.stderr}`);
  } catch (err) {
    await stop();
    throw err;
  }

  const liveNodes = () => nodes.filter((n) => n.process !== null);
  const cluster: TestRedisCluster = {
    urls: nodes.map((n) => `redis://127.0.0.1:${n.port}`),
    nodes,
    client() {
      const c = new Cluster(
        liveNodes().map((n) => ({ host: '127.0.0.1', port: n.port })),
        { redisOptions: { maxRetriesPerRequest: null }, clusterRetryStrategy: (times) => Math.min(100 * times, 1_000) },
      );
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    async masters() {
      const [seed] = liveNodes();
      const text = await ask(seed!.port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
      // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>…: a master that is not failing and holds slots.
      return text
        .split('\n')
        .map((l) => l.split(' '))
        .filter((f) => {
          const flags = (f[2] ?? '').split(',');
          return flags.includes('master') && !flags.some((x) => x.startsWith('fail')) && f.length > 8;
        })
        .map((f) => Number(/:(\d+)@/.exec(f[1]!)![1]))
        .sort((a, b) => a - b);
    },
    async flush() {
      for (const port of await cluster.masters()) await ask(port, (r) => r.flushall());
    },
    kill(port) {
      const n = nodes.find((x) => x.port === port);
      if (!n?.process) throw new Error(`no live node on port ${port}`);
      n.process.kill('SIGKILL');
      n.process = null;
    },
    async healthy(timeoutMs = 30_000) {
      await settled(
        async () => {
          for (const n of liveNodes()) {
            const info = await ask(n.port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>);
            if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
          }
          for (const n of liveNodes()) {
            const info = await ask(n.port, (r) => r.info('replication'));
            if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
          }
          // Every live node's slot map lists every live node (the replicas too: clients learn them from it).
          const live = liveNodes()
            .map((n) => n.port)
            .sort((a, b) => a - b);
          for (const n of liveNodes()) {
            const ranges = await ask(n.port, (r) => r.call('CLUSTER', 'SLOTS') as Promise<[number, number, ...[string, number][]][]>);
            const listed = [...new Set(ranges.flatMap(([, , ...holders]) => holders.map((h) => Number(h[1]))))].sort((a, b) => a - b);
            if (listed.join() !== live.join()) return false;
          }
          return (await cluster.masters()).length === masters;
        },
        timeoutMs,
        `cluster not healthy (state ok, 16384 slots, ${masters} masters, replicas in sync and in every node's slot map)`,
      );
    },
    async failedOver(port, timeoutMs = 30_000) {
      await settled(async () => !(await cluster.masters()).includes(port), timeoutMs, `no fail-over of the master on ${port}`);
      await cluster.healthy(timeoutMs);
    },
    stop,
  };
  try {
    await cluster.healthy();
  } catch (err) {
    await stop();
    throw err;
  }
  return cluster;
}

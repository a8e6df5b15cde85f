import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { queueName } from '../../src/queue/queue-names.js';
import { baseUrl, startDaemon, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const TOKEN = 'dash-writes-token-91c2';
let redis: TestRedis;
let connection: Redis;
const daemons: Daemon[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  process.env.MB_TEST_WRITES_TOKEN = TOKEN;
}, 60_000);

afterAll(async () => {
  for (const d of daemons) await d.stop();
  await connection?.quit();
  await redis?.stop();
});

/** A daemon whose only queue holds one delayed job (so no worker touches it during the test). */
async function dashboard(keyPrefix: string, dashboardBlock: string): Promise<{ base: string; queue: Queue; jobId: string }> {
  const daemon = await startDaemon(
    writeConfig(`
redis: { url: "${redis.url}", keyPrefix: ${keyPrefix} }
server: { port: 0, adminToken: "\${MB_TEST_WRITES_TOKEN}"${dashboardBlock} }
connectors:
  hooks: { type: webhook, url: "http://127.0.0.1:9/hook", allowPrivateNetworks: true }
`),
  );
  daemons.push(daemon);
  const queue = new Queue(queueName('hooks'), { connection, prefix: keyPrefix });
  const job = await queue.add('delivery', { url: 'http://127.0.0.1:9/original' }, { delay: 3_600_000 });
  return { base: `${baseUrl(daemon)}/admin/queues/api/queues/${encodeURIComponent(queue.name)}`, queue, jobId: job.id! };
}

function call(url: string, method: string, body?: unknown): Promise<Response> {
  return fetch(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const EVIL = { url: 'http://169.254.169.254/latest/meta-data/' };

describe('queue dashboard write actions', () => {
  it('is read-only by default: adding a job and editing job data are refused, nothing changes', async () => {
    const { base, queue, jobId } = await dashboard('dashro', '');
    const add = await call(`${base}/add`, 'POST', { name: 'delivery', data: EVIL, options: {} });
    expect(add.status).toBe(403);
    expect(await add.text()).toContain('server.dashboard.writable');
    const edit = await call(`${base}/${jobId}/update-data`, 'PATCH', { jobData: EVIL });
    expect(edit.status).toBe(403);
    const promote = await call(`${base}/${jobId}/promote`, 'PUT');
    expect(promote.status).toBe(403);
    expect(await queue.count()).toBe(1);
    expect((await queue.getJob(jobId))!.data).toEqual({ url: 'http://127.0.0.1:9/original' });
    // Reading still works, and the dashboard's UI is told it is read-only (no write buttons).
    const list = await call(`${baseUrl(daemons.at(-1)!)}/admin/queues/api/queues`, 'GET');
    expect(list.status).toBe(200);
    const queues = ((await list.json()) as { queues: { readOnlyMode: boolean }[] }).queues;
    expect(queues.map((q) => q.readOnlyMode)).toEqual([true]);
    await queue.close();
  }, 60_000);

  it('allows adding a job and editing job data with server.dashboard.writable: true', async () => {
    const { base, queue, jobId } = await dashboard('dashrw', ', dashboard: { writable: true }');
    const edit = await call(`${base}/${jobId}/update-data`, 'PATCH', { jobData: { url: 'http://127.0.0.1:9/edited' } });
    expect(edit.status).toBe(200);
    expect((await queue.getJob(jobId))!.data).toEqual({ url: 'http://127.0.0.1:9/edited' });
    const add = await call(`${base}/add`, 'POST', { name: 'delivery', data: { url: 'http://127.0.0.1:9/added' }, options: { delay: 3_600_000 } });
    expect(add.status).toBe(200);
    expect(await queue.count()).toBe(2);
    await queue.close();
  }, 60_000);
});

/**
 * The baseline every queue figure is compared with: plain BullMQ, `Queue.addBulk` in chunks and a
 * no-op `Worker`, with the bridge's completed-job retention. `overlap: true` runs the worker while
 * jobs are added (the end-to-end shape); otherwise adding and processing are timed apart.
 */
import { Queue, Worker, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { rate, waitFor } from './measure.js';

export interface RawBullmqOptions {
  jobs: number;
  concurrency: number;
  prefix: string;
  /** Job data for job i (the same shape the bridge queues). */
  data: (i: number) => unknown;
  overlap?: boolean;
  chunk?: number;
  /** Options of job i (default none). */
  jobOptions?: (i: number) => JobsOptions;
  /** Worker rate limiter (default none). */
  limiter?: { max: number; duration: number };
  /** Default job options of the queue. */
  defaultJobOptions?: JobsOptions;
}

export interface RawBullmqResult {
  enqueuePerSec: number;
  processPerSec: number;
  /** First add → last completion. */
  endToEndPerSec: number;
}

export const DEFAULT_RETENTION = { count: 1000, age: 3600 };

export async function rawBullmq(url: string, o: RawBullmqOptions): Promise<RawBullmqResult> {
  const chunk = o.chunk ?? 1000;
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix: o.prefix, ...(o.defaultJobOptions ? { defaultJobOptions: o.defaultJobOptions } : {}) });
  let done = 0;
  const startWorker = () => {
    const w = new Worker('raw', async () => undefined, {
      connection,
      prefix: o.prefix,
      concurrency: o.concurrency,
      removeOnComplete: DEFAULT_RETENTION,
      ...(o.limiter ? { limiter: o.limiter } : {}),
    });
    w.on('completed', () => done++);
    return w;
  };
  const t0 = performance.now();
  const early = o.overlap ? startWorker() : undefined;
  for (let i = 0; i < o.jobs; i += chunk) {
    await queue.addBulk(
      Array.from({ length: Math.min(chunk, o.jobs - i) }, (_, k) => ({
        name: 'd',
        data: o.data(i + k),
        ...(o.jobOptions ? { opts: o.jobOptions(i + k) } : {}),
      })),
    );
  }
  const enqueueMs = performance.now() - t0;
  const t1 = performance.now();
  const worker = early ?? startWorker();
  await waitFor(() => done >= o.jobs, 600_000, `${o.jobs} raw BullMQ jobs`);
  const t2 = performance.now();
  await worker.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  connection.disconnect();
  return { enqueuePerSec: rate(o.jobs, enqueueMs), processPerSec: rate(o.jobs, t2 - t1), endToEndPerSec: rate(o.jobs, t2 - t0) };
}

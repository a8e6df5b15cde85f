import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { UNLIMITED_RATE_MAX } from '../queue/delivery-worker.js';
import { isAuthorized } from './admin-auth.js';

export const DASHBOARD_PATH = '/admin/queues';

export interface QueueDashboardOptions {
  /** `server.adminToken`: Bearer token, or the password of HTTP Basic. */
  token: string;
  /** Connector name → its BullMQ queue and configured rate limit. */
  queues: ReadonlyMap<string, DashboardQueue>;
  /** Mount path. @defaultValue /admin/queues */
  basePath?: string;
  /**
   * `server.dashboard.writable`: let the dashboard add, edit, retry, clean and pause jobs and
   * queues. Off, it is a read-only view. @defaultValue false
   */
  writable?: boolean;
}

/** One connector's queue as the dashboard shows it. */
export interface DashboardQueue {
  queue: Queue;
  /** The rate limit this queue's worker applies (a partition's share of the connector's); unset when it has none. */
  rateLimit?: { max: number; durationMs: number };
  /** Set when the connector has several partition queues: which one this is. */
  partition?: { connector: string; index: number; of: number };
}

/** Methods a read-only dashboard answers: its pages and JSON API only read. */
const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The bull-board dashboard behind the admin token, as a handler for the ops server's `extra`
 * hook. bull-board's Hono adapter is used through @hono/node-server's request listener: both are
 * dependency-free, so the dashboard adds no web framework to a plain node:http server.
 */
export class QueueDashboard {
  private readonly basePath: string;
  private readonly listener: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  private readonly board: ReturnType<typeof createBullBoard>;

  private readonly writable: boolean;

  constructor(private readonly options: QueueDashboardOptions) {
    this.basePath = options.basePath ?? DASHBOARD_PATH;
    this.writable = options.writable ?? false;
    const adapter = new HonoAdapter(serveStatic).setBasePath(this.basePath);
    this.board = createBullBoard({
      queues: adapters(options.queues, this.writable),
      serverAdapter: adapter,
      options: { uiConfig: { boardTitle: 'moments-bridge' } },
    });
    const app = new Hono().route(this.basePath, adapter.registerPlugin());
    this.listener = getRequestListener(app.fetch);
  }

  /** Shows these queues from now on (after a hot reload). */
  setQueues(queues: ReadonlyMap<string, DashboardQueue>): void {
    this.board.replaceQueues(adapters(queues, this.writable));
  }

  /** Handles requests under the base path; false for anything else. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== this.basePath && !path.startsWith(`${this.basePath}/`)) return false;
    if (!isAuthorized(req, this.options.token)) {
      res
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="moments-bridge", charset="UTF-8"' })
        .end('401 unauthorized: send "Authorization: Bearer <server.adminToken>" (or HTTP Basic with the token as password)\n');
      return true;
    }
    // bull-board's readOnlyMode hides the buttons and refuses its queue actions; refusing every
    // write method here as well covers routes it does not gate (and any a later version adds).
    if (!this.writable && !READ_METHODS.has(req.method ?? 'GET')) {
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end(
          '403 the queue dashboard is read-only: set server.dashboard.writable: true to add, edit, retry or clean jobs from it (or use `moments-bridge dlq retry|purge`)\n',
        );
      return true;
    }
    await this.listener(req, res);
    return true;
  }
}

/**
 * Shows a queue as rate limited only while a limit actually holds it back. Every worker has a
 * limiter (a stand-in of UNLIMITED_RATE_MAX per second when none is configured, so that a sink's
 * Retry-After can pause the queue), and BullMQ's limiter key lives for the window after every
 * job: asked without a bound, BullMQ reports each busy queue as "rate limited 1s". With the bound
 * it reports the key's TTL only once the count reached it — the configured `rateLimit.max`, or a
 * Retry-After pause (BullMQ sets the count to MAX_SAFE_INTEGER, above any bound).
 */
class ConnectorQueueAdapter extends BullMQAdapter {
  constructor(
    private readonly bullQueue: Queue,
    private readonly rateLimitMax: number,
    options: ConstructorParameters<typeof BullMQAdapter>[1],
  ) {
    super(bullQueue, options);
  }

  override async getActiveRateLimitTtl(): Promise<number> {
    const ttl = await this.bullQueue.getRateLimitTtl(this.rateLimitMax);
    return ttl > 0 ? ttl : 0;
  }
}

function adapters(queues: ReadonlyMap<string, DashboardQueue>, writable: boolean): BullMQAdapter[] {
  return [...queues].map(
    ([connector, q]) =>
      new ConnectorQueueAdapter(q.queue, q.rateLimit?.max ?? UNLIMITED_RATE_MAX, {
        displayName: connector,
        description: `deliveries to connector "${q.partition?.connector ?? connector}"${q.partition ? `, partition ${q.partition.index} (${q.partition.of} served)` : ''}${q.rateLimit ? ` (rate limit: ${q.rateLimit.max} per ${q.rateLimit.durationMs} ms)` : ''}`,
        readOnlyMode: !writable,
      }),
  );
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { getRequestListener } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { isAuthorized } from './admin-auth.js';

export const DASHBOARD_PATH = '/admin/queues';

export interface QueueDashboardOptions {
  /** `server.adminToken`: Bearer token, or the password of HTTP Basic. */
  token: string;
  /** Connector name → its BullMQ queue. */
  queues: ReadonlyMap<string, Queue>;
  /** Mount path. @defaultValue /admin/queues */
  basePath?: string;
}

/**
 * The bull-board dashboard behind the admin token, as a handler for the ops server's `extra`
 * hook. bull-board's Hono adapter is used through @hono/node-server's request listener: both are
 * dependency-free, so the dashboard adds no web framework to a plain node:http server.
 */
export class QueueDashboard {
  private readonly basePath: string;
  private readonly listener: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  private readonly board: ReturnType<typeof createBullBoard>;

  constructor(private readonly options: QueueDashboardOptions) {
    this.basePath = options.basePath ?? DASHBOARD_PATH;
    const adapter = new HonoAdapter(serveStatic).setBasePath(this.basePath);
    this.board = createBullBoard({
      queues: adapters(options.queues),
      serverAdapter: adapter,
      options: { uiConfig: { boardTitle: 'moments-bridge' } },
    });
    const app = new Hono().route(this.basePath, adapter.registerPlugin());
    this.listener = getRequestListener(app.fetch);
  }

  /** Shows these queues from now on (after a hot reload). */
  setQueues(queues: ReadonlyMap<string, Queue>): void {
    this.board.replaceQueues(adapters(queues));
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
    await this.listener(req, res);
    return true;
  }
}

function adapters(queues: ReadonlyMap<string, Queue>): BullMQAdapter[] {
  return [...queues].map(([connector, q]) => new BullMQAdapter(q, { displayName: connector, description: `deliveries to connector "${connector}"` }));
}

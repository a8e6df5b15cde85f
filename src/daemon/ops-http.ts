import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BridgeConfig } from '../config/schema.js';
import { OpsServer, type Readiness } from '../http/ops-server.js';
import { DASHBOARD_PATH, QueueDashboard } from '../http/queue-dashboard.js';
import { RELOAD_PATH, ReloadEndpoint, type ReloadReport } from '../http/reload-endpoint.js';
import type { Logger } from '../core/log.js';
import type { DeliveryQueues } from '../queue/delivery-queues.js';

export interface OpsHttpOptions {
  server: BridgeConfig['server'];
  logger: Logger;
  /** The queues the dashboard shows. */
  queues: DeliveryQueues;
  /** `server.adminToken` now: a reload may change it. */
  adminToken: () => string | undefined;
  /** What `POST /-/reload` runs. */
  reload: () => Promise<ReloadReport>;
  readiness: () => Promise<Readiness>;
  /** Refreshes the gauges read from other components before a scrape. Must not throw. */
  beforeMetrics: () => Promise<void>;
}

/**
 * The daemon's HTTP side: the ops server (`/healthz`, `/readyz`, `/metrics`) with the reload
 * endpoint and the queue dashboard (both behind `server.adminToken`) mounted on it.
 */
export class OpsHttp {
  private readonly server: OpsServer;
  private dashboard: QueueDashboard | undefined;

  private constructor(options: OpsHttpOptions) {
    this.dashboard = createDashboard(options.server, options.queues);
    const reloadEndpoint = new ReloadEndpoint({ token: options.adminToken, reload: options.reload });
    this.server = new OpsServer({
      host: options.server.host,
      port: options.server.port,
      logger: options.logger,
      readiness: options.readiness,
      beforeMetrics: options.beforeMetrics,
      extra: async (req, res) => (await reloadEndpoint.handle(req, res)) || this.serveDashboard(req, res),
    });
  }

  static async start(options: OpsHttpOptions): Promise<OpsHttp> {
    const http = new OpsHttp(options);
    await http.server.start();
    const a = http.address;
    const admin = http.dashboard ? ` ${DASHBOARD_PATH} ${RELOAD_PATH} (admin token)` : '';
    options.logger.info({ component: 'http', host: a.host, port: a.port }, `http: /healthz /readyz /metrics${admin} on http://${a.host}:${a.port}`);
    return http;
  }

  get address(): { host: string; port: number } {
    return this.server.address;
  }

  /** After a reload: the dashboard shows the new queues, and is rebuilt if its token or settings changed. */
  reloaded(prev: BridgeConfig['server'], next: BridgeConfig['server'], queues: DeliveryQueues): void {
    this.dashboard?.setQueues(queues.dashboardQueues());
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(prev.adminToken, next.adminToken) || !same(prev.dashboard, next.dashboard)) this.dashboard = createDashboard(next, queues);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  private async serveDashboard(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (this.dashboard) return this.dashboard.handle(req, res);
    const path = (req.url ?? '/').split('?')[0]!;
    if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false;
    res.writeHead(404, { 'content-type': 'text/plain' }).end('the queue dashboard is off: set server.adminToken to turn it on\n');
    return true;
  }
}

function createDashboard(server: BridgeConfig['server'], queues: DeliveryQueues): QueueDashboard | undefined {
  const token = server.adminToken;
  if (!token) return undefined;
  return new QueueDashboard({ token, queues: queues.dashboardQueues(), writable: server.dashboard.writable });
}

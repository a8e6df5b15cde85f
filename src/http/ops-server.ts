import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/log.js';
import { registry } from '../core/metrics.js';

export interface Readiness {
  ready: boolean;
  /** One line per failing check, e.g. `source moments: no progress for 95 s with 12 items waiting`. */
  reasons?: string[];
  checks: Record<string, { ok: boolean; reason?: string; detail?: unknown }>;
}

export interface OpsServerOptions {
  host: string;
  port: number;
  logger: Logger;
  readiness: () => Promise<Readiness>;
  /** Extra routes (e.g. the queue dashboard); return true when handled. */
  extra?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;
  /** Refreshes gauges read from elsewhere (queue depth, source state) before a scrape. Must not throw. */
  beforeMetrics?: () => Promise<void>;
}

/** `/healthz` (process up), `/readyz` (JSON detail, 503 when not ready), `/metrics` (Prometheus). */
export class OpsServer {
  private server: Server | undefined;

  constructor(private readonly options: OpsServerOptions) {}

  get address(): { host: string; port: number } {
    const addr = this.server?.address() as AddressInfo | null;
    return { host: this.options.host, port: addr?.port ?? this.options.port };
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.options.logger.error({ err, url: req.url }, 'ops server request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}\n');
      return;
    }
    if (path === '/readyz') {
      const r = await this.options.readiness();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(r) + '\n');
      return;
    }
    if (path === '/metrics') {
      await this.options.beforeMetrics?.();
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(body);
      return;
    }
    if (this.options.extra && (await this.options.extra(req, res))) return;
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
}

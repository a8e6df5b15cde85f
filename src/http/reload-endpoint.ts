import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAuthorized } from './admin-auth.js';

export const RELOAD_PATH = '/-/reload';

/** What a reload answered, as the daemon reports it (see Daemon.reload). */
export interface ReloadReport {
  ok: boolean;
  outcome: 'applied' | 'rejected' | 'failed' | 'stopping';
  errors: string[];
  changes: string[];
  needsRestart: string[];
}

export interface ReloadEndpointOptions {
  /** `server.adminToken` now (a reload may change it); undefined turns the endpoint off. */
  token: () => string | undefined;
  /** The same reload SIGHUP and `run --watch` trigger. */
  reload: () => Promise<ReloadReport>;
}

/** HTTP status per outcome: scripts can tell "fix the file" from "the bridge could not apply it". */
const STATUS: Record<ReloadReport['outcome'], number> = { applied: 200, rejected: 422, failed: 500, stopping: 503 };

/**
 * `POST /-/reload`, as in Alertmanager and Prometheus: re-reads the config file and answers with
 * the outcome as JSON. Gated by the admin token, and only as `Authorization: Bearer`: a browser
 * replays the dashboard's HTTP Basic login on its own, so accepting Basic here would let any page
 * the operator visits trigger a reload (cross-site request forgery).
 */
export class ReloadEndpoint {
  constructor(private readonly options: ReloadEndpointOptions) {}

  /** Handles RELOAD_PATH; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== RELOAD_PATH) return false;
    const token = this.options.token();
    if (token === undefined) {
      text(res, 404, `${RELOAD_PATH} is off: set server.adminToken to turn it on (or send SIGHUP to the daemon)\n`);
      return true;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      text(res, 405, `${RELOAD_PATH} takes POST: curl -X POST -H "Authorization: Bearer $TOKEN" http://<host>:<port>${RELOAD_PATH}\n`);
      return true;
    }
    if (!/^bearer /i.test(req.headers.authorization ?? '') || !isAuthorized(req, token)) {
      res.setHeader('www-authenticate', 'Bearer realm="moments-bridge"');
      text(res, 401, `401 unauthorized: send "Authorization: Bearer <server.adminToken>"\n`);
      return true;
    }
    // The body is not used; drain it so the connection can be reused.
    req.resume();
    const report = await this.options.reload();
    res.writeHead(STATUS[report.outcome], { 'content-type': 'application/json' }).end(JSON.stringify(report) + '\n');
    return true;
  }
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}

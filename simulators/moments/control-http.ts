import type { ServerResponse } from 'node:http';
import { json } from './http-io.js';
import type { GeneratorOptions } from './moment-generator.js';
import type { SimMomentInput, SimTrigger } from './moments-store.js';
import type { FailTarget, MomentsSimulatorControl } from './simulator-control.js';
import type { SimAppClient, SimUser } from './token-issuer.js';

/**
 * The control API over HTTP: `POST /_control/<action>` with a JSON body (values as the vendor
 * documents them: numbers and objects), `GET /_control/stats`.
 */
export function handleControlHttp(control: MomentsSimulatorControl, method: string, action: string, text: string, res: ServerResponse): void {
  if (method === 'GET' && action === 'stats') return json(res, 200, control.stats());
  if (method !== 'POST') return json(res, 405, { message: 'control actions are POST (GET /_control/stats)' });
  let body: Record<string, unknown> = {};
  if (text.trim()) {
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return json(res, 400, { message: 'control body must be JSON' });
    }
  }
  const live = body.live !== false;
  const { live: _live, ...rest } = body;
  const ok = () => json(res, 200, { ok: true });
  switch (action) {
    case 'moments': {
      const count = typeof rest.count === 'number' ? rest.count : 1;
      delete rest.count;
      const created = Array.from({ length: count }, () => control.createMoment(rest as SimMomentInput, { live }));
      return json(res, 200, count === 1 ? created[0] : created);
    }
    case 'triggers':
      return json(res, 200, control.createTrigger(rest as Partial<SimTrigger>, { live }));
    case 'triggers/update':
      return json(res, 200, control.updateTrigger(String(rest.publicId), rest as Partial<SimTrigger>, { live }));
    case 'drop-sockets':
      return json(res, 200, { dropped: control.dropSockets() });
    case 'keepalives/pause':
      control.pauseKeepAlives();
      return ok();
    case 'keepalives/resume':
      control.resumeKeepAlives();
      return ok();
    case 'fail-next': {
      const target = String(rest.target ?? 'graphql') as FailTarget;
      if (!['cognito', 'graphql', 'realtime'].includes(target)) return json(res, 400, { message: 'target must be cognito, graphql or realtime' });
      control.failNext(Number(rest.count ?? 1), target, rest.status === undefined ? 500 : Number(rest.status));
      return ok();
    }
    case 'expire-tokens':
      control.expireTokens({ refresh: rest.refresh === true });
      return ok();
    case 'users':
      if (typeof rest.username !== 'string' || typeof rest.password !== 'string')
        return json(res, 400, { message: 'a user needs "username" and "password" (optional: tenant, email, sub)' });
      control.addUser(rest as unknown as SimUser);
      return ok();
    case 'clients':
      if (typeof rest.clientId !== 'string') return json(res, 400, { message: 'a client needs "clientId" (optional: clientSecret)' });
      control.addClient(rest as unknown as SimAppClient);
      return ok();
    case 'realtime/refuse':
      control.refuseRealtime(rest.refuse !== false);
      return ok();
    case 'realtime/send-raw':
      control.sendRaw(String(rest.text ?? ''));
      return ok();
    case 'realtime/connection-error':
      control.sendConnectionError(typeof rest.errorType === 'string' ? rest.errorType : undefined);
      return ok();
    case 'generator/start':
      control.startGenerator(rest as GeneratorOptions);
      return ok();
    case 'peaks/reset':
      control.resetPeaks();
      return ok();
    case 'generator/stop':
      control.stopGenerator();
      return ok();
    default:
      return json(res, 404, { message: `unknown control action "${action}"` });
  }
}

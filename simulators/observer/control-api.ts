import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PushRowOptions } from './call-rows.js';
import type { MalformedKind } from './malformed-messages.js';
import type { Row } from './session.js';
import { adminControl, type SimAdmin } from './sim-admin.js';
import type { SimCall, SimClient } from './sim-store.js';

export interface SimulatorState {
  connections: number;
  authenticated: number;
  frames: Array<{ session: string; frameId: string; kind: string; stream: string }>;
  calls: SimCall[];
  requests: Record<string, number>;
  /** requestId of the last request received (shows which client implementation is talking). */
  lastRequestId: string | undefined;
}

/**
 * Control of a running simulator: the same operations in-process (tests) and over HTTP
 * (`POST /_control/<kebab-case name>` with a JSON body; `GET /_control/state`).
 */
export interface ObserverSimulatorControl {
  startCall(options?: { callId?: string; roomId?: string; clients?: number | string[] }): SimCall;
  endCall(callId: string): boolean;
  addClient(callId: string, clientId?: string): SimClient;
  removeClient(callId: string, clientId: string): boolean;
  /** One snapshot round for one call (or all ongoing calls); returns the rows pushed. */
  snapshot(callId?: string): Row[];
  /** Appends one row (defaults filled in) and pushes it to every matching frame. */
  pushRow(options: PushRowOptions): Row;
  /** Terminates every client socket; returns how many. */
  dropSockets(): number;
  /** While on, WebSocket upgrades are answered with `status` (default 503). */
  refuseConnections(on: boolean, status?: number): void;
  /** Delays the answers to the next `count` requests of `method` (any but authenticate when unset). */
  delayRequests(options: { method?: string; ms: number; count?: number }): void;
  /** Answers the next `count` requests of `method` with an error. */
  failRequests(options: { method?: string; code: string; message?: string; count?: number }): void;
  /** Stops answering pings (the connection looks alive to TCP but is dead to the protocol). */
  mutePongs(on: boolean): void;
  clearFaults(): void;
  /** Sends one malformed message to every authenticated session; returns how many got it. */
  sendMalformed(kind: MalformedKind): number;
  /** Sends one well-formed `newrow` notification of about `bytes` bytes to every authenticated session (message size limits). */
  sendOversized(bytes: number): number;
  setAccessToken(token: string): void;
  state(): SimulatorState;
  /** Workers, servers and jobs (the ObserverAdminClient side): take a worker down, fail a job, … */
  readonly admin: SimAdmin;
}

/** Answers one HTTP request of the control API (`/_control/<action>`) on the simulator's port. */
export async function serveControlHttp(control: ObserverSimulatorControl, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? null));
  };
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (!path.startsWith('/_control/')) return reply(404, { error: 'not found: use ws:// for the protocol and /_control/<action> for control' });
  const action = path.slice('/_control/'.length);
  if (req.method === 'GET' && action === 'state') return reply(200, control.state());
  if (req.method !== 'POST') return reply(405, { error: 'use POST' });
  let body: Record<string, unknown>;
  try {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch (err) {
    return reply(400, { error: `body is not JSON: ${(err as Error).message}` });
  }
  try {
    const result = runControlAction(control, action, body);
    return reply(200, result === undefined ? { ok: true } : result);
  } catch (err) {
    return reply(400, { error: (err as Error).message });
  }
}

/** One control action by its kebab-case name, with the JSON body's fields as its options. */
export function runControlAction(control: ObserverSimulatorControl, action: string, b: Record<string, unknown>): unknown {
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
  const num = (k: string) => (typeof b[k] === 'number' ? (b[k] as number) : undefined);
  switch (action) {
    case 'start-call':
      return control.startCall({ callId: str('callId'), roomId: str('roomId'), clients: (b.clients as number | string[] | undefined) ?? undefined });
    case 'end-call':
      return { ended: control.endCall(String(b.callId)) };
    case 'add-client':
      return control.addClient(String(b.callId), str('clientId'));
    case 'remove-client':
      return { removed: control.removeClient(String(b.callId), String(b.clientId)) };
    case 'snapshot':
      return { rows: control.snapshot(str('callId')) };
    case 'push-row':
      return control.pushRow(b as unknown as PushRowOptions);
    case 'drop-sockets':
      return { dropped: control.dropSockets() };
    case 'refuse-connections':
      return control.refuseConnections(b.refuse !== false, num('status'));
    case 'delay-requests':
      return control.delayRequests({ method: str('method'), ms: num('ms') ?? 1000, count: num('count') });
    case 'fail-requests':
      return control.failRequests({ method: str('method'), code: str('code') ?? 'internal', message: str('message'), count: num('count') });
    case 'mute-pongs':
      return control.mutePongs(b.mute !== false);
    case 'clear-faults':
      return control.clearFaults();
    case 'send-malformed':
      return { sent: control.sendMalformed((str('kind') ?? 'invalid-json') as MalformedKind) };
    case 'send-oversized':
      return { sent: control.sendOversized(num('bytes') ?? 32 * 1024 * 1024) };
    case 'set-access-token':
      return control.setAccessToken(String(b.accessToken));
    default: {
      const admin = adminControl(control.admin, action, b);
      if (admin.handled) return admin.result;
      throw new Error(`unknown control action "${action}"`);
    }
  }
}

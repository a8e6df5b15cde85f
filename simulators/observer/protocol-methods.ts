import { createFrameParams } from '../../src/sources/observer/observer-protocol.js';
import { ADMIN_METHODS, answerAdminRequest } from './sim-admin.js';
import { streamKey, matchesConditions, type Row, type Session, type SessionFrame } from './session.js';
import type { SimStore } from './sim-store.js';

/** A request the simulator answers with `{ type: 'error', error: { code, message } }`. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ProtocolContext {
  store: SimStore;
  /** The token `authenticate` must carry. */
  accessToken: string;
  pingIntervalMs: number;
}

/** The result of one protocol request (docs/observer-protocol.md); throws RequestError to answer with an error. */
export function answerRequest(ctx: ProtocolContext, session: Session, method: string, params: Record<string, unknown>): unknown {
  const { store } = ctx;
  if (method === 'authenticate') {
    if (params.accessToken !== ctx.accessToken) throw new RequestError('unauthorized', 'access token is missing or not valid');
    session.authenticated = true;
    return { sessionId: session.id, pingIntervalMs: ctx.pingIntervalMs };
  }
  if (!session.authenticated) throw new RequestError('unauthenticated', 'send authenticate first');
  switch (method) {
    case 'fetchOngoingCalls':
      return [...store.calls.values()].map((c) => ({ callId: c.callId, roomId: c.roomId, startedAt: c.startedAt, clients: c.clients }));
    case 'findCalls': {
      const all = [...store.calls.values(), ...store.endedCalls];
      return all.filter((c) => (params.roomId === undefined || c.roomId === params.roomId) && (params.callId === undefined || c.callId === params.callId));
    }
    case 'getSummaryStats': {
      const clients = [...store.calls.values()]
        .flatMap((c) => c.clients.map((cl) => store.streams.get(streamKey('clientSnapshots', c.callId, cl.clientId))?.at(-1)))
        .filter((r): r is Row => r !== undefined);
      const mean = (f: string) => (clients.length ? Number((clients.reduce((s, r) => s + Number(r[f] ?? 0), 0) / clients.length).toFixed(4)) : null);
      return {
        ongoingCalls: store.calls.size,
        clients: clients.length,
        avgRttMs: mean('rttMs'),
        avgJitterMs: mean('jitterMs'),
        avgPacketLoss: mean('packetLoss'),
        generatedAt: Date.now(),
        params,
      };
    }
    case 'createFrame':
      return createFrame(store, session, params);
    case 'updateFrame': {
      const frame = session.frames.get(String(params.frameId));
      if (!frame) throw new RequestError('not_found', `no frame ${String(params.frameId)} in this session`);
      return { rows: (store.streams.get(frame.stream) ?? []).filter((r) => matchesConditions(r, frame.conditions)) };
    }
    case 'closeFrame':
      return { closed: session.frames.delete(String(params.frameId)) };
    default:
      if (ADMIN_METHODS.has(method)) return answerAdminRequest(store.admin, method, params);
      throw new RequestError('unknown_method', `unknown method ${method}`);
  }
}

function createFrame(store: SimStore, session: Session, params: Record<string, unknown>): { frameId: string } {
  const parsed = createFrameParams.safeParse(params);
  if (!parsed.success) throw new RequestError('bad_request', `createFrame params: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const p = parsed.data;
  const frameId = `f-${session.id}-${store.nextSeq()}`;
  let frame: SessionFrame;
  if (p.kind === 'database') {
    frame = { frameId, kind: 'database', stream: streamKey('database', p.resourceId), conditions: p.conditions };
  } else {
    const known = store.calls.has(p.callId) || store.endedCalls.some((c) => c.callId === p.callId);
    if (!known) throw new RequestError('not_found', `no call ${p.callId}`);
    const stream = p.kind === 'callSnapshots' ? streamKey('callSnapshots', p.callId) : streamKey('clientSnapshots', p.callId, p.clientId);
    frame = { frameId, kind: p.kind, stream, callId: p.callId, conditions: {} };
  }
  session.frames.set(frameId, frame);
  return { frameId };
}

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { execute, parse, validate, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import { appSyncErrors, introspectionErrors } from './graphql-endpoint.js';
import type { SimulatorSchema } from './simulator-schema.js';
import type { TokenIssuer } from './token-issuer.js';

interface SocketSubscription {
  document: DocumentNode;
  field: string;
  variables: Record<string, unknown>;
}

interface SocketState {
  ws: WebSocket;
  initialized: boolean;
  subs: Map<string, SocketSubscription>;
  ka: NodeJS.Timeout | undefined;
}

/** Subscription arguments that narrow what a subscriber receives (AppSync's argument filtering). */
const SUBSCRIPTION_ARGS: Record<string, readonly string[]> = {
  onCreateMoment: ['athleteId', 'eventId', 'triggerPublicId'],
  onCreateTrigger: [],
  onUpdateTrigger: [],
};

export interface RealtimeOptions {
  variant: SimulatorSchema;
  introspection: boolean;
  tokens: TokenIssuer;
  connectionTimeoutMs: number;
  keepAliveIntervalMs: number;
  /** A status when the handshake must be refused (outage window or injected failure). */
  refusal: () => number | undefined;
}

function rawHttpResponse(socket: Socket, status: number, statusText: string, headers: Record<string, string>, body: string): void {
  const head = [
    `HTTP/1.1 ${status} ${statusText}`,
    ...Object.entries({ ...headers, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' }).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * The AppSync real-time WebSocket (`graphql-ws` subprotocol): connection_init → connection_ack
 * with connectionTimeoutMs, `ka`, start → start_ack → data / error, stop → complete. Published
 * records are executed against each subscription's document with graphql-js, so subscribers get
 * exactly their selection set, rendered by the served schema variant.
 */
export class RealtimeEndpoint {
  readonly sockets = new Set<SocketState>();
  readonly stats = { realtimeConnections: 0, realtimeRefused: 0, startsReceived: 0 };
  /** High-water marks of what is open at once: how many upstream readers a set of replicas runs. */
  readonly peaks = { peakOpenSockets: 0, peakMomentSubscriptions: 0 };
  keepAlivesPaused = false;
  /** Sent as the connection_ack payload instead of `{ connectionTimeoutMs }` (hostile-peer tests). */
  connectionAckPayload: Record<string, unknown> | undefined;
  private readonly startAckDelays = new Map<string, number>();
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('graphql-ws') ? 'graphql-ws' : false) });

  constructor(private readonly options: RealtimeOptions) {}

  get activeSubscriptions(): number {
    let n = 0;
    for (const s of this.sockets) n += s.subs.size;
    return n;
  }

  /** Live subscriptions to `field` (e.g. onCreateMoment), over every socket. */
  subscriptionsTo(field: string): number {
    let n = 0;
    for (const s of this.sockets) for (const sub of s.subs.values()) if (sub.field === field) n += 1;
    return n;
  }

  /** Peaks start over from what is open now. */
  resetPeaks(): void {
    this.peaks.peakOpenSockets = this.sockets.size;
    this.peaks.peakMomentSubscriptions = this.subscriptionsTo('onCreateMoment');
  }

  private notePeaks(): void {
    this.peaks.peakOpenSockets = Math.max(this.peaks.peakOpenSockets, this.sockets.size);
    this.peaks.peakMomentSubscriptions = Math.max(this.peaks.peakMomentSubscriptions, this.subscriptionsTo('onCreateMoment'));
  }

  delayStartAck(field: string, ms: number): void {
    this.startAckDelays.set(field, ms);
  }

  /** Sends a rendered record to every subscription on `field` whose arguments match it. */
  publish(field: string, rendered: Record<string, unknown>): void {
    const args = SUBSCRIPTION_ARGS[field] ?? [];
    for (const state of this.sockets) {
      for (const [id, sub] of state.subs) {
        if (sub.field !== field) continue;
        // Compared as strings: an `ID` argument ("7") matches a numeric id and vice versa.
        const resolver = (fieldArgs: Record<string, unknown>) =>
          args.every((a) => fieldArgs[a] === undefined || fieldArgs[a] === null || String(fieldArgs[a]) === String(rendered[a])) ? rendered : null;
        void Promise.resolve(
          execute({ schema: this.options.variant.schema, document: sub.document, rootValue: { [field]: resolver }, variableValues: sub.variables }),
        ).then((result) => {
          const data = result.data as Record<string, unknown> | null | undefined;
          if (!data || data[field] === null || data[field] === undefined) return;
          const payload: Record<string, unknown> = { data };
          if (result.errors?.length) payload.errors = appSyncErrors(result.errors, 'ExecutionError');
          this.send(state, { id, type: 'data', payload });
        });
      }
    }
  }

  dropAll(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.ws.terminate();
    return n;
  }

  sendRaw(text: string): void {
    for (const s of this.sockets) if (s.ws.readyState === s.ws.OPEN) s.ws.send(text);
  }

  /** Sends `bytes` as a text frame as they are (e.g. invalid UTF-8, which a string cannot carry). */
  sendRawBytes(bytes: Uint8Array): void {
    for (const s of this.sockets) if (s.ws.readyState === s.ws.OPEN) s.ws.send(bytes, { binary: false });
  }

  /**
   * Sends a `data` frame to every subscription on `field` whose item is `itemJson` verbatim,
   * unrendered and unchecked: a value JSON.stringify cannot produce here (6,000 levels deep) or one
   * the schema would refuse. Returns how many frames went out.
   */
  sendDataText(field: string, itemJson: string): number {
    let n = 0;
    for (const state of this.sockets) {
      for (const [id, sub] of state.subs) {
        if (sub.field !== field || state.ws.readyState !== state.ws.OPEN) continue;
        state.ws.send(`{"id":${JSON.stringify(id)},"type":"data","payload":{"data":{${JSON.stringify(field)}:${itemJson}}}}`);
        n++;
      }
    }
    return n;
  }

  sendConnectionError(errorType: string): void {
    for (const s of this.sockets) this.send(s, { type: 'connection_error', payload: { errors: [{ errorType, message: 'Simulated connection error' }] } });
  }

  close(): void {
    for (const s of this.sockets) {
      if (s.ka) clearInterval(s.ka);
      s.ws.terminate();
    }
    this.wss.close();
  }

  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/$/, '');
    if (path !== '/graphql/realtime' && path !== '/realtime') return rawHttpResponse(socket, 404, 'Not Found', {}, '');
    const refusal = this.options.refusal();
    if (refusal) {
      this.stats.realtimeRefused += 1;
      return rawHttpResponse(
        socket,
        refusal,
        'Service Unavailable',
        { 'Content-Type': 'application/json' },
        JSON.stringify({ errors: [{ errorType: 'ServiceUnavailable', message: 'Simulated outage' }] }),
      );
    }
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!protocols.includes('graphql-ws')) return rawHttpResponse(socket, 400, 'Bad Request', {}, 'the graphql-ws subprotocol is required');
    const auth = this.decodeAuth(req, protocols);
    const check = this.options.tokens.verify(typeof auth?.Authorization === 'string' ? auth.Authorization : undefined);
    if (!check.ok) {
      this.stats.realtimeRefused += 1;
      const body = JSON.stringify({ errors: [{ errorType: 'UnauthorizedException', message: check.reason }] });
      return rawHttpResponse(socket, 401, 'Unauthorized', { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'UnauthorizedException' }, body);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  /** The auth header JSON, from the `header-<base64url>` subprotocol or the older `?header=` query. */
  private decodeAuth(req: IncomingMessage, protocols: string[]): Record<string, unknown> | undefined {
    const headerProtocol = protocols.find((p) => p.startsWith('header-'));
    const url = new URL(req.url ?? '/', 'http://localhost');
    const encoded = headerProtocol ? headerProtocol.slice('header-'.length) : url.searchParams.get('header');
    if (!encoded) return undefined;
    try {
      return JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  private send(state: SocketState, frame: Record<string, unknown>): void {
    if (state.ws.readyState === state.ws.OPEN) state.ws.send(JSON.stringify(frame));
  }

  private onConnection(ws: WebSocket): void {
    this.stats.realtimeConnections += 1;
    const state: SocketState = { ws, initialized: false, subs: new Map(), ka: undefined };
    this.sockets.add(state);
    this.notePeaks();
    ws.on('close', () => {
      if (state.ka) clearInterval(state.ka);
      this.sockets.delete(state);
    });
    ws.on('error', () => undefined);
    ws.on('message', (raw) => this.onFrame(state, raw.toString()));
  }

  private onFrame(state: SocketState, text: string): void {
    let frame: { type?: string; id?: string; payload?: { data?: string; extensions?: { authorization?: Record<string, unknown> } } };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return this.send(state, { type: 'error', payload: { errors: [{ errorType: 'MalformedMessage', message: 'Frame is not JSON' }] } });
    }
    if (frame.type === 'connection_init') {
      state.initialized = true;
      this.send(state, { type: 'connection_ack', payload: this.connectionAckPayload ?? { connectionTimeoutMs: this.options.connectionTimeoutMs } });
      if (!this.keepAlivesPaused) this.send(state, { type: 'ka' });
      state.ka ??= setInterval(() => {
        if (!this.keepAlivesPaused) this.send(state, { type: 'ka' });
      }, this.options.keepAliveIntervalMs);
      return;
    }
    if (!state.initialized)
      return this.send(state, {
        type: 'connection_error',
        payload: { errors: [{ errorType: 'UnsupportedOperation', message: 'connection_init must come first' }] },
      });
    if (frame.type === 'start') return this.onStart(state, frame.id, frame.payload);
    if (frame.type === 'stop') {
      if (frame.id && state.subs.delete(frame.id)) this.send(state, { type: 'complete', id: frame.id });
      return;
    }
    this.send(state, {
      type: 'error',
      id: frame.id,
      payload: { errors: [{ errorType: 'UnsupportedOperation', message: `Unknown message type ${JSON.stringify(frame.type)}` }] },
    });
  }

  private onStart(
    state: SocketState,
    id: string | undefined,
    payload: { data?: string; extensions?: { authorization?: Record<string, unknown> } } | undefined,
  ): void {
    this.stats.startsReceived += 1;
    const fail = (errorType: string, message: string) => this.send(state, { type: 'error', id, payload: { errors: [{ errorType, message }] } });
    if (!id) return fail('MalformedMessage', 'start without id');
    if (state.subs.has(id)) return fail('DuplicatedOperationError', `Subscription id ${id} is already in use`);
    const auth = payload?.extensions?.authorization;
    const check = this.options.tokens.verify(typeof auth?.Authorization === 'string' ? auth.Authorization : undefined);
    if (!check.ok) return fail('UnauthorizedException', check.reason);
    let request: { query?: string; variables?: Record<string, unknown> };
    try {
      request = JSON.parse(payload?.data ?? '') as typeof request;
    } catch {
      return fail('MalformedMessage', 'payload.data is not a JSON string {query, variables}');
    }
    let document: DocumentNode;
    try {
      document = parse(request.query ?? '');
    } catch (err) {
      return fail('ParseError', (err as Error).message);
    }
    if (!this.options.introspection) {
      const hidden = introspectionErrors(document);
      if (hidden.length) return this.send(state, { type: 'error', id, payload: { errors: hidden } });
    }
    const errors = validate(this.options.variant.schema, document);
    if (errors.length) return fail('ValidationError', errors.map((e) => e.message).join('; '));
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    if (operation?.operation !== 'subscription') return fail('UnsupportedOperation', 'Only subscription operations are accepted on the real-time endpoint');
    const first = operation.selectionSet.selections[0];
    const field = first?.kind === 'Field' ? first.name.value : '';
    state.subs.set(id, { document, field, variables: request.variables ?? {} });
    this.notePeaks();
    const delay = this.startAckDelays.get(field);
    if (delay) setTimeout(() => this.send(state, { type: 'start_ack', id }), delay);
    else this.send(state, { type: 'start_ack', id });
  }
}

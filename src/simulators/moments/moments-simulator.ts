import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { execute, graphql, parse, validate, type DocumentNode, type GraphQLError, type OperationDefinitionNode } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { MomentGenerator, type GeneratorOptions } from './moment-generator.js';
import { MomentsStore, paginate, type PageArgs, type SimMoment, type SimTrigger } from './moments-store.js';
import { simulatorSchema } from './simulator-schema.js';
import { TokenIssuer, type SimAppClient, type SimUser } from './token-issuer.js';

export interface MomentsSimulatorOptions {
  /** @defaultValue 0 (a free port) */
  port?: number;
  /** Loopback only by default: the simulator has no real security. @defaultValue 127.0.0.1 */
  host?: string;
  /** App clients. @defaultValue `sim-client` (no secret) and `sim-client-secret` / `sim-secret` */
  clients?: SimAppClient[];
  /** @defaultValue one user `demo` / `demo-password`, tenant `demo` */
  users?: SimUser[];
  /** Lifetime of ID/access tokens. @defaultValue 3600 */
  tokenTtlSeconds?: number;
  /** Sent in connection_ack. @defaultValue 300000 (AppSync's value) */
  connectionTimeoutMs?: number;
  /** How often `ka` is sent. @defaultValue 60000 */
  keepAliveIntervalMs?: number;
  /** Start the generator right away. */
  generator?: GeneratorOptions;
  logger?: Logger;
}

export type FailTarget = 'cognito' | 'graphql' | 'realtime';

export interface SimulatorStats {
  passwordLogins: number;
  refreshLogins: number;
  failedLogins: number;
  graphqlRequests: number;
  graphqlUnauthorized: number;
  realtimeConnections: number;
  realtimeRefused: number;
  openSockets: number;
  activeSubscriptions: number;
  startsReceived: number;
  moments: number;
  triggers: number;
  generated: number;
}

/** The control API, usable in-process and over HTTP (`POST /_control/<name>`, JSON body). */
export interface MomentsSimulatorControl {
  /** Creates a moment; `live: false` stores it without publishing (as if the socket missed it). */
  createMoment(input?: Partial<SimMoment> & { value?: number }, options?: { live?: boolean }): SimMoment;
  createTrigger(input?: Partial<SimTrigger>, options?: { live?: boolean }): SimTrigger;
  updateTrigger(publicId: string, changes: Partial<SimTrigger>, options?: { live?: boolean }): SimTrigger;
  /** Closes every real-time socket abruptly (no close frame). */
  dropSockets(): number;
  pauseKeepAlives(): void;
  resumeKeepAlives(): void;
  /** Answers `start` for subscriptions to `field` (e.g. onUpdateTrigger) only after `ms`: other subscriptions already get data meanwhile. */
  delayStartAck(field: string, ms: number): void;
  /** The next `count` calls to `target` fail with `status` (default 500). */
  failNext(count: number, target: FailTarget, status?: number): void;
  /** Every token issued so far stops working (with `refresh`, refresh tokens too). */
  expireTokens(options?: { refresh?: boolean }): void;
  addUser(user: SimUser): void;
  addClient(client: SimAppClient): void;
  /** While on, real-time handshakes are answered 503 (the "upstream is down" window). */
  refuseRealtime(refuse: boolean): void;
  /** Sends a raw text frame on every socket (malformed frames, odd types). */
  sendRaw(text: string): void;
  /** Sends `connection_error` on every socket. */
  sendConnectionError(errorType?: string): void;
  startGenerator(options?: GeneratorOptions): void;
  stopGenerator(): void;
  stats(): SimulatorStats;
}

export interface MomentsSimulator {
  url: string;
  cognitoEndpoint: string;
  graphqlUrl: string;
  realtimeUrl: string;
  control: MomentsSimulatorControl;
  stop(): Promise<void>;
}

/** A `type: moments` source block pointing at `sim` with its default app client and user, plus `extra`. */
export function simulatorSourceConfig(sim: Pick<MomentsSimulator, 'cognitoEndpoint' | 'graphqlUrl'>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'moments', cognitoEndpoint: sim.cognitoEndpoint, clientId: 'sim-client', username: 'demo', password: 'demo-password', graphqlUrl: sim.graphqlUrl, ...extra };
}

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

const SUBSCRIPTION_ARGS: Record<string, readonly string[]> = { onCreateMoment: ['athleteId', 'eventId', 'triggerPublicId'], onCreateTrigger: [], onUpdateTrigger: [] };

function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': `${type}:` });
  res.end(JSON.stringify({ __type: type, message }));
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage, limit = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function graphqlErrors(errors: readonly GraphQLError[], fallbackType: string) {
  return errors.map((e) => ({
    message: e.message,
    errorType: (e.originalError as { errorType?: string } | undefined)?.errorType ?? fallbackType,
    locations: e.locations,
    path: e.path,
  }));
}

function rawHttpResponse(socket: Socket, status: number, statusText: string, headers: Record<string, string>, body: string): void {
  const head = [`HTTP/1.1 ${status} ${statusText}`, ...Object.entries({ ...headers, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' }).map(([k, v]) => `${k}: ${v}`)];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * Starts the Moments Engine simulator: Cognito InitiateAuth (`/cognito/`), AppSync GraphQL
 * (`/graphql`), the AppSync real-time WebSocket (`/graphql/realtime`, the custom-domain rule) and
 * the control API (`/_control/…`) on one loopback port.
 */
export async function startMomentsSimulator(options: MomentsSimulatorOptions = {}): Promise<MomentsSimulator> {
  const logger = options.logger ?? silentLogger();
  const schema = simulatorSchema();
  const store = new MomentsStore();
  const tokens = new TokenIssuer(options.tokenTtlSeconds ?? 3600);
  const clients = new Map<string, SimAppClient>((options.clients ?? [{ clientId: 'sim-client' }, { clientId: 'sim-client-secret', clientSecret: 'sim-secret' }]).map((c) => [c.clientId, c]));
  const users = new Map<string, SimUser>((options.users ?? [{ username: 'demo', password: 'demo-password', tenant: 'demo' }]).map((u) => [u.username, u]));
  const connectionTimeoutMs = options.connectionTimeoutMs ?? 300_000;
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? 60_000;
  const failures: Record<FailTarget, { count: number; status: number }> = { cognito: { count: 0, status: 500 }, graphql: { count: 0, status: 500 }, realtime: { count: 0, status: 500 } };
  const sockets = new Set<SocketState>();
  let keepAlivesPaused = false;
  let realtimeRefused = false;
  const stats = { passwordLogins: 0, refreshLogins: 0, failedLogins: 0, graphqlRequests: 0, graphqlUnauthorized: 0, realtimeConnections: 0, realtimeRefused: 0, startsReceived: 0 };

  const takeFailure = (target: FailTarget): number | undefined => {
    const f = failures[target];
    if (f.count <= 0) return undefined;
    f.count -= 1;
    return f.status;
  };

  // ---- publishing to subscribers ----
  const publish = (field: string, value: SimMoment | SimTrigger): void => {
    for (const state of sockets) {
      for (const [id, sub] of state.subs) {
        if (sub.field !== field) continue;
        const args = SUBSCRIPTION_ARGS[field] ?? [];
        const resolver = (fieldArgs: Record<string, unknown>) => (args.every((a) => fieldArgs[a] === undefined || fieldArgs[a] === null || fieldArgs[a] === (value as unknown as Record<string, unknown>)[a]) ? value : null);
        void Promise.resolve(execute({ schema, document: sub.document, rootValue: { [field]: resolver }, variableValues: sub.variables })).then((result) => {
          const data = result.data as Record<string, unknown> | null | undefined;
          if (!data || data[field] === null || data[field] === undefined) return;
          const payload: Record<string, unknown> = { data };
          if (result.errors?.length) payload.errors = graphqlErrors(result.errors, 'ExecutionError');
          send(state, { id, type: 'data', payload });
        });
      }
    }
  };

  const send = (state: SocketState, frame: Record<string, unknown>): void => {
    if (state.ws.readyState === state.ws.OPEN) state.ws.send(JSON.stringify(frame));
  };

  // ---- Cognito ----
  const handleCognito = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'AWSCognitoIdentityProviderService.InitiateAuth') return awsError(res, 400, 'UnknownOperationException', `Unsupported X-Amz-Target "${target}"`);
    const failStatus = takeFailure('cognito');
    if (failStatus) return awsError(res, failStatus, 'InternalErrorException', 'Injected failure (simulator control fail-next)');
    let body: { AuthFlow?: string; ClientId?: string; AuthParameters?: Record<string, string> };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return awsError(res, 400, 'SerializationException', 'Request body is not JSON');
    }
    const client = body.ClientId ? clients.get(body.ClientId) : undefined;
    if (!client) return awsError(res, 400, 'ResourceNotFoundException', `User pool client ${body.ClientId ?? '(none)'} does not exist.`);
    const params = body.AuthParameters ?? {};
    const checkSecretHash = (username: string): boolean => {
      if (!client.clientSecret) return true;
      const expected = createHmac('sha256', client.clientSecret).update(username + client.clientId).digest('base64');
      return params.SECRET_HASH === expected;
    };
    if (body.AuthFlow === 'USER_PASSWORD_AUTH') {
      const user = users.get(params.USERNAME ?? '');
      if (!checkSecretHash(params.USERNAME ?? '')) {
        stats.failedLogins += 1;
        return awsError(res, 400, 'NotAuthorizedException', `Unable to verify secret hash for client ${client.clientId}`);
      }
      if (!user || user.password !== params.PASSWORD) {
        stats.failedLogins += 1;
        return awsError(res, 400, 'NotAuthorizedException', 'Incorrect username or password.');
      }
      stats.passwordLogins += 1;
      return json(res, 200, { AuthenticationResult: tokens.issue(user, client.clientId, true), ChallengeParameters: {} });
    }
    if (body.AuthFlow === 'REFRESH_TOKEN_AUTH' || body.AuthFlow === 'REFRESH_TOKEN') {
      const grant = tokens.refreshGrant(params.REFRESH_TOKEN ?? '');
      if (!grant || grant.clientId !== client.clientId) {
        stats.failedLogins += 1;
        return awsError(res, 400, 'NotAuthorizedException', 'Invalid Refresh Token');
      }
      if (!checkSecretHash(grant.username)) {
        stats.failedLogins += 1;
        return awsError(res, 400, 'NotAuthorizedException', `Unable to verify secret hash for client ${client.clientId}`);
      }
      const user = users.get(grant.username);
      if (!user) return awsError(res, 400, 'NotAuthorizedException', 'User does not exist.');
      stats.refreshLogins += 1;
      return json(res, 200, { AuthenticationResult: tokens.issue(user, client.clientId, false), ChallengeParameters: {} });
    }
    return awsError(res, 400, 'InvalidParameterException', `Unsupported AuthFlow ${body.AuthFlow ?? '(none)'}`);
  };

  // ---- GraphQL over HTTP ----
  const rootValue = {
    listMoments: (args: PageArgs) => paginate(store.moments, args),
    getMoment: ({ publicId }: { publicId: string }) => store.moments.find((m) => m.publicId === publicId) ?? null,
    listTriggers: (args: PageArgs) => paginate([...store.triggers.values()], args),
    getTrigger: ({ publicId }: { publicId: string }) => store.triggers.get(publicId) ?? null,
  };

  const handleGraphql = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.graphqlRequests += 1;
    const failStatus = takeFailure('graphql');
    if (failStatus) return json(res, failStatus, { errors: [{ errorType: 'InternalFailure', message: 'Injected failure (simulator control fail-next)' }] });
    const auth = tokens.verify(req.headers.authorization);
    if (!auth.ok) {
      stats.graphqlUnauthorized += 1;
      return json(res, 401, { errors: [{ errorType: 'UnauthorizedException', message: auth.reason }] }, { 'x-amzn-ErrorType': 'UnauthorizedException' });
    }
    let body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return json(res, 400, { errors: [{ errorType: 'MalformedHttpRequestException', message: 'Request body is not JSON' }] });
    }
    if (typeof body.query !== 'string') return json(res, 400, { errors: [{ errorType: 'MalformedHttpRequestException', message: 'Missing "query"' }] });
    const result = await graphql({ schema, source: body.query, rootValue, variableValues: body.variables, operationName: body.operationName });
    const out: Record<string, unknown> = { data: result.data ?? null };
    if (result.errors?.length) out.errors = graphqlErrors(result.errors, result.data ? 'ExecutionError' : 'ValidationError');
    return json(res, 200, out);
  };

  // ---- AppSync real-time ----
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('graphql-ws') ? 'graphql-ws' : false) });

  const decodeAuth = (req: IncomingMessage): Record<string, unknown> | undefined => {
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const headerProtocol = protocols.find((p) => p.startsWith('header-'));
    const url = new URL(req.url ?? '/', 'http://localhost');
    const encoded = headerProtocol ? headerProtocol.slice('header-'.length) : url.searchParams.get('header');
    if (!encoded) return undefined;
    try {
      return JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };

  const handleUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/$/, '');
    if (path !== '/graphql/realtime' && path !== '/realtime') return rawHttpResponse(socket, 404, 'Not Found', {}, '');
    const failStatus = takeFailure('realtime');
    if (realtimeRefused || failStatus) {
      stats.realtimeRefused += 1;
      return rawHttpResponse(socket, failStatus ?? 503, 'Service Unavailable', { 'Content-Type': 'application/json' }, JSON.stringify({ errors: [{ errorType: 'ServiceUnavailable', message: 'Simulated outage' }] }));
    }
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes('graphql-ws')) return rawHttpResponse(socket, 400, 'Bad Request', {}, 'the graphql-ws subprotocol is required');
    const auth = decodeAuth(req);
    const check = tokens.verify(typeof auth?.Authorization === 'string' ? auth.Authorization : undefined);
    if (!check.ok) {
      stats.realtimeRefused += 1;
      const body = JSON.stringify({ errors: [{ errorType: 'UnauthorizedException', message: check.reason }] });
      return rawHttpResponse(socket, 401, 'Unauthorized', { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'UnauthorizedException' }, body);
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  };

  const onConnection = (ws: WebSocket): void => {
    stats.realtimeConnections += 1;
    const state: SocketState = { ws, initialized: false, subs: new Map(), ka: undefined };
    sockets.add(state);
    ws.on('close', () => {
      if (state.ka) clearInterval(state.ka);
      sockets.delete(state);
    });
    ws.on('error', () => undefined);
    ws.on('message', (raw) => onFrame(state, raw.toString()));
  };

  const onFrame = (state: SocketState, text: string): void => {
    let frame: { type?: string; id?: string; payload?: { data?: string; extensions?: { authorization?: Record<string, unknown> } } };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return send(state, { type: 'error', payload: { errors: [{ errorType: 'MalformedMessage', message: 'Frame is not JSON' }] } });
    }
    if (frame.type === 'connection_init') {
      state.initialized = true;
      send(state, { type: 'connection_ack', payload: { connectionTimeoutMs } });
      if (!keepAlivesPaused) send(state, { type: 'ka' });
      state.ka ??= setInterval(() => {
        if (!keepAlivesPaused) send(state, { type: 'ka' });
      }, keepAliveIntervalMs);
      return;
    }
    if (!state.initialized) return send(state, { type: 'connection_error', payload: { errors: [{ errorType: 'UnsupportedOperation', message: 'connection_init must come first' }] } });
    if (frame.type === 'start') return onStart(state, frame.id, frame.payload);
    if (frame.type === 'stop') {
      if (frame.id && state.subs.delete(frame.id)) send(state, { type: 'complete', id: frame.id });
      return;
    }
    send(state, { type: 'error', id: frame.id, payload: { errors: [{ errorType: 'UnsupportedOperation', message: `Unknown message type ${JSON.stringify(frame.type)}` }] } });
  };

  const startAckDelays = new Map<string, number>();
  const onStart = (state: SocketState, id: string | undefined, payload: { data?: string; extensions?: { authorization?: Record<string, unknown> } } | undefined): void => {
    stats.startsReceived += 1;
    const fail = (errorType: string, message: string) => send(state, { type: 'error', id, payload: { errors: [{ errorType, message }] } });
    if (!id) return fail('MalformedMessage', 'start without id');
    if (state.subs.has(id)) return fail('DuplicatedOperationError', `Subscription id ${id} is already in use`);
    const auth = payload?.extensions?.authorization;
    const check = tokens.verify(typeof auth?.Authorization === 'string' ? auth.Authorization : undefined);
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
    const errors = validate(schema, document);
    if (errors.length) return fail('ValidationError', errors.map((e) => e.message).join('; '));
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition');
    if (operation?.operation !== 'subscription') return fail('UnsupportedOperation', 'Only subscription operations are accepted on the real-time endpoint');
    const first = operation.selectionSet.selections[0];
    const field = first?.kind === 'Field' ? first.name.value : '';
    state.subs.set(id, { document, field, variables: request.variables ?? {} });
    const delay = startAckDelays.get(field);
    if (delay) setTimeout(() => send(state, { type: 'start_ack', id }), delay);
    else send(state, { type: 'start_ack', id });
  };

  // ---- HTTP routing ----
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/$/, '');
    const handle = async (): Promise<void> => {
      if (req.method === 'POST' && path === '/cognito') return handleCognito(req, res);
      if (req.method === 'POST' && path === '/graphql') return handleGraphql(req, res);
      if (path.startsWith('/_control/')) return handleControl(req, res, path.slice('/_control/'.length));
      json(res, 404, { message: `Not found: ${req.method} ${path}. Endpoints: POST /cognito/, POST /graphql, WS /graphql/realtime, /_control/*` });
    };
    handle().catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, 'moments simulator: request failed');
      if (!res.headersSent) json(res, 500, { message: (err as Error).message });
      else res.end();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => handleUpgrade(req, socket, head));

  // ---- control ----
  const generator = new MomentGenerator(
    store,
    (trigger) => publish('onCreateTrigger', trigger),
    (input) => control.createMoment(input),
  );

  const control: MomentsSimulatorControl = {
    createMoment(input = {}, opts = {}) {
      const moment = store.addMoment(input);
      if (opts.live ?? true) publish('onCreateMoment', moment);
      return moment;
    },
    createTrigger(input = {}, opts = {}) {
      const trigger = store.addTrigger(input);
      if (opts.live ?? true) publish('onCreateTrigger', trigger);
      return trigger;
    },
    updateTrigger(publicId, changes, opts = {}) {
      const trigger = store.updateTrigger(publicId, changes);
      if (!trigger) throw new Error(`no trigger ${publicId}`);
      if (opts.live ?? true) publish('onUpdateTrigger', trigger);
      return trigger;
    },
    dropSockets() {
      const n = sockets.size;
      for (const s of sockets) s.ws.terminate();
      return n;
    },
    pauseKeepAlives() {
      keepAlivesPaused = true;
    },
    delayStartAck(field, ms) {
      startAckDelays.set(field, ms);
    },
    resumeKeepAlives() {
      keepAlivesPaused = false;
    },
    failNext(count, target, status = 500) {
      failures[target] = { count, status };
    },
    expireTokens(opts = {}) {
      tokens.expireAll(opts);
    },
    addUser(user) {
      users.set(user.username, user);
    },
    addClient(client) {
      clients.set(client.clientId, client);
    },
    refuseRealtime(refuse) {
      realtimeRefused = refuse;
    },
    sendRaw(text) {
      for (const s of sockets) if (s.ws.readyState === s.ws.OPEN) s.ws.send(text);
    },
    sendConnectionError(errorType = 'InternalFailure') {
      for (const s of sockets) send(s, { type: 'connection_error', payload: { errors: [{ errorType, message: 'Simulated connection error' }] } });
    },
    startGenerator(opts) {
      generator.start(opts);
    },
    stopGenerator() {
      generator.stop();
    },
    stats() {
      let activeSubscriptions = 0;
      for (const s of sockets) activeSubscriptions += s.subs.size;
      return { ...stats, openSockets: sockets.size, activeSubscriptions, moments: store.moments.length, triggers: store.triggers.size, generated: generator.generated };
    },
  };

  const handleControl = async (req: IncomingMessage, res: ServerResponse, action: string): Promise<void> => {
    if (req.method === 'GET' && action === 'stats') return json(res, 200, control.stats());
    if (req.method !== 'POST') return json(res, 405, { message: 'control actions are POST (GET /_control/stats)' });
    let body: Record<string, unknown> = {};
    const text = await readBody(req);
    if (text.trim()) {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return json(res, 400, { message: 'control body must be JSON' });
      }
    }
    const live = body.live !== false;
    const { live: _live, ...rest } = body;
    switch (action) {
      case 'moments': {
        const count = typeof rest.count === 'number' ? rest.count : 1;
        delete rest.count;
        const created = Array.from({ length: count }, () => control.createMoment(rest as Partial<SimMoment>, { live }));
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
        return json(res, 200, { ok: true });
      case 'keepalives/resume':
        control.resumeKeepAlives();
        return json(res, 200, { ok: true });
      case 'fail-next': {
        const target = String(rest.target ?? 'graphql') as FailTarget;
        if (!['cognito', 'graphql', 'realtime'].includes(target)) return json(res, 400, { message: 'target must be cognito, graphql or realtime' });
        control.failNext(Number(rest.count ?? 1), target, rest.status === undefined ? 500 : Number(rest.status));
        return json(res, 200, { ok: true });
      }
      case 'expire-tokens':
        control.expireTokens({ refresh: rest.refresh === true });
        return json(res, 200, { ok: true });
      case 'users':
        control.addUser(rest as unknown as SimUser);
        return json(res, 200, { ok: true });
      case 'clients':
        control.addClient(rest as unknown as SimAppClient);
        return json(res, 200, { ok: true });
      case 'realtime/refuse':
        control.refuseRealtime(rest.refuse !== false);
        return json(res, 200, { ok: true });
      case 'realtime/send-raw':
        control.sendRaw(String(rest.text ?? ''));
        return json(res, 200, { ok: true });
      case 'realtime/connection-error':
        control.sendConnectionError(typeof rest.errorType === 'string' ? rest.errorType : undefined);
        return json(res, 200, { ok: true });
      case 'generator/start':
        control.startGenerator(rest as GeneratorOptions);
        return json(res, 200, { ok: true });
      case 'generator/stop':
        control.stopGenerator();
        return json(res, 200, { ok: true });
      default:
        return json(res, 404, { message: `unknown control action "${action}"` });
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  if (options.generator) control.startGenerator(options.generator);
  logger.info({ url }, `moments simulator listening on ${url}`);

  return {
    url,
    cognitoEndpoint: `${url}/cognito/`,
    graphqlUrl: `${url}/graphql`,
    realtimeUrl: `ws://${host}:${address.port}/graphql/realtime`,
    control,
    async stop() {
      generator.stop();
      for (const s of sockets) {
        if (s.ka) clearInterval(s.ka);
        s.ws.terminate();
      }
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../src/core/log.js';
import { silentLogger } from '../../src/core/log.js';
import { CognitoEndpoint } from './cognito-endpoint.js';
import { handleControlHttp } from './control-http.js';
import { GraphqlHttpEndpoint } from './graphql-http.js';
import { json, readBody } from './http-io.js';
import { MomentGenerator, type GeneratorOptions } from './moment-generator.js';
import { MomentsStore } from './moments-store.js';
import { RealtimeEndpoint } from './realtime-endpoint.js';
import type { FailTarget, MomentsSimulatorControl } from './simulator-control.js';
import { simulatorSchema, type SchemaVariant } from './simulator-schema.js';
import { TokenIssuer, type SimAppClient, type SimUser } from './token-issuer.js';

export type { FailTarget, MomentsSimulatorControl, SimulatorStats } from './simulator-control.js';
export type { SchemaVariant } from './simulator-schema.js';

export interface MomentsSimulatorOptions {
  /** @defaultValue 0 (a free port) */
  port?: number;
  /** Loopback only by default: the simulator has no real security. @defaultValue 127.0.0.1 */
  host?: string;
  /**
   * Which engine to impersonate: `vendor` serves the types exactly as the vendor SDK documents
   * them (numbers, objects, plainly named inputs); `amplify` serves Amplify-model names, AWSJSON
   * strings and numeric ids as strings. @defaultValue 'vendor'
   */
  schema?: SchemaVariant;
  /** When false, `__schema` / `__type` are refused as AppSync does with introspection disabled. @defaultValue true */
  introspection?: boolean;
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

export interface MomentsSimulator {
  url: string;
  /** The schema variant served. */
  schema: SchemaVariant;
  introspection: boolean;
  cognitoEndpoint: string;
  graphqlUrl: string;
  realtimeUrl: string;
  control: MomentsSimulatorControl;
  stop(): Promise<void>;
}

/** A `type: moments` source block pointing at `sim` with its default app client and user, plus `extra`. */
export function simulatorSourceConfig(
  sim: Pick<MomentsSimulator, 'cognitoEndpoint' | 'graphqlUrl'>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: 'moments',
    cognitoEndpoint: sim.cognitoEndpoint,
    clientId: 'sim-client',
    username: 'demo',
    password: 'demo-password',
    graphqlUrl: sim.graphqlUrl,
    ...extra,
  };
}

/**
 * Starts the Moments Engine simulator: Cognito InitiateAuth (`/cognito/`), AppSync GraphQL
 * (`/graphql`), the AppSync real-time WebSocket (`/graphql/realtime`, the custom-domain rule) and
 * the control API (`/_control/…`) on one loopback port. One canonical store (the vendor's
 * documented types) is rendered by the chosen schema variant.
 */
export async function startMomentsSimulator(options: MomentsSimulatorOptions = {}): Promise<MomentsSimulator> {
  const logger = options.logger ?? silentLogger();
  const variant = simulatorSchema(options.schema ?? 'vendor');
  const introspection = options.introspection ?? true;
  const store = new MomentsStore();
  const tokens = new TokenIssuer(options.tokenTtlSeconds ?? 3600);
  const failures: Record<FailTarget, { count: number; status: number }> = {
    cognito: { count: 0, status: 500 },
    graphql: { count: 0, status: 500 },
    realtime: { count: 0, status: 500 },
  };
  const takeFailure = (target: FailTarget): number | undefined => {
    const f = failures[target];
    if (f.count <= 0) return undefined;
    f.count -= 1;
    return f.status;
  };
  const cognito = new CognitoEndpoint(
    tokens,
    options.users ?? [{ username: 'demo', password: 'demo-password', tenant: 'demo' }],
    options.clients ?? [{ clientId: 'sim-client' }, { clientId: 'sim-client-secret', clientSecret: 'sim-secret' }],
    () => takeFailure('cognito'),
  );
  let realtimeRefused = false;
  const realtime = new RealtimeEndpoint({
    variant,
    introspection,
    tokens,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 300_000,
    keepAliveIntervalMs: options.keepAliveIntervalMs ?? 60_000,
    refusal: () => {
      const failStatus = takeFailure('realtime');
      return realtimeRefused ? (failStatus ?? 503) : failStatus;
    },
  });
  const graphql = new GraphqlHttpEndpoint({ store, variant, introspection, tokens, takeFailure: () => takeFailure('graphql') });

  // ---- HTTP routing ----
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/$/, '');
    const handle = async (): Promise<void> => {
      if (req.method === 'POST' && path === '/cognito') return cognito.handle(req, res, await readBody(req));
      if (req.method === 'POST' && path === '/graphql') return graphql.handle(req, res);
      if (path.startsWith('/_control/')) return handleControlHttp(control, req.method ?? 'GET', path.slice('/_control/'.length), await readBody(req), res);
      json(res, 404, { message: `Not found: ${req.method} ${path}. Endpoints: POST /cognito/, POST /graphql, WS /graphql/realtime, /_control/*` });
    };
    handle().catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, 'moments simulator: request failed');
      if (!res.headersSent) json(res, 500, { message: (err as Error).message });
      else res.end();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => realtime.handleUpgrade(req, socket, head));

  // ---- control ----
  const generator = new MomentGenerator(
    store,
    (trigger) => realtime.publish('onCreateTrigger', variant.renderTrigger(trigger)),
    (input) => control.createMoment(input),
  );

  const control: MomentsSimulatorControl = {
    createMoment(input = {}, opts = {}) {
      const moment = store.addMoment(input);
      if (opts.live ?? true) realtime.publish('onCreateMoment', variant.renderMoment(moment));
      return moment;
    },
    createTrigger(input = {}, opts = {}) {
      const trigger = store.addTrigger(input);
      if (opts.live ?? true) realtime.publish('onCreateTrigger', variant.renderTrigger(trigger));
      return trigger;
    },
    updateTrigger(publicId, changes, opts = {}) {
      const trigger = store.updateTrigger(publicId, changes);
      if (!trigger) throw new Error(`no trigger ${publicId}`);
      if (opts.live ?? true) realtime.publish('onUpdateTrigger', variant.renderTrigger(trigger));
      return trigger;
    },
    dropSockets: () => realtime.dropAll(),
    pauseKeepAlives() {
      realtime.keepAlivesPaused = true;
    },
    resumeKeepAlives() {
      realtime.keepAlivesPaused = false;
    },
    delayStartAck: (field, ms) => realtime.delayStartAck(field, ms),
    failNext(count, target, status = 500) {
      failures[target] = { count, status };
    },
    expireTokens: (opts = {}) => tokens.expireAll(opts),
    addUser: (user) => cognito.addUser(user),
    addClient: (client) => cognito.addClient(client),
    refuseRealtime(refuse) {
      realtimeRefused = refuse;
    },
    sendRaw: (text) => realtime.sendRaw(text),
    sendRawBytes: (bytes) => realtime.sendRawBytes(bytes),
    sendDataText: (field, itemJson) => realtime.sendDataText(field, itemJson),
    setConnectionAck(payload) {
      realtime.connectionAckPayload = payload;
    },
    sendConnectionError: (errorType = 'InternalFailure') => realtime.sendConnectionError(errorType),
    startGenerator: (opts) => generator.start(opts),
    stopGenerator: () => generator.stop(),
    resetPeaks: () => realtime.resetPeaks(),
    stats() {
      return {
        ...cognito.stats,
        ...graphql.stats,
        ...realtime.stats,
        openSockets: realtime.sockets.size,
        activeSubscriptions: realtime.activeSubscriptions,
        momentSubscriptions: realtime.subscriptionsTo('onCreateMoment'),
        ...realtime.peaks,
        moments: store.moments.length,
        triggers: store.triggers.size,
        generated: generator.generated,
      };
    },
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  if (options.generator) control.startGenerator(options.generator);
  logger.info({ url, schema: variant.variant, introspection }, `moments simulator listening on ${url}`);

  return {
    url,
    schema: variant.variant,
    introspection,
    cognitoEndpoint: `${url}/cognito/`,
    graphqlUrl: `${url}/graphql`,
    realtimeUrl: `ws://${host}:${address.port}/graphql/realtime`,
    control,
    async stop() {
      generator.stop();
      realtime.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/*
 * One concept at ~330 lines: the Moments client behind the SDK's method names. Each method is a
 * few lines over the GraphQL, real-time and auth clients (their own files); what keeps it here is
 * the shared document state (introspected or configured, re-introspected once on a refusal).
 */
import type { MomentsApi, MomentsConnectionState, Unsubscribe } from './moments-api.js';
import type { Connection } from './moments-schemas.js';
import type { RealtimeState } from './appsync/realtime-options.js';
import type { Logger } from '../../core/log.js';
import { silentLogger } from '../../core/log.js';
import { CognitoAuth } from './cognito-auth.js';
import { GraphqlClient, type FieldFilter, type ListArgs, type ModelFilter, type RawItem } from './graphql-client.js';
import { MomentsDocumentError, MomentsGraphqlError, MomentsHttpError } from './moments-errors.js';
import type { MomentsOperation } from './operation-documents.js';
import { rewriteLowerBound, translateListMomentsArgs } from './list-moments-args.js';
import { OperationDiscovery, type OperationSet, type ResolvedOperation } from './schema-discovery.js';
import { RealtimeClient } from './appsync/realtime-client.js';
import { realtimeUrlFor } from './appsync/realtime-url.js';
import type { RealtimeAuthMode } from './appsync/realtime-messages.js';

export interface MomentsClientOptions {
  cognitoEndpoint: string;
  clientId: string;
  clientSecret?: string;
  graphqlUrl: string;
  /** Defaults to the AppSync rule: `appsync-api` → `appsync-realtime-api`, else `<graphqlUrl>/realtime`. */
  realtimeUrl?: string;
  /** @defaultValue `subprotocol` */
  realtimeAuth?: RealtimeAuthMode;
  /** Documents that win over the ones built from the engine's schema (e.g. when it refuses introspection). */
  documents?: Partial<Record<MomentsOperation, string>>;
  /** The source's path in config, named in error messages. @defaultValue `sources.moments` */
  configPath?: string;
  logger?: Logger;
  /** Reconnect backoff. @defaultValue 500 / 30000 ms */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Refresh tokens this long before expiry. @defaultValue 300000 */
  refreshMarginMs?: number;
}

/**
 * The payload of a subscription `data` frame is `{ <rootField>: object }`; the field name depends
 * on the document. A root value that is there but not an object is passed on all the same (typed
 * as what it should have been): the source quarantines it with its reason, where dropping it here
 * would leave no trace. Only an absent (null) value means nothing was sent.
 */
function rootValue(data: Record<string, unknown>): RawItem | undefined {
  const value = Object.values(data)[0];
  return value === null || value === undefined ? undefined : (value as RawItem);
}

/** The engine refused a document as invalid for its schema (not a resolver or auth error). */
export function isValidationFailure(err: unknown): err is MomentsGraphqlError {
  if (!(err instanceof MomentsGraphqlError)) return false;
  return err.errors.some(
    (e) =>
      /validation|unknowntype|fieldundefined|wrongtype/i.test(e.errorType ?? '') ||
      /validation error|unknown type|cannot query field|unknown argument|is not defined by type|of required type|was not provided/i.test(e.message),
  );
}

/**
 * Does this error mean the engine refuses introspection (a GraphQL error, or HTTP 400), rather
 * than that it cannot be asked right now (network, 5xx, not logged in)?
 */
function introspectionRefused(err: unknown): boolean {
  return err instanceof MomentsGraphqlError || (err instanceof MomentsHttpError && err.status === 400);
}

/**
 * The bridge's own Moments Engine client: Cognito auth, GraphQL queries and AppSync real-time
 * subscriptions behind the vendor SDK's method names. Documents come from the engine's schema
 * (introspection at login) unless config gives them; a document the engine later refuses as
 * invalid triggers one re-introspection before it is reported.
 */
export class MomentsClient implements MomentsApi {
  readonly auth: CognitoAuth;
  readonly graphql: GraphqlClient;
  readonly realtime: RealtimeClient;
  readonly discovery: OperationDiscovery;
  private readonly logger: Logger;
  private operationSet: OperationSet | undefined;
  /** Operations re-introspected since their last success (at most once each). */
  private readonly rediscovered = new Set<MomentsOperation>();
  /** Subscriptions refused for good (a failed subscription is not re-sent on reconnect). */
  private readonly refused = new Map<MomentsOperation, string>();
  private readonly refusalListeners = new Set<(state: MomentsConnectionState) => void>();

  constructor(options: MomentsClientOptions) {
    this.auth = new CognitoAuth({
      endpoint: options.cognitoEndpoint,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      refreshMarginMs: options.refreshMarginMs,
    });
    const token = () => this.auth.token();
    const refreshToken = () => this.auth.invalidate();
    this.logger = options.logger ?? silentLogger();
    this.graphql = new GraphqlClient({ url: options.graphqlUrl, token, refreshToken });
    this.realtime = new RealtimeClient({
      url: options.realtimeUrl ?? realtimeUrlFor(options.graphqlUrl),
      host: new URL(options.graphqlUrl).host,
      auth: options.realtimeAuth,
      token,
      refreshToken,
      logger: this.logger,
      initialDelayMs: options.reconnect?.initialDelayMs,
      maxDelayMs: options.reconnect?.maxDelayMs,
    });
    this.discovery = new OperationDiscovery({
      introspect: () => this.graphql.introspect(),
      isTransient: (err) => !introspectionRefused(err),
      configured: options.documents ?? {},
      configPath: options.configPath ?? 'sources.moments',
      logger: this.logger,
    });
  }

  get tenant(): string | undefined {
    return this.auth.tenant;
  }

  /** Logs in, then resolves every operation's document (introspection, or config). */
  async login(username: string, password: string): Promise<void> {
    await this.auth.login(username, password);
    this.operationSet = await this.discovery.resolve();
  }

  /** The documents this client runs, each with its origin (after login). */
  async operations(): Promise<OperationSet> {
    this.operationSet = await this.discovery.resolve();
    return this.operationSet;
  }

  async requireOperations(operations: readonly MomentsOperation[]): Promise<void> {
    const set = await this.operations();
    const missing = operations.map((op) => set.unavailable[op]).filter((e) => e !== undefined);
    if (!missing.length) return;
    const [first, ...others] = missing;
    if (!others.length) throw first!;
    throw new MomentsDocumentError(
      first!.code as 'moments_document_missing',
      first!.operation,
      `${first!.message} (also: ${others.map((e) => e.operation).join(', ')})`,
      { cause: first },
    );
  }

  backfillSupport(): { filters: boolean; sorts: boolean } {
    const set = this.operationSet;
    const list = set?.operations.listMoments;
    return { filters: Boolean(set?.listMoments.createdAtOperator || list?.variables.has('since')), sorts: Boolean(set?.listMoments.orderBy) };
  }

  triggerBackfillSupport(): { filters: boolean } {
    const set = this.operationSet;
    return { filters: Boolean(set?.listTriggers.updatedAtOperator && set.operations.listTriggers?.variables.has('filter')) };
  }

  listTriggers(args: ListArgs = {}): Promise<Connection<RawItem>> {
    return this.connection('listTriggers', (set) => ({
      filter: triggerFilter(args.filter, set),
      limit: args.limit,
      nextToken: args.nextToken || undefined,
      orderBy: args.orderBy,
    }));
  }

  async getTrigger(publicId: string): Promise<RawItem | null> {
    const data = await this.run<Record<string, RawItem | null>>('getTrigger', () => ({ publicId }));
    return data.getTrigger ?? null;
  }

  listMoments(args: ListArgs = {}): Promise<Connection<RawItem>> {
    return this.connection('listMoments', (set) => translateListMomentsArgs(args, set.listMoments));
  }

  async getMoment(publicId: string): Promise<RawItem | null> {
    const data = await this.run<Record<string, RawItem | null>>('getMoment', () => ({ publicId }));
    return data.getMoment ?? null;
  }

  /** Every moment across all pages, e.g. `iterateMoments({ filter: { createdAt: { ge } }, orderBy: [{ createdAt: 'ASC' }] })`. */
  async *iterateMoments(args: ListArgs = {}): AsyncGenerator<RawItem> {
    let nextToken = args.nextToken;
    do {
      const page = await this.listMoments({ ...args, nextToken });
      yield* page.items;
      nextToken = page.nextToken;
    } while (nextToken);
  }

  onMoments(handler: (moment: RawItem) => void): Unsubscribe {
    return this.subscribe('onCreateMoment', handler);
  }

  onTriggerCreated(handler: (trigger: RawItem) => void): Unsubscribe {
    return this.subscribe('onCreateTrigger', handler);
  }

  onTriggerUpdated(handler: (trigger: RawItem) => void): Unsubscribe {
    return this.subscribe('onUpdateTrigger', handler);
  }

  onConnectionStateChange(listener: (state: MomentsConnectionState) => void): Unsubscribe {
    const onState = (state: RealtimeState) => listener(state);
    const onReady = ({ reconnect }: { reconnect: boolean }) => listener({ status: 'subscribed', reconnect });
    this.realtime.on('state', onState);
    this.realtime.on('ready', onReady);
    this.refusalListeners.add(listener);
    return () => {
      this.realtime.off('state', onState);
      this.realtime.off('ready', onReady);
      this.refusalListeners.delete(listener);
    };
  }

  refusedSubscriptions(): ReadonlyMap<MomentsOperation, string> {
    return new Map(this.refused);
  }

  private subscriptionRefused(operation: MomentsOperation, error: string): void {
    this.refused.set(operation, error);
    for (const listener of this.refusalListeners) listener({ status: 'subscription_refused', operation, error });
  }

  async close(): Promise<void> {
    this.auth.close();
    await this.realtime.stop();
  }

  private async connection(operation: 'listMoments' | 'listTriggers', variables: (set: OperationSet) => Record<string, unknown>): Promise<Connection<RawItem>> {
    const data = await this.run<Record<string, Connection<RawItem> | null>>(operation, variables);
    const conn = data[operation];
    if (!conn || !Array.isArray(conn.items))
      throw new MomentsHttpError(`Moments GraphQL ${operation} answered without a connection ({ items, nextToken })`, { retryable: false });
    return conn;
  }

  /**
   * Runs one operation with the variables its document declares. A validation failure of a
   * document built by introspection re-introspects once (the engine's schema may have changed)
   * and tries again; a refused document becomes a MomentsDocumentError naming the config key.
   */
  private async run<T>(operation: MomentsOperation, variables: (set: OperationSet) => Record<string, unknown>): Promise<T> {
    for (;;) {
      const set = await this.discovery.resolve();
      this.operationSet = set;
      const op = await this.discovery.require(operation);
      try {
        const result = await this.graphql.request<T>(operation, op.document, declaredOnly(variables(set), op));
        this.rediscovered.delete(operation);
        return result;
      } catch (err) {
        if (!isValidationFailure(err)) throw err;
        if (op.origin === 'config' || this.rediscovered.has(operation)) throw this.discovery.rejected(op, err.errors.map((e) => e.message).join('; '), err);
        this.rediscovered.add(operation);
        this.logger.warn({ operation, err: err.message }, `moments: the engine refused ${operation} as invalid; introspecting its schema again`);
        this.discovery.invalidate();
      }
    }
  }

  private subscribe(operation: MomentsOperation, handler: (item: RawItem) => void, retried = false): Unsubscribe {
    const op = this.operationSet?.operations[operation];
    if (!op)
      throw (
        this.operationSet?.unavailable[operation] ??
        new MomentsDocumentError('moments_document_missing', operation, `${operation}: call login() before subscribing`)
      );
    let current: Unsubscribe | undefined;
    let closed = false;
    const sub = this.realtime.subscribe(
      op.document,
      {},
      {
        next: (data) => {
          const item = rootValue(data);
          if (item) handler(item);
        },
        error: (err) => {
          const engineText = err.message;
          if (op.origin === 'introspection' && !retried && !closed) {
            // Built from a schema that may have changed since: introspect again and subscribe anew, once.
            this.logger.warn({ operation, err: engineText }, `moments: the engine refused the ${operation} subscription; introspecting its schema again`);
            this.discovery.invalidate();
            void this.operations()
              .then(() => {
                if (!closed) current = this.subscribe(operation, handler, true);
              })
              .catch((e: unknown) => {
                this.logger.error({ operation, err: (e as Error).message }, `moments: ${(e as Error).message}`);
                this.subscriptionRefused(operation, (e as Error).message);
              });
            return;
          }
          const refusal = this.discovery.rejected(op, engineText).message;
          this.logger.error({ operation }, refusal);
          if (!closed) this.subscriptionRefused(operation, refusal);
        },
      },
    );
    current = () => sub.unsubscribe();
    this.realtime.start();
    return () => {
      closed = true;
      this.refused.delete(operation);
      current?.();
    };
  }
}

/** A `{ updatedAt: { ge } }` bound in the operator this engine takes (dropped when it has none: the caller compares). */
function triggerFilter(filter: ModelFilter | undefined, set: OperationSet): ModelFilter | undefined {
  const updatedAt = filter?.updatedAt as FieldFilter | undefined;
  if (!filter || !updatedAt || Array.isArray(updatedAt)) return filter;
  const { updatedAt: _bound, ...rest } = filter;
  const out: ModelFilter = rest;
  const bound = rewriteLowerBound(updatedAt, set.listTriggers.updatedAtOperator);
  if (bound) out.updatedAt = bound;
  return Object.keys(out).length ? out : undefined;
}

/** Only the variables the document declares, and none that are undefined. */
function declaredOnly(variables: Record<string, unknown>, op: ResolvedOperation): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) if (value !== undefined && op.variables.has(name)) out[name] = value;
  return out;
}

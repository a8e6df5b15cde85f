import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { CognitoAuth } from './cognito-auth.js';
import { ON_CREATE_MOMENT, ON_CREATE_TRIGGER, ON_UPDATE_TRIGGER } from './graphql-documents.js';
import { GraphqlClient, type ListArgs, type RawItem } from './graphql-client.js';
import type { Connection } from './moments-schemas.js';
import { RealtimeClient, type RealtimeAuthMode, type RealtimeState } from './realtime-client.js';

export type Unsubscribe = () => void;

/** Real-time connection states, plus `subscribed`: every subscription is live (back-fill now). */
export type MomentsConnectionState = RealtimeState | { status: 'subscribed'; reconnect: boolean };

/**
 * The documented Moments SDK surface the source relies on. Our MomentsClient implements it; the
 * official `@dataworks-technology/moments` package (loaded with `sdk:`) is used through it too.
 */
export interface MomentsApi {
  login(username: string, password: string): Promise<void>;
  listTriggers(args?: ListArgs): Promise<Connection<RawItem>>;
  getTrigger(publicId: string): Promise<RawItem | null>;
  listMoments(args?: ListArgs): Promise<Connection<RawItem>>;
  getMoment(publicId: string): Promise<RawItem | null>;
  onMoments(handler: (moment: RawItem) => void): Unsubscribe;
  onTriggerCreated(handler: (trigger: RawItem) => void): Unsubscribe;
  onTriggerUpdated(handler: (trigger: RawItem) => void): Unsubscribe;
  /** Optional in an SDK: without it the source can back-fill only at start. */
  onConnectionStateChange?(listener: (state: MomentsConnectionState) => void): Unsubscribe;
  close(): Promise<void>;
}

export interface SubscriptionDocuments {
  moments: string;
  triggerCreated: string;
  triggerUpdated: string;
}

export interface MomentsClientOptions {
  cognitoEndpoint: string;
  clientId: string;
  clientSecret?: string;
  graphqlUrl: string;
  /** Defaults to the AppSync rule: `appsync-api` → `appsync-realtime-api`, else `<graphqlUrl>/realtime`. */
  realtimeUrl?: string;
  /** @defaultValue `subprotocol` */
  realtimeAuth?: RealtimeAuthMode;
  /** Override the subscription documents (the real schema may name them otherwise). */
  documents?: Partial<SubscriptionDocuments>;
  logger?: Logger;
  /** Reconnect backoff. @defaultValue 500 / 30000 ms */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Refresh tokens this long before expiry. @defaultValue 300000 */
  refreshMarginMs?: number;
}

/** AppSync's rule for the real-time endpoint of a GraphQL endpoint. */
export function realtimeUrlFor(graphqlUrl: string): string {
  const u = new URL(graphqlUrl);
  if (u.hostname.includes('appsync-api')) {
    u.hostname = u.hostname.replace('appsync-api', 'appsync-realtime-api');
  } else {
    // Custom domains serve the real-time API under `<graphql path>/realtime`.
    u.pathname = `${u.pathname.replace(/\/$/, '')}/realtime`;
  }
  u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
  return u.toString();
}

/** The payload of a subscription `data` frame is `{ <rootField>: object }`; the field name depends on the document. */
function rootValue(data: Record<string, unknown>): RawItem | undefined {
  const value = Object.values(data)[0];
  return value !== null && typeof value === 'object' ? (value as RawItem) : undefined;
}

/**
 * The bridge's own Moments Engine client: Cognito auth, GraphQL queries and AppSync real-time
 * subscriptions behind the vendor SDK's method names.
 */
export class MomentsClient implements MomentsApi {
  readonly auth: CognitoAuth;
  readonly graphql: GraphqlClient;
  readonly realtime: RealtimeClient;
  private readonly documents: SubscriptionDocuments;

  constructor(options: MomentsClientOptions) {
    this.auth = new CognitoAuth({
      endpoint: options.cognitoEndpoint,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      refreshMarginMs: options.refreshMarginMs,
    });
    const token = () => this.auth.token();
    const refreshToken = () => this.auth.invalidate();
    this.graphql = new GraphqlClient({ url: options.graphqlUrl, token, refreshToken });
    this.realtime = new RealtimeClient({
      url: options.realtimeUrl ?? realtimeUrlFor(options.graphqlUrl),
      host: new URL(options.graphqlUrl).host,
      auth: options.realtimeAuth,
      token,
      refreshToken,
      logger: options.logger ?? silentLogger(),
      initialDelayMs: options.reconnect?.initialDelayMs,
      maxDelayMs: options.reconnect?.maxDelayMs,
    });
    this.documents = {
      moments: options.documents?.moments ?? ON_CREATE_MOMENT,
      triggerCreated: options.documents?.triggerCreated ?? ON_CREATE_TRIGGER,
      triggerUpdated: options.documents?.triggerUpdated ?? ON_UPDATE_TRIGGER,
    };
  }

  get tenant(): string | undefined {
    return this.auth.tenant;
  }

  async login(username: string, password: string): Promise<void> {
    await this.auth.login(username, password);
  }

  listTriggers(args?: ListArgs): Promise<Connection<RawItem>> {
    return this.graphql.listTriggers(args);
  }

  getTrigger(publicId: string): Promise<RawItem | null> {
    return this.graphql.getTrigger(publicId);
  }

  listMoments(args?: ListArgs): Promise<Connection<RawItem>> {
    return this.graphql.listMoments(args);
  }

  getMoment(publicId: string): Promise<RawItem | null> {
    return this.graphql.getMoment(publicId);
  }

  /** Every moment across all pages, e.g. `iterateMoments({ filter: { createdAt: { ge } }, orderBy: [{ createdAt: 'ASC' }] })`. */
  iterateMoments(args?: ListArgs): AsyncGenerator<RawItem> {
    return this.graphql.paginate('listMoments', args);
  }

  onMoments(handler: (moment: RawItem) => void): Unsubscribe {
    return this.subscribe(this.documents.moments, handler);
  }

  onTriggerCreated(handler: (trigger: RawItem) => void): Unsubscribe {
    return this.subscribe(this.documents.triggerCreated, handler);
  }

  onTriggerUpdated(handler: (trigger: RawItem) => void): Unsubscribe {
    return this.subscribe(this.documents.triggerUpdated, handler);
  }

  onConnectionStateChange(listener: (state: MomentsConnectionState) => void): Unsubscribe {
    const onState = (state: RealtimeState) => listener(state);
    const onReady = ({ reconnect }: { reconnect: boolean }) => listener({ status: 'subscribed', reconnect });
    this.realtime.on('state', onState);
    this.realtime.on('ready', onReady);
    return () => {
      this.realtime.off('state', onState);
      this.realtime.off('ready', onReady);
    };
  }

  async close(): Promise<void> {
    this.auth.close();
    await this.realtime.stop();
  }

  private subscribe(query: string, handler: (item: RawItem) => void): Unsubscribe {
    const sub = this.realtime.subscribe(query, {}, {
      next: (data) => {
        const item = rootValue(data);
        if (item) handler(item);
      },
    });
    this.realtime.start();
    return () => sub.unsubscribe();
  }
}

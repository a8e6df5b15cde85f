import type { Logger } from '../../../core/log.js';
import type { MomentsRealtimeError } from '../moments-errors.js';
import type { RealtimeAuthMode } from './realtime-messages.js';

/** The real-time client's contract: its options, the states it reports and the events it emits. */

export type RealtimeState =
  | { status: 'idle' }
  | { status: 'connecting'; attempt: number }
  | { status: 'connected'; since: string }
  | { status: 'reconnecting'; attempt: number; nextRetryInMs: number; lastError: string }
  | { status: 'auth_failed'; error: string }
  | { status: 'stopped' };

export interface RealtimeClientOptions {
  /** `wss://…/graphql/realtime` or the `appsync-realtime-api` host. */
  url: string;
  /** Host of the GraphQL endpoint: AppSync checks it in the auth header. */
  host: string;
  /** How the auth header travels. @defaultValue `subprotocol` */
  auth?: RealtimeAuthMode;
  token: () => Promise<string>;
  /** Called when the server refused the token (HTTP 401 / UnauthorizedException). */
  refreshToken: () => Promise<string>;
  logger: Logger;
  /** First reconnect delay cap; doubles per attempt. @defaultValue 500 */
  initialDelayMs?: number;
  /** @defaultValue 30000 */
  maxDelayMs?: number;
  /** Give up on a handshake without `connection_ack` after this long. @defaultValue 15000 */
  connectionInitTimeoutMs?: number;
  /** Source of randomness for the jitter (tests may pin it). @defaultValue Math.random */
  random?: () => number;
  /**
   * The reconnect backoff starts over only after a connection stayed up this long past its
   * `connection_ack`: a peer that acks and then drops (or acks with a keep-alive timeout it does
   * not honour) must not turn the backoff into a reconnect storm. @defaultValue 30000
   */
  stableAfterMs?: number;
  /**
   * Bounds for the peer's `connectionTimeoutMs`: a value outside them is clamped (and logged once);
   * an absent or non-numeric one means AppSync's documented 300000. @defaultValue `{ minMs: 1000, maxMs: 600000 }`
   */
  connectionTimeoutBounds?: { minMs: number; maxMs: number };
  /**
   * Largest WebSocket message accepted (ws `maxPayload`); a larger one drops the connection, which
   * is logged, counted and reconnected. AppSync caps a subscription message at 240 KB
   * (https://docs.aws.amazon.com/general/latest/gr/appsync.html, "Subscription payload size"); the
   * default leaves room for the protocol envelope and a self-hosted engine. @defaultValue 1048576 (1 MiB)
   */
  maxMessageBytes?: number;
}

export interface RealtimeClientEvents {
  state: [RealtimeState];
  /** Connected, acknowledged and every subscription answered (start_ack or error). */
  ready: [{ reconnect: boolean }];
  /** A protocol problem that did not stop the client (malformed frame, refused subscription, …). */
  protocolError: [MomentsRealtimeError];
}

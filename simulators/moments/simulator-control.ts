import type { GeneratorOptions } from './moment-generator.js';
import type { SimMoment, SimMomentInput, SimTrigger } from './moments-store.js';
import type { SimAppClient, SimUser } from './token-issuer.js';

export type FailTarget = 'cognito' | 'graphql' | 'realtime';

export interface SimulatorStats {
  passwordLogins: number;
  refreshLogins: number;
  failedLogins: number;
  graphqlRequests: number;
  graphqlUnauthorized: number;
  /** GraphQL requests that asked for `__schema` (answered or refused). */
  introspectionRequests: number;
  realtimeConnections: number;
  realtimeRefused: number;
  openSockets: number;
  activeSubscriptions: number;
  /** Live subscriptions to `onCreateMoment` now: one per bridge replica that reads the source. */
  momentSubscriptions: number;
  /** The most real-time sockets open at once, since start or the last resetPeaks(). */
  peakOpenSockets: number;
  /** The most `onCreateMoment` subscriptions live at once, since start or the last resetPeaks(). */
  peakMomentSubscriptions: number;
  startsReceived: number;
  moments: number;
  triggers: number;
  generated: number;
}

/**
 * The control API, usable in-process and over HTTP (`POST /_control/<name>`, JSON body). Inputs
 * and results are the canonical records, typed as the vendor documents them (numeric ids,
 * object markers), whatever schema variant is served.
 */
export interface MomentsSimulatorControl {
  /** Creates a moment; `live: false` stores it without publishing (as if the socket missed it). */
  createMoment(input?: SimMomentInput, options?: { live?: boolean }): SimMoment;
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
  /** Adds or replaces a user; `email` is a sign-in alias, `sub` defaults to a fresh UUID. */
  addUser(user: SimUser): void;
  addClient(client: SimAppClient): void;
  /** While on, real-time handshakes are answered 503 (the "upstream is down" window). */
  refuseRealtime(refuse: boolean): void;
  /** Sends a raw text frame on every socket (malformed frames, odd types). */
  sendRaw(text: string): void;
  /** Sends raw bytes as a text frame on every socket (invalid UTF-8). */
  sendRawBytes(bytes: Uint8Array): void;
  /** Sends a `data` frame whose item is `itemJson` verbatim to every subscription on `field` (e.g. onCreateMoment); returns the frames sent. */
  sendDataText(field: string, itemJson: string): number;
  /** The connection_ack payload for new connections (undefined: `{ connectionTimeoutMs }` as configured). */
  setConnectionAck(payload: Record<string, unknown> | undefined): void;
  /** Sends `connection_error` on every socket. */
  sendConnectionError(errorType?: string): void;
  startGenerator(options?: GeneratorOptions): void;
  stopGenerator(): void;
  stats(): SimulatorStats;
  /** Starts the peak counts (peakOpenSockets, peakMomentSubscriptions) over from what is open now. */
  resetPeaks(): void;
}

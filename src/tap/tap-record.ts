/**
 * What `moments-bridge tap` receives: one compact JSON record per fact, published by every running
 * daemon on the Redis Pub/Sub channel {@link tapChannel} while a tap listens. The fields are the
 * contract of `tap --json` (docs/operations.md).
 */
export type TapRecord = TapHello | TapEvent | TapAttempt;

/** A daemon noticed a listener and starts publishing. */
export interface TapHello {
  type: 'hello';
  /** ISO time the daemon published the record. */
  at: string;
  /** `<host>:<pid>` of the publishing daemon (several replicas may publish on one channel). */
  daemon: string;
}

/** An event the pipeline accepted, with its routing decision. */
export interface TapEvent {
  type: 'event';
  at: string;
  daemon: string;
  id: string;
  source: string;
  kind: string;
  /** The event's own time. */
  time: string;
  title?: string;
  /** Routes that matched; 0 means unrouted. More matches than `deliveries` routes: held (throttled, deduplicated or grouped). */
  matched: number;
  /** The deliveries produced, one per route and connector. */
  deliveries: { route: string; connector: string }[];
  /** Items set aside instead of delivered (unroutable event, payload that failed to render). */
  setAside?: { reason: string; detail: string; route?: string; connector?: string }[];
  /** The upstream object; replaced by `{ truncated: <bytes> }` past {@link TAP_DATA_LIMIT} bytes. */
  data?: unknown;
}

/** What came of one delivery attempt. */
export interface TapAttempt {
  type: 'attempt';
  at: string;
  daemon: string;
  deliveryId: string;
  eventId: string;
  route: string;
  connector: string;
  attempt: number;
  /**
   * `delivered`; `retry` (another attempt follows unless `retry.maxAge` runs out first);
   * `rate-limited` (the sink asked to wait: no attempt spent); `dead-lettered` (permanent failure
   * or the last attempt).
   */
  outcome: 'delivered' | 'retry' | 'rate-limited' | 'dead-lettered';
  reason?: string;
  /** Event time → end of this attempt. */
  latencyMs: number;
}

/** Serialized event data past this many bytes is not sent (a tap is for watching, not copying). */
export const TAP_DATA_LIMIT = 8_192;

/** The Pub/Sub channel the daemons publish on. */
export const tapChannel = (keyPrefix: string): string => `${keyPrefix}:tap`;

/**
 * Daemons publish only while this key exists. A tap joining sets it to a new random value (the
 * daemons greet each new value with a `hello` record, so the tap knows who streams) and, while it
 * runs, renews its expiry without changing it; when the last tap goes, the key expires. A key
 * rather than `PUBSUB NUMSUB`, which counts one node of a Redis Cluster, and its expiry is
 * Redis's, so no clocks need agree.
 */
export const tapListeningKey = (keyPrefix: string): string => `${keyPrefix}:tap:listening`;

/** How long a tap's mark lasts without a refresh, and how often a tap refreshes it. */
export const TAP_LISTENING_TTL_MS = 6_000;
export const TAP_REFRESH_MS = 2_000;
/** How often a daemon checks for a listener: the delay before a new tap sees records. */
export const TAP_POLL_MS = 1_000;

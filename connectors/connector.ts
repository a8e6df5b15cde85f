import type { RedisClient } from '../src/redis/redis-client.js';
import type { z } from 'zod';
import type { BridgeEvent } from '../src/core/event.js';
import type { Logger } from '../src/core/log.js';
import type { ConfigIssue } from '../src/core/config-error.js';

/**
 * The Connector API. A connector is one folder under `connectors/` exporting a
 * {@link ConnectorPlugin}: a zod config schema, and a factory that builds a {@link Connector}.
 * A connector only answers "delivered", "retry" or "give up"; backoff, attempts, dead letters,
 * metrics and logging of attempts belong to the queue layer.
 */

/** What the queue hands a connector: exactly what was rendered at enqueue time. */
export interface Delivery<TPayload = unknown> {
  /** hash(event id, route, connector): the BullMQ job id and the sink's idempotency key. */
  id: string;
  event: BridgeEvent;
  route: string;
  connector: string;
  payload: TPayload;
  /** 1 for the first attempt. */
  attempt: number;
}

export type DeliveryResult =
  | { status: 'delivered'; info?: Record<string, unknown> }
  /** Try again later; `retryAfterMs` (from Retry-After & co.) delays without spending an attempt. */
  | { status: 'retry'; reason: string; retryAfterMs?: number }
  /** Never going to work (bad request, bad auth, unknown channel): straight to the dead letters. */
  | { status: 'permanent'; reason: string; detail?: unknown };

export const delivered = (info?: Record<string, unknown>): DeliveryResult => ({ status: 'delivered', ...(info ? { info } : {}) });
export const retryable = (reason: string, retryAfterMs?: number): DeliveryResult => ({
  status: 'retry',
  reason,
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});
export const permanent = (reason: string, detail?: unknown): DeliveryResult => ({ status: 'permanent', reason, ...(detail !== undefined ? { detail } : {}) });

/** Renders one route's payload for an event at enqueue time. Throws `PayloadError` when it can never be sent. */
export interface PayloadRenderer {
  render(event: BridgeEvent): unknown;
}

export interface Connector<TPayload = unknown> {
  /**
   * Compiles the payload renderer for one route, with that route's per-connector overrides
   * (`to: [{ connector: ops-slack, channel: "#x" }]`). Called once per config load; throws
   * `InputError` for bad templates or override keys so `check` can report them.
   */
  renderer(overrides?: Record<string, unknown>): PayloadRenderer;
  /** Sends one delivery. Must not throw for sink errors: classify them. `signal` aborts at the attempt timeout. */
  deliver(delivery: Delivery<TPayload>, signal: AbortSignal): Promise<DeliveryResult>;
  /** Optional: sends several deliveries at once (Sheets, Kinesis); one result per delivery, same order. */
  deliverBatch?(deliveries: Delivery<TPayload>[], signal: AbortSignal): Promise<DeliveryResult[]>;
  /**
   * Optional: what must stay in order for this sink (Slack: the channel; PagerDuty: the dedup key;
   * Kinesis: the record's partition key; Sheets: the tab). With `partitions: N` the queue sends
   * deliveries with the same key to the same partition, so they keep the order one queue gives.
   * A pure function of the rendered payload (it is read again at every enqueue of the same
   * delivery, and must give the same answer for dedup to find the earlier job). Without it, or when
   * it returns an empty string: the event id.
   */
  partitionKey?(payload: TPayload, event: BridgeEvent): string;
  /** Queue options this sink needs unless the user overrides them (e.g. Slack: 1 message/s). */
  readonly defaults?: QueueDefaults;
  close?(): Promise<void>;
}

/**
 * The delivery options a connector may ask for in {@link Connector.defaults}: those the queue owns
 * and documents (src/queue/delivery-options-schema.ts), written as in config — durations in
 * milliseconds or as text (`100ms`). Declared here because a connector never imports the queue.
 */
export interface QueueDefaults {
  concurrency?: number;
  rateLimit?: { max: number; duration: number | string };
  retry?: { maxAttempts?: number; backoff?: number | string; maxBackoff?: number | string; maxAge?: number | string };
  timeout?: number | string;
  batch?: { maxSize?: number; window?: number | string };
}

export interface ConnectorContext {
  /** The connector's name in config. */
  name: string;
  /** Shared ioredis connection for connector state (Slack thread ts, Sheets key index). */
  redis: RedisClient;
  /** Prefix for Redis keys: use `${keyPrefix}connector:${name}:…`. */
  keyPrefix: string;
  logger: Logger;
  /** Directory of the config file: resolve relative paths (key files, `type: module` paths) against it. */
  configDir: string;
}

export interface ConnectorPlugin<S extends z.ZodObject = z.ZodObject> {
  type: string;
  /** Strict zod object with `type: z.literal(<type>)` and the connector's own fields, each `.describe()`d; secrets via `secretString()`. */
  configSchema: S;
  create(config: z.output<S>, ctx: ConnectorContext): Connector | Promise<Connector>;
  /**
   * Optional: problems the schema cannot see but that would make every delivery fail (e.g. a
   * webhook target the SSRF guard refuses), found without the network. Called with the
   * connector's config, and again per route target with that target's overrides. Paths are
   * relative to the connector (or to the `to:` entry, for overrides). Run by `check` and at start.
   */
  configProblems?(config: z.output<S>, overrides?: Record<string, unknown>): ConfigIssue[];
  /**
   * Optional, for `check --online`: one harmless call that proves the credentials and target work
   * (Slack `auth.test`, a Google token exchange, Kinesis `DescribeStreamSummary`). Never sends a
   * delivery. Without it the connector is reported as "not checked".
   */
  probe?(config: z.output<S>, ctx: ProbeContext): Promise<ProbeResult>;
}

export interface ProbeContext {
  name: string;
  configDir: string;
  /** Aborts the probe at the `check --online` timeout. */
  signal: AbortSignal;
}

/** The outcome of one online check: `ok` and `failed` say why in `detail`; `not-checked` says why not. */
export interface ProbeResult {
  status: 'ok' | 'failed' | 'not-checked';
  detail: string;
}

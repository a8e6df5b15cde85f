import type { RedisClient } from '../redis/redis-client.js';
import type { z } from 'zod';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import { sourceKeyBase } from '../redis/redis-keys.js';
import type { SourceLease } from './source-lease.js';

export type { SourceLease } from './source-lease.js';

/** What a source reports about its upstream connection (logs, metrics, /readyz). */
export type SourceState =
  | { status: 'starting' }
  | { status: 'connected'; since: string }
  | { status: 'reconnecting'; attempt: number; nextRetryInMs: number; lastError?: string }
  | { status: 'auth_failed'; error: string }
  /** Running, but not as it should: e.g. the upstream refused a subscription and items arrive only by polling. */
  | { status: 'degraded'; since: string; reason: string }
  | { status: 'stopped' };

/** An upstream object that failed validation: kept for inspection, never silently dropped. */
export interface QuarantinedItem {
  source: string;
  kind: string;
  reason: string;
  raw: unknown;
}

/** Everything a source may use. A source knows nothing of routes, queues or sinks. */
export interface SourceContext {
  /** The source's name in config (the `source` field of its events). */
  name: string;
  /** A dedicated ioredis connection for source state (cursor, dedup sets). */
  redis: RedisClient;
  /** The daemon's key prefix, e.g. `mb:`. A source's own keys start with `keyBase`, not this. */
  keyPrefix: string;
  /**
   * Prefix of every Redis key of this source's own state, e.g. `mb:source:orders:` (under
   * `redis.cluster`, `mb:source:{orders}:`: one slot, so a script may touch them together).
   * Made by sourceKeyBase(); absent means `${keyPrefix}source:${name}:`.
   */
  keyBase?: string;
  /** Bound to this source (`source: <name>` on every line) by whoever runs it: do not add the field again. */
  logger: Logger;
  /** Directory of the config file: resolve relative paths (e.g. an `sdk:` package) against it. */
  configDir: string;
  /**
   * Hands one event to the pipeline. Resolves once the event's deliveries are safely enqueued in
   * Redis; a source must await it before moving its cursor. Rejects if the pipeline could not take
   * the event (e.g. Redis down) — the source keeps its cursor and retries/back-fills later.
   */
  emit(event: BridgeEvent): Promise<void>;
  /**
   * Optional: hands several events to the pipeline at once, in order, with the same promise as
   * `emit` for all of them (resolves once every delivery is enqueued; rejects if any could not
   * be, in which case none may be treated as accepted). One queue round trip for the whole batch
   * instead of one per event, which is what lets a busy source keep up. A source that uses it
   * falls back to `emit` per event when it is absent.
   */
  emitBatch?(events: BridgeEvent[]): Promise<void>;
  /** Keeps an invalid upstream object (capped Redis list + metric + log line). */
  quarantine(item: Omit<QuarantinedItem, 'source'>): Promise<void>;
  /**
   * Present while this replica reads the source as its one leader (`leadership.readers: leader`):
   * pass it to the writes that record progress (evalFenced / fencedCommand in source-lease.ts) so
   * they are refused once another replica took the source over. Absent when every replica reads
   * the source; a source that ignores it still works (its writes are just not fenced).
   */
  lease?: SourceLease;
}

/**
 * How far a source is behind: what /readyz and the `mb_source_*` gauges read. A source that
 * does not report it is tracked from outside, by its emit calls (see EmitProgress).
 */
export interface SourceProgress {
  /** Items taken from upstream and not yet accepted by the pipeline (in flight, or waiting for a retry). */
  pending: number;
  /** Epoch ms since the oldest of those has been waiting. */
  oldestPendingSince?: number;
  /** Epoch ms the pipeline last accepted something from this source (its cursor moved). */
  lastProgressAt?: number;
  /** How far the cursor is behind the upstream's newest item, in ms, when the source knows. */
  lagMs?: number;
}

export interface Source {
  /** Connects and starts emitting. Resolves once the first connection attempt has been made. */
  start(): Promise<void>;
  /** Stops intake: closes upstream connections, stops timers. */
  stop(): Promise<void>;
  state(): SourceState;
  /**
   * Optional: the upstream's past events created in [since, until), oldest first, with the same
   * ids the live stream gives them (so the queue's dedup makes a back-fill over already-delivered
   * events a no-op). Used by `moments-bridge backfill`. May be called on a source that was never
   * started; must not move the live cursor or emit through the context.
   */
  history?(since: Date, until: Date): AsyncIterable<BridgeEvent>;
  /** Optional: the source's own view of its backlog (more precise than what emit calls show). */
  progress?(): SourceProgress;
}

/** One entry of the source registry: its config schema and a factory. */
export interface SourcePlugin<S extends z.ZodType = z.ZodType> {
  type: string;
  /** zod schema of the source's config block (a strict object with a literal `type`). */
  configSchema: S;
  create(config: z.output<S>, ctx: SourceContext): Source;
}

/** The prefix of the source's own Redis keys (see SourceContext.keyBase). */
export function stateKeyBase(ctx: Pick<SourceContext, 'keyPrefix' | 'keyBase' | 'name'>): string {
  return ctx.keyBase ?? sourceKeyBase(ctx.keyPrefix, ctx.name);
}

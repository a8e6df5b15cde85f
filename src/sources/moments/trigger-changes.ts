import { eventId, type BridgeEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import type { RateLimitedLog } from '../../core/log-rate-limit.js';
import { counter } from '../../core/metrics.js';
import { StaleRedisEpochError, type RedisEpoch } from '../shared/redis-epoch.js';
import type { SourceContext } from '../source.js';
import type { RawItem } from './graphql-client.js';
import { normalizeIso } from './moment-cursor.js';
import { quarantineCopy } from './moment-event.js';
import type { MomentsApi } from './moments-api.js';
import { parseTrigger, triggerTime, type Trigger } from './moments-schemas.js';
import type { TriggerCache, TriggerChange } from './trigger-cache.js';
import { TriggerOutbox, type PendingChange } from './trigger-outbox.js';
import type { TriggerWatermark } from './trigger-watermark.js';

const held = counter('mb_moments_trigger_changes_held_total', 'Trigger changes the pipeline refused at first and that were held for retry', ['source']);
const dropped = counter(
  'mb_moments_trigger_changes_dropped_total',
  'Trigger changes not held because the retry outbox was full (the next trigger back-fill brings their latest state)',
  ['source'],
);
const recovered = counter('mb_moments_trigger_changes_backfilled_total', 'Trigger changes found by a trigger back-fill (missed live, or dropped)', ['source']);

/** Trigger change event ids remembered as handed over, so a back-fill does not offer them again. */
const REMEMBERED = 10_000;
/** The watermark before any trigger exists: every trigger later seen is news. */
const EPOCH = '1970-01-01T00:00:00.000Z';

export interface TriggerChangesOptions {
  ctx: SourceContext;
  api: () => MomentsApi | undefined;
  cache: TriggerCache;
  /** On the epoch's connection: the watermark moves only on the connection its back-fill read it from. */
  watermark: TriggerWatermark;
  epoch: RedisEpoch;
  /**
   * Redis lost the watermark it had (restarted empty): changes updated this long ago or later are
   * offered again, as moments are from the `backfill` window.
   */
  lostWatermarkLookbackMs: number;
  log: RateLimitedLog;
  retry: { initialDelayMs: number; maxDelayMs: number };
  /** Called when the outbox dropped changes and is empty again: run a trigger back-fill. */
  requestBackfill: () => void;
  maxPending?: number;
}

/**
 * `trigger.created` / `trigger.updated` events, none lost: a change the pipeline refuses is held
 * in the TriggerOutbox and retried until it is in Redis; changes missed live (socket down, daemon
 * down, outbox full) are found by a back-fill that lists triggers changed at or after the
 * watermark in Redis. The watermark only moves over changes the pipeline accepted, never past a
 * held one, and not from live changes while a back-fill is due (a live change may be newer than
 * a missed one).
 */
export class TriggerChanges {
  private readonly options: TriggerChangesOptions;
  readonly outbox: TriggerOutbox;
  private readonly handedOver = new Set<string>();
  private backfillDue = true;
  /** False once changes were dropped (outbox full) until the next back-fill: the cache saw them, the pipeline did not. */
  private cacheTrusted = true;
  private lastProgressAt: number | undefined;
  /** The Redis epoch in which the last back-fill read the watermark. */
  private markEpoch: number | undefined;
  /** Redis held a watermark once: finding none later means Redis lost it, not a first start. */
  private hadMark = false;
  /** The epoch the outbox's current hand-over started on (the outbox hands over one batch at a time). */
  private outboxEpoch = 0;

  constructor(options: TriggerChangesOptions) {
    this.options = options;
    const name = options.ctx.name;
    this.outbox = new TriggerOutbox({
      emit: (events) => {
        this.outboxEpoch = options.epoch.current;
        return this.emit(events);
      },
      accepted: (changes) => this.accepted(changes, false, this.outboxEpoch),
      failed: (err, attempt, delay) =>
        options.log.warn(
          `moments ${name} trigger retry`,
          { source: name, attempt, delayMs: delay, held: this.outbox.size },
          `moments source ${name}: the pipeline refused ${this.outbox.size} trigger change(s), retrying in ${delay} ms: ${errorMessage(err)}`,
        ),
      drainedAfterOverflow: () => options.requestBackfill(),
      maxPending: options.maxPending,
      initialDelayMs: options.retry.initialDelayMs,
      maxDelayMs: options.retry.maxDelayMs,
    });
  }

  /** Epoch ms the pipeline last accepted a trigger change. */
  progressAt(): number | undefined {
    return this.lastProgressAt;
  }

  /** A live notification was or may have been missed: the watermark waits for the next back-fill. */
  markBackfillDue(): void {
    this.backfillDue = true;
  }

  stop(): void {
    this.outbox.stop();
  }

  /**
   * The Redis connection is back and Redis may have lost its last writes, the watermark and the
   * jobs of changes handed over just before together: forget what was handed over and trust
   * neither the cache nor live changes until a back-fill re-read the watermark from Redis.
   */
  redisReconnected(): void {
    this.backfillDue = true;
    this.cacheTrusted = false;
    this.handedOver.clear();
  }

  /** One live change: validate (invalid → quarantine), then hand over or hold. Never throws for a pipeline failure. */
  async handle(kind: TriggerChange, raw: RawItem): Promise<void> {
    const parsed = parseTrigger(raw);
    if (!parsed.ok) {
      await this.options.ctx.quarantine({ kind, reason: parsed.reason, raw: quarantineCopy(raw) });
      return;
    }
    await this.offer(kind, parsed.value);
  }

  /**
   * Lists triggers changed at or after the watermark and offers each change not handed over yet.
   * On the very first run (no watermark) only fills the cache and sets the watermark: triggers that
   * existed before the bridge are not news. Throws when listing or Redis fails (the caller retries).
   */
  async backfill(): Promise<number> {
    const api = this.options.api();
    if (!api) return 0;
    const epoch = this.options.epoch.current;
    let mark = await this.options.watermark.load();
    this.markEpoch = epoch;
    if (mark) this.hadMark = true;
    else if (this.hadMark) {
      mark = new Date(Date.now() - this.options.lostWatermarkLookbackMs).toISOString();
      const name = this.options.ctx.name;
      this.options.log.warn(
        `moments ${name} watermark lost`,
        { source: name, since: mark },
        `moments source ${name}: Redis lost the trigger watermark (restarted without its data); offering trigger changes since ${mark} again`,
      );
    }
    const filters = Boolean(mark && api.triggerBackfillSupport?.().filters);
    const changes: Array<[TriggerChange, Trigger]> = [];
    let newest: string | undefined;
    let nextToken: string | null | undefined;
    do {
      const page = await api.listTriggers({ limit: 100, nextToken, ...(filters ? { filter: { updatedAt: { ge: mark } } } : {}) });
      for (const raw of page.items) {
        const parsed = parseTrigger(raw);
        if (!parsed.ok) {
          if (!mark || !(String(raw.updatedAt ?? '') < mark))
            await this.options.ctx.quarantine({ kind: 'trigger', reason: parsed.reason, raw: quarantineCopy(raw) });
          continue;
        }
        const trigger = parsed.value;
        // Known in this state already (from a change handed over or held): nothing new. After
        // dropped changes the cache cannot be trusted for that (it saw them), so it is not asked.
        const known = this.cacheTrusted ? this.options.cache.peek(trigger.publicId) : undefined;
        this.options.cache.set(trigger);
        const updated = normalizeIso(triggerTime(trigger, 'updated'));
        if (newest === undefined || updated > newest) newest = updated;
        if (!mark || updated < mark) continue;
        if (known && normalizeIso(triggerTime(known, 'updated')) === updated) continue;
        const created = normalizeIso(triggerTime(trigger, 'created'));
        if (!known && created >= mark) changes.push(['trigger.created', trigger]);
        if (updated !== created) changes.push(['trigger.updated', trigger]);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    // Redis reconnected while listing: the next back-fill (requested by the reconnect) re-reads the watermark.
    if (!this.options.epoch.holds(epoch)) throw new StaleRedisEpochError(`moments source ${this.options.ctx.name}: trigger back-fill`);
    this.backfillDue = false;
    this.cacheTrusted = true;
    if (!mark) {
      await this.options.watermark.advance(newest ?? EPOCH);
      this.hadMark = true;
      return 0;
    }
    // Oldest first: a change accepted before an older one is held must not move the watermark past it.
    changes.sort((a, b) => normalizeIso(triggerTime(a[1], 'updated')).localeCompare(normalizeIso(triggerTime(b[1], 'updated'))));
    let offered = 0;
    for (const [kind, trigger] of changes) if (await this.offer(kind, trigger, true)) offered++;
    recovered.inc({ source: this.options.ctx.name }, offered);
    // Nothing held and nothing new: the watermark may still move up to what the listing saw.
    if (this.outbox.size === 0 && newest && offered === 0 && this.options.epoch.holds(epoch)) await this.options.watermark.advance(newest);
    return offered;
  }

  /** Hands one change over (or holds it behind older held ones). Returns false when it was handed over before. */
  private async offer(kind: TriggerChange, trigger: Trigger, fromBackfill = false): Promise<boolean> {
    const time = normalizeIso(triggerTime(trigger, kind === 'trigger.created' ? 'created' : 'updated'));
    // Each update is its own event: the id carries updatedAt.
    const upstreamId = kind === 'trigger.created' ? trigger.publicId : `${trigger.publicId}@${time}`;
    const event: BridgeEvent = { id: eventId(this.options.ctx.name, kind, upstreamId), source: this.options.ctx.name, kind, time, data: trigger };
    if (this.handedOver.has(event.id) || this.outbox.has(event.id)) return false;
    this.options.cache.set(trigger);
    const change: PendingChange = { event, updatedAt: normalizeIso(triggerTime(trigger, 'updated')), since: Date.now() };
    if (this.outbox.size > 0) {
      this.hold(change);
      return true;
    }
    const epoch = this.options.epoch.current;
    try {
      await this.emit([event]);
    } catch (err) {
      this.hold(change, err);
      return true;
    }
    await this.accepted([change], fromBackfill, epoch);
    return true;
  }

  private hold(change: PendingChange, err?: unknown): void {
    const before = this.outbox.size;
    this.outbox.hold(change, err);
    if (this.outbox.size > before) held.inc({ source: this.options.ctx.name });
    else if (this.outbox.dropped) {
      dropped.inc({ source: this.options.ctx.name });
      this.backfillDue = true;
      this.cacheTrusted = false;
    }
    if (err !== undefined) {
      const name = this.options.ctx.name;
      this.options.log.warn(
        `moments ${name} trigger held`,
        { source: name, eventId: change.event.id, held: this.outbox.size },
        `moments source ${name}: the pipeline refused ${change.event.id}; holding it for retry: ${errorMessage(err)}`,
      );
    }
  }

  private async emit(events: BridgeEvent[]): Promise<void> {
    const { ctx } = this.options;
    if (ctx.emitBatch) return ctx.emitBatch(events);
    for (const e of events) await ctx.emit(e);
  }

  /**
   * Remembers accepted changes and moves the watermark as far as is safe. A failed write only
   * delays it. `epoch`: the Redis epoch the hand-over started on; handed over before a reconnect,
   * the change may be among the writes Redis lost, so it is neither remembered nor moves the
   * watermark (the back-fill after the reconnect offers it again; the queue drops it if it is there).
   */
  private async accepted(changes: readonly PendingChange[], fromBackfill: boolean, epoch: number): Promise<void> {
    this.lastProgressAt = Date.now();
    const current = this.options.epoch.holds(epoch);
    for (const c of changes) {
      if (current) this.handedOver.add(c.event.id);
      if (this.handedOver.size > REMEMBERED) this.handedOver.delete(this.handedOver.values().next().value!);
    }
    if (this.backfillDue && !fromBackfill) return;
    if (!current || epoch !== this.markEpoch) return;
    let mark = changes.reduce((m, c) => (c.updatedAt > m ? c.updatedAt : m), '');
    const oldestHeld = this.outbox.oldestUpdatedAt();
    if (oldestHeld !== undefined && oldestHeld < mark) mark = oldestHeld;
    if (!mark) return;
    try {
      await this.options.watermark.advance(mark);
    } catch (err) {
      const name = this.options.ctx.name;
      this.options.log.warn(
        `moments ${name} watermark`,
        { source: name },
        `moments source ${name}: could not store the trigger watermark (the next back-fill re-reads a little more): ${errorMessage(err)}`,
      );
    }
  }
}

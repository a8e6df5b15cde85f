import type { BridgeEvent } from '../../core/event.js';
import { counter } from '../../core/metrics.js';
import { StaleRedisEpochError, type RedisEpoch } from '../shared/redis-epoch.js';
import { stateKeyBase, type SourceContext } from '../source.js';
import type { RawItem } from './graphql-client.js';
import { MomentCursor, type CursorPosition } from './moment-cursor.js';
import { momentEvent } from './moment-event.js';
import { handOverEvents, type HandOverResult } from './moment-hand-over.js';
import type { MomentsHealth } from './moments-health.js';
import type { MomentEventData } from './moments-schemas.js';
import type { TriggerCache } from './trigger-cache.js';

const duplicates = counter('mb_moments_duplicates_total', 'Moments dropped because their publicId was already emitted', ['source']);
const backfilled = counter('mb_moments_backfilled_total', 'Moments emitted by back-fill (not by the live stream)', ['source']);

/**
 * Moments handled together at most: one seen check, one hand-over to the pipeline (one queue
 * round trip) and one cursor commit per batch instead of per moment. Large enough that a burst
 * costs a few round trips, small enough that one Lua commit stays short on Redis.
 */
export const MAX_BATCH = 500;

export type MomentEvent = BridgeEvent<MomentEventData>;

export interface MomentBatchesOptions {
  /** Quarantine and hand-over go through it; its name labels metrics and messages. */
  ctx: SourceContext;
  /** The connection the cursor and seen set are written on (see RedisEpoch). */
  epoch: RedisEpoch;
  /** How long ids stay in the seen set, ms. */
  dedupTtl: number;
  /** Enrichment of each moment (trigger name, marker, labels). */
  triggers: TriggerCache;
  health: MomentsHealth;
}

/**
 * The cursor's side of a batch of moments: validate and de-duplicate (against the Redis seen set,
 * the batches still in flight and the batch itself), hand over, then commit the ids and move the
 * cursor — only over moments the pipeline accepted, and only on the Redis connection the cursor
 * was read on (a reconnect may have lost the jobs the commit would vouch for).
 */
export class MomentBatches {
  private readonly options: MomentBatchesOptions;
  private readonly cursor: MomentCursor;
  /** The epoch in which the last back-fill read the cursor: only batches of that epoch may move it. */
  private cursorEpoch: number | undefined;
  /** Moments in a batch whose seen check is running. */
  private preparing = 0;
  /**
   * Ids prepared or handed over but not yet in the Redis seen set (later batches dedup against
   * them too), each with the Redis epoch its batch was prepared in.
   */
  private readonly inFlight = new Map<string, number>();

  constructor(options: MomentBatchesOptions) {
    this.options = options;
    this.cursor = new MomentCursor(options.epoch.redis, stateKeyBase(options.ctx), options.dedupTtl, options.ctx.lease);
  }

  /** Moments being prepared or handed over and not committed yet. */
  get held(): number {
    return this.preparing + this.inFlight.size;
  }

  /**
   * Reads the cursor. Answered on the connection of the current epoch (it carries nothing over a
   * reconnect): batches prepared on it may move this cursor; any later connection needs a new read.
   */
  async loadCursor(): Promise<CursorPosition | undefined> {
    const epoch = this.options.epoch.current;
    const position = await this.cursor.load();
    this.cursorEpoch = epoch;
    if (position) this.options.health.noteCursor(position.createdAt);
    return position;
  }

  /**
   * One batch start to end (back-fill and buffer drain): prepare, hand over, commit. Returns how
   * many events were emitted; throws if the pipeline refused them, with the cursor not moved past
   * any refused moment.
   */
  async process(raws: readonly RawItem[], fromBackfill: boolean): Promise<number> {
    const events = await this.prepare(raws);
    try {
      const r = await this.handOver(events);
      await this.commit(events.slice(0, r.accepted), fromBackfill);
      if (r.failed) {
        this.options.health.noteRefused(events.length - r.accepted);
        throw r.error;
      }
      return r.accepted;
    } finally {
      this.release(events);
    }
  }

  /**
   * Validates and de-duplicates a batch into events, in order. Their ids stay in flight until
   * `release`.
   */
  async prepare(raws: readonly RawItem[]): Promise<MomentEvent[]> {
    // Counted as waiting while the seen check runs: with Redis down it may wait a long time.
    this.preparing += raws.length;
    this.options.health.noteWaiting();
    try {
      return await this.prepareNow(raws);
    } finally {
      this.preparing -= raws.length;
    }
  }

  private async prepareNow(raws: readonly RawItem[]): Promise<MomentEvent[]> {
    const ids = raws.map((raw) => (typeof raw.publicId === 'string' ? raw.publicId : undefined));
    const distinct = [...new Set(ids.filter((id): id is string => id !== undefined))];
    // Before anything is handed over: a batch may be committed only on the connection it started on.
    const epoch = this.options.epoch.current;
    // Read before the seen check is sent: an id released meanwhile was committed on the same
    // connection before our ZSCOREs, so Redis answers for it.
    const taken = new Set(distinct.filter((id) => this.inFlight.has(id)));
    const flags = await this.cursor.seenMany(distinct);
    distinct.forEach((id, i) => flags[i] && taken.add(id));
    const events: MomentEvent[] = [];
    for (let i = 0; i < raws.length; i++) {
      const id = ids[i];
      if (id !== undefined && taken.has(id)) {
        duplicates.inc({ source: this.options.ctx.name });
        continue;
      }
      const event = await this.toEvent(raws[i]!);
      if (!event) continue;
      taken.add(event.data.publicId);
      this.inFlight.set(event.data.publicId, epoch);
      events.push(event);
    }
    return events;
  }

  /** Gives the events to the pipeline, in order (see handOverEvents). Never rejects. */
  handOver(events: MomentEvent[]): Promise<HandOverResult> {
    return handOverEvents(this.options.ctx, events);
  }

  /** Records accepted moments and moves the cursor to the newest of them (call only after the hand-over). */
  async commit(events: readonly MomentEvent[], fromBackfill: boolean): Promise<void> {
    if (events.length === 0) return;
    const name = this.options.ctx.name;
    // A batch prepared before a Redis reconnect, or a cursor not re-read since one, may cover jobs
    // the old Redis took with it: refused, and the back-fill from the re-read cursor re-creates
    // them. The check and the write happen in one tick (commitMany sends at once, never re-sent).
    const cursorEpoch = this.cursorEpoch ?? -1;
    if (events.some((e) => this.inFlight.get(e.data.publicId) !== cursorEpoch)) throw new StaleRedisEpochError(`moments source ${name}: cursor commit`);
    this.options.epoch.assert(cursorEpoch, `moments source ${name}: cursor commit`);
    await this.cursor.commitMany(events.map((e) => ({ publicId: e.data.publicId, createdAt: e.data.createdAt })));
    this.options.health.noteCommitted(events.reduce((newest, e) => (e.time > newest ? e.time : newest), ''));
    if (fromBackfill) backfilled.inc({ source: name }, events.length);
  }

  /** The batch is committed or given up: later batches dedup against the seen set alone. */
  release(events: readonly MomentEvent[]): void {
    for (const e of events) this.inFlight.delete(e.data.publicId);
    this.options.health.noteHeldChanged();
  }

  /** Validates (invalid → quarantine, undefined) and enriches one upstream moment into its event. */
  toEvent(raw: RawItem): Promise<MomentEvent | undefined> {
    return momentEvent(raw, this.options.ctx, this.options.triggers);
  }
}

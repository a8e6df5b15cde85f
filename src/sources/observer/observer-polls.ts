import { eventId, type BridgeEvent } from '../../core/event.js';
import type { SourceContext } from '../source.js';
import type { CallDiscovery, FollowedKind } from './call-discovery.js';
import type { ObserverClientLike } from './observer-api.js';
import { ObserverError } from './observer-errors.js';
import { summaryStats } from './observer-schemas.js';

export interface ObserverPollsOptions {
  ctx: Pick<SourceContext, 'name'>;
  discovery: CallDiscovery;
  /** The client of the current connection (undefined while down). */
  client: () => ObserverClientLike | undefined;
  /** Whether `generation` is still the live connection. */
  isCurrent: (generation: number) => boolean;
  /** A summary goes through the pending list: one the pipeline refuses is retried, not skipped. */
  addEvent: (event: BridgeEvent) => void;
  requestFailed: (method: string, err: unknown) => void;
}

/**
 * What the source asks the service on timers, per connection: the ongoing calls (call discovery
 * opens and closes their frames) and summary statistics (one `observer.summary` event a period).
 * The timers die with the connection (`stop()`); the next connection starts its own.
 */
export class ObserverPolls {
  private readonly options: ObserverPollsOptions;
  private timers: NodeJS.Timeout[] = [];

  constructor(options: ObserverPollsOptions) {
    this.options = options;
  }

  /** Polls the ongoing calls now and every `pollEvery`, following `frames` of each. */
  discoverCalls(generation: number, ongoingCalls: { frames: ReadonlyArray<FollowedKind>; pollEvery: number }): void {
    const poll = () => void this.options.discovery.poll(generation, ongoingCalls.frames);
    poll();
    this.timers.push(setInterval(poll, ongoingCalls.pollEvery));
  }

  /** Emits the `index`th configured summary every `every` ms. */
  summaryStats(generation: number, index: number, every: number, params: Record<string, unknown>): void {
    this.timers.push(setInterval(() => void this.emitSummary(generation, index, every, params), every));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private async emitSummary(generation: number, index: number, every: number, params: Record<string, unknown>): Promise<void> {
    const client = this.options.client();
    if (!client || !this.options.isCurrent(generation)) return;
    // One id per period, fixed when the tick fires (ticks are at least `every` apart, so a slow
    // answer cannot fold two polls into one period); replicas polling the same period agree.
    const bucket = Math.floor(Date.now() / every) * every;
    let stats: Record<string, unknown>;
    try {
      const parsed = summaryStats.safeParse(await client.getSummaryStats(params));
      if (!parsed.success) throw new ObserverError('observer_invalid_response', 'getSummaryStats returned something that is not an object');
      stats = parsed.data;
    } catch (err) {
      this.options.requestFailed('getSummaryStats', err);
      return;
    }
    const name = this.options.ctx.name;
    this.options.addEvent({
      id: eventId(name, 'observer.summary', `summaryStats:${index}:${bucket}`),
      source: name,
      kind: 'observer.summary',
      time: new Date(bucket).toISOString(),
      data: { ...stats, params },
    });
  }
}

import type { BridgeEvent } from '../core/event.js';
import type { SourceProgress } from './source.js';

/**
 * Tracks a source's progress from outside, through the emit calls it makes: events in flight
 * are pending; a batch the pipeline refused stays pending (the source holds it and retries from
 * its cursor) until a later call succeeds. So a source that never reports progress() still shows
 * "stuck behind a batch that keeps failing" on /readyz.
 */
export class EmitProgress {
  private inFlight = new Map<number, { count: number; since: number }>();
  private nextCall = 0;
  /** The refused batch the source is presumably retrying: its size and since when it waits. */
  private refused: { count: number; since: number } | undefined;
  private lastProgressAt: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Wraps an emit function so each call is tracked. */
  wrap<A extends BridgeEvent | BridgeEvent[]>(emit: (arg: A) => Promise<void>): (arg: A) => Promise<void> {
    return async (arg) => {
      const call = this.nextCall++;
      const count = Array.isArray(arg) ? arg.length : 1;
      const since = this.refused?.since ?? this.now();
      this.inFlight.set(call, { count, since });
      try {
        await emit(arg);
        this.refused = undefined;
        this.lastProgressAt = this.now();
      } catch (err) {
        this.refused = { count: Math.max(count, this.refused?.count ?? 0), since };
        throw err;
      } finally {
        this.inFlight.delete(call);
      }
    };
  }

  progress(): SourceProgress {
    let pending = 0;
    let oldest: number | undefined;
    for (const f of this.inFlight.values()) {
      pending += f.count;
      oldest = Math.min(oldest ?? f.since, f.since);
    }
    // A retry of the refused batch is in flight already: do not count it twice.
    if (this.refused && this.inFlight.size === 0) {
      pending += this.refused.count;
      oldest = Math.min(oldest ?? this.refused.since, this.refused.since);
    }
    return {
      pending,
      ...(oldest !== undefined ? { oldestPendingSince: oldest } : {}),
      ...(this.lastProgressAt !== undefined ? { lastProgressAt: this.lastProgressAt } : {}),
    };
  }
}

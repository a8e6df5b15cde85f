import type { BridgeEvent } from '../../core/event.js';
import type { SourceContext } from '../source.js';

/** How far a hand-over got: the accepted events are a prefix; `error` says why it stopped. */
export interface HandOverResult {
  accepted: number;
  failed: boolean;
  error?: unknown;
}

/**
 * Gives events to the pipeline, in order, as one batch when the context has `emitBatch` (all or
 * none accepted), else one at a time (the ones accepted before a failure still count). Never
 * rejects: the caller moves its cursor over `accepted` and recovers the rest from it.
 */
export async function handOverEvents(ctx: Pick<SourceContext, 'emit' | 'emitBatch'>, events: readonly BridgeEvent[]): Promise<HandOverResult> {
  if (events.length === 0) return { accepted: 0, failed: false };
  if (ctx.emitBatch) {
    try {
      await ctx.emitBatch([...events]);
      return { accepted: events.length, failed: false };
    } catch (error) {
      return { accepted: 0, failed: true, error };
    }
  }
  let accepted = 0;
  try {
    for (const event of events) {
      await ctx.emit(event);
      accepted += 1;
    }
    return { accepted, failed: false };
  } catch (error) {
    return { accepted, failed: true, error };
  }
}

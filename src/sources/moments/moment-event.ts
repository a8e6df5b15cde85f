import { eventId, type BridgeEvent } from '../../core/event.js';
import { identifiedSnapshot } from '../../core/safe-snapshot.js';
import type { SourceContext } from '../source.js';
import type { RawItem } from './graphql-client.js';
import { normalizeIso } from './moment-cursor.js';
import { parseMoment, type MomentEventData } from './moments-schemas.js';
import type { TriggerCache } from './trigger-cache.js';

/**
 * What the quarantine keeps of an invalid upstream object: a copy that is safe to serialize (the
 * object may be the very thing too deep to store), with its identity beside a cut preview.
 */
export const quarantineCopy = identifiedSnapshot;

/**
 * One upstream moment as its event, enriched from the trigger cache (name, marker, labels), or
 * undefined when it is invalid: then it is quarantined alone, with its reason.
 */
export async function momentEvent(raw: RawItem, ctx: Pick<SourceContext, 'name' | 'quarantine'>, triggers: TriggerCache): Promise<BridgeEvent<MomentEventData> | undefined> {
  const parsed = parseMoment(raw);
  if (!parsed.ok) {
    await ctx.quarantine({ kind: 'moment', reason: parsed.reason, raw: quarantineCopy(raw) });
    return undefined;
  }
  const moment = parsed.value;
  const data: MomentEventData = { ...moment };
  const trigger = await triggers.lookup(moment.triggerPublicId);
  if (trigger) {
    data.triggerName ??= trigger.name;
    data.triggerMarker ??= trigger.marker;
    data.labels ??= trigger.labels;
  }
  return { id: eventId(ctx.name, 'moment', moment.publicId), source: ctx.name, kind: 'moment', time: normalizeIso(moment.createdAt), data };
}

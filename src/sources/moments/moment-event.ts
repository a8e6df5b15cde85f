import { eventId, type BridgeEvent } from '../../event.js';
import { safeSnapshot } from '../../safe-snapshot.js';
import type { SourceContext } from '../source.js';
import type { RawItem } from './graphql-client.js';
import { normalizeIso } from './moment-cursor.js';
import { parseMoment, type MomentEventData } from './moments-schemas.js';
import type { TriggerCache } from './trigger-cache.js';

/**
 * What the quarantine keeps of an invalid upstream object: a copy that is safe to serialize (the
 * object may be the very thing too deep to store), and when that copy had to be cut to a preview,
 * its publicId and createdAt beside it so the operator can still find it upstream.
 */
export function quarantineCopy(raw: unknown): unknown {
  const copy = safeSnapshot(raw);
  if (raw === null || typeof raw !== 'object' || copy === null || typeof copy !== 'object' || !('truncated' in copy)) return copy;
  const { publicId, createdAt, updatedAt } = raw as Record<string, unknown>;
  return { publicId: safeSnapshot(publicId), createdAt: safeSnapshot(createdAt), updatedAt: safeSnapshot(updatedAt), snapshot: copy };
}

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

import { eventId, type BridgeEvent, type EventSummary, type EventSummaryField } from '../../core/event.js';
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
export async function momentEvent(
  raw: RawItem,
  ctx: Pick<SourceContext, 'name' | 'quarantine'>,
  triggers: TriggerCache,
): Promise<BridgeEvent<MomentEventData> | undefined> {
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
  const time = normalizeIso(moment.createdAt);
  return { id: eventId(ctx.name, 'moment', moment.publicId), source: ctx.name, kind: 'moment', time, data, summary: momentSummary(ctx.name, time, data) };
}

/**
 * How a moment reads for people: the trigger's name and marker, the moment's text, athlete, event
 * and the metric values that matched; repeats of one trigger for one athlete in one event share a
 * group key. Lenient on purpose: a field the engine left out shows as empty, never as an error.
 */
export function momentSummary(source: string, time: string, m: MomentEventData): EventSummary {
  const marker = text(m.triggerMarker);
  const fields: EventSummaryField[] = [
    { label: 'Athlete', value: text(m.athleteId) },
    { label: 'Event', value: text(m.eventId) },
  ];
  if (marker) fields.push({ label: 'Marker', value: marker });
  const matches: unknown[] = Array.isArray(m.matches) ? m.matches : [];
  for (const match of matches) {
    const { metric, subMetric, value } = (match ?? {}) as { metric?: unknown; subMetric?: unknown; value?: unknown };
    fields.push({ label: [text(metric), text(subMetric)].filter(Boolean).join(' / ') || 'metric', value });
  }
  const trigger = m.triggerPublicId ?? m.triggerName ?? 'trigger';
  return {
    title: text(m.triggerName) || 'Moment',
    ...(text(m.moment) ? { text: text(m.moment) } : {}),
    fields,
    fieldsName: 'matches',
    ...(marker ? { color: marker } : {}),
    context: [source, text(m.publicId) && `moment ${text(m.publicId)}`, text(m.createdAt) || time],
    groupKey: `moment:${String(trigger)}:${String(m.athleteId ?? '')}:${String(m.eventId ?? '')}`,
  };
}

/** An upstream value as text: empty when missing, JSON when an object. */
function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

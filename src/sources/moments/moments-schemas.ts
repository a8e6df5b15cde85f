import { parseBoundedJson, unserializableReason } from '../bounded-json.js';

/*
 * Upstream objects, typed exactly as the vendor SDK documents them (seeds/000: `Trigger`,
 * `Moment`, `TriggerCriteria`). The wire may legitimately differ from those types (an AppSync
 * engine sends `AWSJSON` as a JSON string, a model-style schema types ids as strings), so parsing
 * is tolerant: ids become numbers when they are numeric, object fields are parsed when they come
 * as JSON text, unknown fields are kept. Only what routing cannot do without is refused: an
 * object with no `publicId` or no parsable time, or a value too deep or too big to handle safely.
 * A value of another type elsewhere is kept as it came, so the static types below describe the
 * documented shape, not a guarantee for every field.
 */

export const criteriaTypes = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'between', 'exists', 'avg_window', 'trend_up', 'trend_down'] as const;
export type TriggerCriteriaType = (typeof criteriaTypes)[number];

/** `{ color, icon? }` */
export interface TriggerMarker {
  color: string;
  icon?: string;
  [extra: string]: unknown;
}

/** One metric value that made a moment. */
export interface MomentValue {
  metric: string;
  subMetric?: string;
  value?: number;
  [extra: string]: unknown;
}

export interface TriggerCriteria {
  datasetDatasourceId?: number;
  /** e.g. `heartrate`, `speed`, `power` */
  metric: string;
  /** e.g. `current`, `average`, `max` */
  subMetric: string;
  type: TriggerCriteriaType;
  threshold: number;
  [extra: string]: unknown;
}

/** The trigger as it was when the moment was made; its fields are the engine's business. */
export type MomentTriggerSnapshot = Record<string, unknown>;

export interface Trigger {
  publicId: string;
  clientId: number;
  /** 1 = active, 0 = disabled */
  isActive: number;
  name: string;
  /** Template with `{{variable}}` placeholders */
  outputTemplate: string;
  labels?: string[] | null;
  marker?: TriggerMarker | null;
  criteria: TriggerCriteria[];
  timeWindowSeconds?: number | null;
  cooldownSeconds?: number | null;
  criteriaLogic?: 'AND' | 'OR' | null;
  metricStalenessSeconds?: number | null;
  createdAt: string;
  updatedAt: string;
  [extra: string]: unknown;
}

export interface Moment {
  publicId: string;
  triggerPublicId?: string | null;
  clientId: number;
  athleteId: number;
  eventId: number;
  /** Metric values that triggered */
  matches: MomentValue[];
  /** Hydrated output (template + values) */
  moment: string;
  triggerObject: MomentTriggerSnapshot;
  triggerName?: string | null;
  triggerMarker?: TriggerMarker | null;
  createdAt: string;
  [extra: string]: unknown;
}

/** A moment as the bridge emits it: the upstream moment plus what the trigger cache adds. */
export interface MomentEventData extends Moment {
  labels?: string[] | null;
}

/** An AppSync connection page. */
export interface Connection<T> {
  items: T[];
  totalCount?: number | null;
  nextToken?: string | null;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const ID_FIELDS = {
  moment: ['clientId', 'athleteId', 'eventId'],
  trigger: ['clientId', 'isActive'],
  criterion: ['datasetDatasourceId'],
} as const;
/** Fields the vendor documents as objects/arrays: an AppSync `AWSJSON` field carries them as JSON text. */
const OBJECT_FIELDS = { moment: ['triggerObject', 'triggerMarker', 'matches'], trigger: ['marker', 'criteria'] } as const;

/** A number, or a numeric string that is a safe integer, becomes a number; anything else stays. */
export function toNumericId(value: unknown): unknown {
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) {
    const n = Number(value.trim());
    return Number.isSafeInteger(n) ? n : value;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/** JSON text becomes the object it encodes; text that is not JSON stays; text over the limits is refused. */
function decodeObjectField(value: unknown, field: string): ParseResult<unknown> {
  if (typeof value !== 'string') return { ok: true, value };
  const parsed = parseBoundedJson(value);
  if (parsed.ok) return { ok: true, value: parsed.value };
  if (parsed.kind === 'limit') return { ok: false, reason: `${field}: ${parsed.reason}` };
  return { ok: true, value };
}

function isParsableTime(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

/** The common part: an object within the limits, with a usable publicId; ids and object fields decoded. */
function normalize(raw: unknown, kind: 'moment' | 'trigger'): ParseResult<Record<string, unknown>> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reason: `${kind} is not an object` };
  const tooComplex = unserializableReason(raw);
  if (tooComplex) return { ok: false, reason: `${kind} has ${tooComplex}` };
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (typeof out.publicId === 'number' && Number.isFinite(out.publicId)) out.publicId = String(out.publicId);
  if (typeof out.publicId !== 'string' || out.publicId === '')
    return { ok: false, reason: `publicId: expected a non-empty string, received ${describe(out.publicId)}` };
  for (const field of ID_FIELDS[kind]) if (field in out) out[field] = toNumericId(out[field]);
  for (const field of OBJECT_FIELDS[kind]) {
    if (!(field in out)) continue;
    const decoded = decodeObjectField(out[field], field);
    if (!decoded.ok) return decoded;
    out[field] = decoded.value;
  }
  // Checked again with the decoded fields in place: the object as a whole must stay within the limit.
  const tooDeep = unserializableReason(out);
  if (tooDeep) return { ok: false, reason: `${kind} has ${tooDeep}` };
  return { ok: true, value: out };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

/** A moment as documented, or why routing cannot use it (no publicId, no parsable createdAt, too deep/big). */
export function parseMoment(raw: unknown): ParseResult<Moment> {
  const normalized = normalize(raw, 'moment');
  if (!normalized.ok) return normalized;
  const moment = normalized.value;
  if (!isParsableTime(moment.createdAt)) return { ok: false, reason: `createdAt: expected an ISO-8601 date-time, received ${describe(moment.createdAt)}` };
  return { ok: true, value: moment as Moment };
}

/** A trigger as documented, or why it cannot be used (no publicId, neither updatedAt nor createdAt parsable, too deep/big). */
export function parseTrigger(raw: unknown): ParseResult<Trigger> {
  const normalized = normalize(raw, 'trigger');
  if (!normalized.ok) return normalized;
  const trigger = normalized.value;
  if (!isParsableTime(trigger.updatedAt) && !isParsableTime(trigger.createdAt)) {
    return { ok: false, reason: `updatedAt/createdAt: expected an ISO-8601 date-time, received ${describe(trigger.updatedAt ?? trigger.createdAt)}` };
  }
  if (Array.isArray(trigger.criteria)) {
    trigger.criteria = trigger.criteria.map((c: unknown) => {
      if (c === null || typeof c !== 'object' || Array.isArray(c)) return c;
      const criterion: Record<string, unknown> = { ...(c as Record<string, unknown>) };
      for (const field of ID_FIELDS.criterion) if (field in criterion) criterion[field] = toNumericId(criterion[field]);
      return criterion;
    });
  }
  return { ok: true, value: trigger as Trigger };
}

/** The time a trigger change is known by: updatedAt, else createdAt (one of them parses, see parseTrigger). */
export function triggerTime(trigger: Trigger, kind: 'created' | 'updated'): string {
  const first = kind === 'created' ? trigger.createdAt : trigger.updatedAt;
  const second = kind === 'created' ? trigger.updatedAt : trigger.createdAt;
  return isParsableTime(first) ? first : second;
}

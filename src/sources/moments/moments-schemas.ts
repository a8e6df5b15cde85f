import { z } from 'zod';

/*
 * Upstream objects (PRODUCT.md §3). These are loose objects on purpose: the engine may add
 * fields at any time, and a new field must not quarantine every moment. Unknown fields pass
 * through untouched into the event's `data`; the listed fields are checked.
 */

/** AppSync's `AWSJSON` scalar travels as a JSON string; accept it parsed or not. */
const awsJson = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}, z.unknown());

const isoDate = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not an ISO-8601 date-time' })
  .describe('ISO-8601 date-time');

export const criteriaTypes = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'between', 'exists', 'avg_window', 'trend_up', 'trend_down'] as const;

export const matchSchema = z
  .looseObject({
    metric: z.string().describe('Metric that matched, e.g. `heartrate`.'),
    subMetric: z.string().nullish().describe('Sub-metric, e.g. `bpm`, if any.'),
    value: z.number().nullish().describe('The metric value that matched.'),
  })
  .describe('One criterion that a moment matched.');

export const criterionSchema = z
  .looseObject({
    metric: z.string().describe('Metric the criterion reads.'),
    subMetric: z.string().nullish().describe('Sub-metric, if any.'),
    type: z.enum(criteriaTypes).describe('Comparison type.'),
    threshold: z.union([z.number(), z.array(z.number())]).nullish().describe('Threshold (two values for `between`).'),
  })
  .describe('One condition of a trigger.');

export const triggerSchema = z
  .looseObject({
    publicId: z.string().min(1).describe('Public id of the trigger.'),
    clientId: z.string().describe('Client (tenant) the trigger belongs to.'),
    isActive: z.union([z.literal(0), z.literal(1)]).describe('1 when the trigger is active.'),
    name: z.string().describe('Human name, e.g. `HR > 170`.'),
    outputTemplate: z.string().describe('Text template with `{{variable}}` placeholders hydrated into `Moment.moment`.'),
    labels: z.array(z.string()).nullish().describe('Labels for routing.'),
    marker: z.string().nullish().describe('Marker (e.g. an emoji or colour) shown with the moment.'),
    criteria: z.array(criterionSchema).describe('Conditions that make a moment.'),
    timeWindowSeconds: z.number().nullish().describe('Window the criteria are evaluated over.'),
    cooldownSeconds: z.number().nullish().describe('Minimum time between two moments of this trigger per athlete.'),
    criteriaLogic: z.string().nullish().describe('How criteria combine (e.g. `AND`/`OR`).'),
    metricStalenessSeconds: z.number().nullish().describe('Older metric values are ignored.'),
    createdAt: isoDate.describe('When the trigger was created.'),
    updatedAt: isoDate.describe('When the trigger was last changed.'),
  })
  .describe('A Moments Engine trigger.');

export const momentSchema = z
  .looseObject({
    publicId: z.string().min(1).describe('Public id of the moment (the dedup key).'),
    triggerPublicId: z.string().nullish().describe('Trigger that created the moment.'),
    clientId: z.string().describe('Client (tenant) the moment belongs to.'),
    athleteId: z.union([z.string(), z.number()]).describe('Athlete the moment is about.'),
    eventId: z.union([z.number(), z.string()]).describe('Sports event the athlete takes part in.'),
    matches: z.array(matchSchema).describe('Criteria that matched.'),
    moment: z.string().describe('The hydrated text of the trigger output template.'),
    triggerObject: awsJson.describe('Snapshot of the trigger when the moment was made (AWSJSON).'),
    triggerName: z.string().nullish().describe('Name of the trigger.'),
    triggerMarker: z.string().nullish().describe('Marker of the trigger.'),
    createdAt: isoDate.describe('When the moment was created.'),
  })
  .describe('A Moments Engine moment.');

export type Moment = z.output<typeof momentSchema>;
export type Trigger = z.output<typeof triggerSchema>;

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

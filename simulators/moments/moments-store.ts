import { randomUUID } from 'node:crypto';
import { hydrate } from './list-query.js';

export { hydrate, matchesFilter } from './list-query.js';

/**
 * The simulator's canonical records, typed exactly as the vendor SDK documents them
 * (seeds/000: `Trigger`, `Moment`, `MomentValue`, `TriggerMarker`, `TriggerCriteria`): ids are
 * numbers, marker and trigger snapshot are objects. Each schema variant renders these for the
 * wire (see simulator-schema.ts); the store never holds a wire form.
 */
export interface SimMarker {
  color: string;
  icon?: string | null;
}

/** `TriggerCriteriaType` of the vendor document. */
export type SimCriteriaType = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'between' | 'exists' | 'avg_window' | 'trend_up' | 'trend_down';

export interface SimCriterion {
  datasetDatasourceId?: number | null;
  metric: string;
  subMetric: string;
  type: SimCriteriaType;
  threshold: number;
}

/** A `MomentValue`: the vendor documents metric, subMetric and value; type/threshold echo the criterion. */
export interface SimMatch {
  metric: string;
  subMetric: string;
  value: number;
  type?: SimCriteriaType | null;
  threshold?: number | null;
}

export interface SimTrigger {
  publicId: string;
  clientId: number;
  /** 1 = active, 0 = disabled. */
  isActive: number;
  name: string;
  outputTemplate: string;
  labels: string[] | null;
  marker: SimMarker | null;
  criteria: SimCriterion[];
  timeWindowSeconds: number | null;
  cooldownSeconds: number | null;
  criteriaLogic: 'AND' | 'OR' | null;
  metricStalenessSeconds: number | null;
  createdAt: string;
  updatedAt: string;
}

/** `MomentTriggerSnapshot`: the trigger as it was when the moment matched. */
export type SimTriggerSnapshot = SimTrigger;

export interface SimMoment {
  publicId: string;
  triggerPublicId: string | null;
  clientId: number;
  athleteId: number;
  eventId: number;
  matches: SimMatch[];
  moment: string;
  triggerObject: SimTriggerSnapshot;
  triggerName: string | null;
  triggerMarker: SimMarker | null;
  createdAt: string;
}

/** What createMoment takes: any moment field, plus `value` (the matched metric value) as a shortcut. */
export type SimMomentInput = Partial<SimMoment> & { value?: number };

const DEFAULT_CLIENT_ID = 1;

export class MomentsStore {
  readonly moments: SimMoment[] = [];
  readonly triggers = new Map<string, SimTrigger>();
  private lastCreatedAt = 0;

  /** createdAt never goes backwards, so ascending createdAt equals insertion order. */
  private now(): string {
    this.lastCreatedAt = Math.max(Date.now(), this.lastCreatedAt);
    return new Date(this.lastCreatedAt).toISOString();
  }

  /** A complete trigger from partial input, not stored: also the snapshot of moments that name no stored trigger. */
  buildTrigger(input: Partial<SimTrigger> = {}, now = this.now()): SimTrigger {
    return {
      publicId: input.publicId ?? `trg_${randomUUID().slice(0, 12)}`,
      clientId: input.clientId ?? DEFAULT_CLIENT_ID,
      isActive: input.isActive ?? 1,
      name: input.name ?? 'HR > 170',
      outputTemplate: input.outputTemplate ?? 'Athlete {{athleteId}} heart rate {{value}} bpm',
      labels: input.labels ?? null,
      marker: input.marker ?? null,
      criteria: input.criteria ?? [{ metric: 'heartrate', subMetric: 'current', type: 'gt', threshold: 170 }],
      timeWindowSeconds: input.timeWindowSeconds ?? null,
      cooldownSeconds: input.cooldownSeconds ?? null,
      criteriaLogic: input.criteriaLogic ?? null,
      metricStalenessSeconds: input.metricStalenessSeconds ?? null,
      createdAt: input.createdAt ?? now,
      updatedAt: input.updatedAt ?? input.createdAt ?? now,
    };
  }

  addTrigger(input: Partial<SimTrigger> = {}): SimTrigger {
    const trigger = this.buildTrigger(input);
    this.triggers.set(trigger.publicId, trigger);
    return trigger;
  }

  updateTrigger(publicId: string, changes: Partial<SimTrigger>): SimTrigger | undefined {
    const current = this.triggers.get(publicId);
    if (!current) return undefined;
    const updated: SimTrigger = { ...current, ...changes, publicId, updatedAt: changes.updatedAt ?? this.now() };
    this.triggers.set(publicId, updated);
    return updated;
  }

  addMoment(input: SimMomentInput = {}): SimMoment {
    const createdAt = input.createdAt ?? this.now();
    const stored = input.triggerPublicId ? this.triggers.get(input.triggerPublicId) : undefined;
    // The vendor documents triggerObject as always present: a moment naming no stored trigger
    // carries a snapshot of an ad-hoc one (its triggerPublicId stays as given, possibly absent).
    const snapshot =
      input.triggerObject ?? stored ?? this.buildTrigger({ publicId: input.triggerPublicId ?? 'trg_adhoc', createdAt: '1970-01-01T00:00:00.000Z' }, createdAt);
    const athleteId = input.athleteId ?? 1;
    const criterion = snapshot.criteria[0];
    const value = input.value ?? (criterion?.threshold ?? 170) + 5;
    const matches = input.matches ?? [
      {
        metric: criterion?.metric ?? 'heartrate',
        subMetric: criterion?.subMetric ?? 'current',
        value,
        type: criterion?.type ?? 'gt',
        threshold: criterion?.threshold ?? 170,
      },
    ];
    const moment: SimMoment = {
      publicId: input.publicId ?? `mom_${randomUUID()}`,
      triggerPublicId: input.triggerPublicId ?? stored?.publicId ?? null,
      clientId: input.clientId ?? snapshot.clientId,
      athleteId,
      eventId: input.eventId ?? 7,
      matches,
      moment:
        input.moment ??
        hydrate(snapshot.outputTemplate, { athleteId, value, metric: matches[0]?.metric, threshold: criterion?.threshold, triggerName: snapshot.name }),
      triggerObject: snapshot,
      // The engine leaves name/marker off some moments; the bridge's trigger cache fills them in.
      triggerName: input.triggerName ?? null,
      triggerMarker: input.triggerMarker ?? null,
      createdAt,
    };
    this.moments.push(moment);
    if (input.createdAt) this.moments.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return moment;
  }
}

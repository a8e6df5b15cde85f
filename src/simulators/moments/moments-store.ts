import { randomUUID } from 'node:crypto';

/** The simulator's records: plain objects shaped like the engine's GraphQL types. */
export interface SimMatch {
  metric: string;
  subMetric?: string | null;
  value?: number | null;
  type?: string | null;
  threshold?: number | null;
}

export interface SimMoment {
  publicId: string;
  triggerPublicId: string | null;
  clientId: string;
  athleteId: string;
  eventId: number;
  matches: SimMatch[];
  moment: string;
  /** AWSJSON travels as a JSON string. */
  triggerObject: string | null;
  triggerName: string | null;
  triggerMarker: string | null;
  createdAt: string;
}

export interface SimCriterion {
  metric: string;
  subMetric?: string | null;
  type: string;
  threshold?: number | null;
}

export interface SimTrigger {
  publicId: string;
  clientId: string;
  isActive: 0 | 1;
  name: string;
  outputTemplate: string;
  labels: string[] | null;
  marker: string | null;
  criteria: SimCriterion[];
  timeWindowSeconds: number | null;
  cooldownSeconds: number | null;
  criteriaLogic: string | null;
  metricStalenessSeconds: number | null;
  createdAt: string;
  updatedAt: string;
}

type Filter = Record<string, unknown>;

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

/** AppSync model filter semantics: field operators, `and`, `or`, `not`. */
export function matchesFilter(item: Record<string, unknown>, filter: Filter | null | undefined): boolean {
  if (!filter) return true;
  for (const [key, cond] of Object.entries(filter)) {
    if (cond === null || cond === undefined) continue;
    if (key === 'and') {
      if (!(cond as Filter[]).every((f) => matchesFilter(item, f))) return false;
    } else if (key === 'or') {
      if (!(cond as Filter[]).some((f) => matchesFilter(item, f))) return false;
    } else if (key === 'not') {
      if (matchesFilter(item, cond as Filter)) return false;
    } else {
      const value = item[key];
      for (const [op, operand] of Object.entries(cond as Record<string, unknown>)) {
        if (operand === null || operand === undefined) continue;
        const c = compare(value, operand);
        const ok =
          op === 'eq' ? c === 0 :
          op === 'ne' ? c !== 0 :
          op === 'gt' ? c > 0 :
          op === 'ge' ? c >= 0 :
          op === 'lt' ? c < 0 :
          op === 'le' ? c <= 0 :
          op === 'between' ? compare(value, (operand as unknown[])[0]) >= 0 && compare(value, (operand as unknown[])[1]) <= 0 :
          op === 'beginsWith' ? String(value).startsWith(String(operand)) :
          false;
        if (!ok) return false;
      }
    }
  }
  return true;
}

export interface PageArgs {
  filter?: Filter | null;
  limit?: number | null;
  nextToken?: string | null;
  orderBy?: Array<Record<string, string | null>> | null;
}

export interface Page<T> {
  items: T[];
  totalCount: number;
  nextToken: string | null;
}

export class InvalidNextTokenError extends Error {
  readonly errorType = 'InvalidNextTokenException';
}

/** Offset pagination with an opaque token, like AppSync's (the token is meaningless to clients). */
export function paginate<T extends object>(all: readonly T[], args: PageArgs, maxLimit = 1000): Page<T> {
  let items = all.filter((i) => matchesFilter(i as Record<string, unknown>, args.filter));
  const order = args.orderBy?.[0];
  const [field, direction] = order ? (Object.entries(order).find(([, d]) => d) ?? []) : [];
  if (field) {
    items = [...items].sort((a, b) => compare((a as Record<string, unknown>)[field], (b as Record<string, unknown>)[field]) * (direction === 'DESC' ? -1 : 1));
  }
  let offset = 0;
  if (args.nextToken) {
    try {
      offset = (JSON.parse(Buffer.from(args.nextToken, 'base64url').toString('utf8')) as { o: number }).o;
    } catch {
      throw new InvalidNextTokenError('Invalid nextToken');
    }
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidNextTokenError('Invalid nextToken');
  }
  const limit = Math.min(Math.max(args.limit ?? 100, 1), maxLimit);
  const slice = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? Buffer.from(JSON.stringify({ o: offset + limit })).toString('base64url') : null;
  return { items: slice, totalCount: items.length, nextToken: next };
}

/** Fills `{{variable}}` placeholders of a trigger output template. */
export function hydrate(template: string, vars: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => (vars[name] === undefined ? '' : String(vars[name])));
}

export class MomentsStore {
  readonly moments: SimMoment[] = [];
  readonly triggers = new Map<string, SimTrigger>();
  private lastCreatedAt = 0;

  /** createdAt never goes backwards, so ascending createdAt equals insertion order. */
  private now(): string {
    this.lastCreatedAt = Math.max(Date.now(), this.lastCreatedAt);
    return new Date(this.lastCreatedAt).toISOString();
  }

  addTrigger(input: Partial<SimTrigger> = {}): SimTrigger {
    const now = this.now();
    const trigger: SimTrigger = {
      publicId: input.publicId ?? `trg_${randomUUID().slice(0, 12)}`,
      clientId: input.clientId ?? 'demo',
      isActive: input.isActive ?? 1,
      name: input.name ?? 'HR > 170',
      outputTemplate: input.outputTemplate ?? 'Athlete {{athleteId}} heart rate {{value}} bpm',
      labels: input.labels ?? null,
      marker: input.marker ?? null,
      criteria: input.criteria ?? [{ metric: 'heartrate', subMetric: 'bpm', type: 'gt', threshold: 170 }],
      timeWindowSeconds: input.timeWindowSeconds ?? null,
      cooldownSeconds: input.cooldownSeconds ?? null,
      criteriaLogic: input.criteriaLogic ?? null,
      metricStalenessSeconds: input.metricStalenessSeconds ?? null,
      createdAt: input.createdAt ?? now,
      updatedAt: input.updatedAt ?? input.createdAt ?? now,
    };
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

  addMoment(input: Partial<SimMoment> & { value?: number } = {}): SimMoment {
    const trigger = input.triggerPublicId ? this.triggers.get(input.triggerPublicId) : undefined;
    const athleteId = input.athleteId ?? 'athlete-1';
    const criterion = trigger?.criteria[0];
    const value = input.value ?? (criterion?.threshold ?? 170) + 5;
    const matches = input.matches ?? [{ metric: criterion?.metric ?? 'heartrate', subMetric: criterion?.subMetric ?? 'bpm', value, type: criterion?.type ?? 'gt', threshold: criterion?.threshold ?? 170 }];
    const moment: SimMoment = {
      publicId: input.publicId ?? `mom_${randomUUID()}`,
      triggerPublicId: trigger?.publicId ?? input.triggerPublicId ?? null,
      clientId: input.clientId ?? trigger?.clientId ?? 'demo',
      athleteId,
      eventId: input.eventId ?? 7,
      matches,
      moment: input.moment ?? hydrate(trigger?.outputTemplate ?? 'Athlete {{athleteId}} matched {{metric}} = {{value}}', { athleteId, value, metric: matches[0]?.metric, triggerName: trigger?.name }),
      triggerObject: input.triggerObject ?? (trigger ? JSON.stringify(trigger) : null),
      // The engine leaves name/marker off some moments; the bridge's trigger cache fills them in.
      triggerName: input.triggerName ?? null,
      triggerMarker: input.triggerMarker ?? null,
      createdAt: input.createdAt ?? this.now(),
    };
    this.moments.push(moment);
    if (input.createdAt) this.moments.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return moment;
  }
}

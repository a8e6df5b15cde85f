import type { FieldFilter, ListArgs, ModelFilter } from './graphql-client.js';
import type { CreatedAtOperator, ListMomentsPlan } from './operation-documents.js';

/**
 * Turns listMoments arguments written as the vendor documents them (`filter: { createdAt: { ge } }`,
 * `orderBy: [{ createdAt: 'ASC' }]`) into the variables this engine takes (see ListMomentsPlan).
 * `since` carries the lower bound for a configured document that declares `$since` instead.
 */
export function translateListMomentsArgs(args: ListArgs, plan: ListMomentsPlan): Record<string, unknown> {
  const vars: Record<string, unknown> = { limit: args.limit, nextToken: args.nextToken || undefined };
  const createdAt = args.filter?.createdAt as FieldFilter | undefined;
  const since = createdAt?.ge;
  if (since !== undefined) vars.since = since;
  if (args.filter) {
    const { createdAt: _dropped, ...rest } = args.filter;
    const filter: ModelFilter = rest;
    const bound = createdAt && rewriteLowerBound(createdAt, plan.createdAtOperator);
    if (bound) filter.createdAt = bound;
    if (Object.keys(filter).length) vars.filter = filter;
  }
  if (args.orderBy && plan.orderBy) {
    const order = args.orderBy.map((o) => Object.fromEntries(Object.entries(o).map(([field, dir]) => [field, dir === 'ASC' ? plan.orderBy!.ascending : dir])));
    vars.orderBy = plan.orderBy.shape === 'list' ? order : order[0];
  }
  return vars;
}

/** `{ ge: t }` on a time field in the engine's terms (`operator`); undefined when it cannot filter that field (the caller filters). */
export function rewriteLowerBound(filter: FieldFilter, operator: CreatedAtOperator | undefined): Record<string, unknown> | undefined {
  if (!operator) return undefined;
  const { ge, ...others } = filter;
  if (ge === undefined || operator === 'ge') return filter as Record<string, unknown>;
  if (operator === 'gte') return { ...others, gte: ge };
  // Only a strict `gt` exists: ask for `gt (cursor − 1 ms)` so moments sharing the cursor's
  // instant are still returned (ISO times have millisecond resolution); the seen set drops the
  // ones already delivered.
  const t = Date.parse(String(ge));
  return { ...others, gt: Number.isNaN(t) ? ge : new Date(t - 1).toISOString() };
}

import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

/** The operations the bridge runs, named as the engine's root fields (and the `documents.*` config keys). */
export const MOMENTS_OPERATIONS = ['listMoments', 'getMoment', 'listTriggers', 'getTrigger', 'onCreateMoment', 'onCreateTrigger', 'onUpdateTrigger'] as const;
export type MomentsOperation = (typeof MOMENTS_OPERATIONS)[number];

export const OPERATION_ROOT: Record<MomentsOperation, 'query' | 'subscription'> = {
  listMoments: 'query',
  getMoment: 'query',
  listTriggers: 'query',
  getTrigger: 'query',
  onCreateMoment: 'subscription',
  onCreateTrigger: 'subscription',
  onUpdateTrigger: 'subscription',
};

/** Arguments the bridge knows how to fill; a list passes the ones the field has, a get passes `publicId`. */
const KNOWN_ARGS: Record<MomentsOperation, readonly string[]> = {
  listMoments: ['filter', 'limit', 'nextToken', 'orderBy'],
  listTriggers: ['filter', 'limit', 'nextToken', 'orderBy'],
  getMoment: ['publicId'],
  getTrigger: ['publicId'],
  onCreateMoment: [],
  onCreateTrigger: [],
  onUpdateTrigger: [],
};

/**
 * Selection depth below the root field. A connection takes two levels (`items` → the object),
 * so this leaves about five for the object and its nested objects (`triggerObject { … }`).
 */
const MAX_DEPTH = 7;

/** The engine's schema cannot serve an operation (no such field, or an argument the bridge cannot fill). */
export class UnbuildableOperation extends Error {}

/**
 * The document for `operation`, built from the engine's schema: the argument types exactly as the
 * schema names them, and every field of the result selected, object fields with their sub-fields.
 */
export function buildOperationDocument(schema: GraphQLSchema, operation: MomentsOperation): string {
  const rootKind = OPERATION_ROOT[operation];
  const root = rootKind === 'query' ? schema.getQueryType() : schema.getSubscriptionType();
  const field = root?.getFields()[operation];
  if (!root || !field) throw new UnbuildableOperation(`the engine's schema has no ${rootKind === 'query' ? 'Query' : 'Subscription'}.${operation} field`);
  const args = usableArgs(field, operation);
  const selection = selectionSet(getNamedType(field.type), 1, new Set());
  const variables = args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const call = args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const name = operation[0]!.toUpperCase() + operation.slice(1);
  return `${rootKind} ${name}${variables ? `(${variables})` : ''} {\n  ${operation}${call ? `(${call})` : ''}${selection ? ` ${selection}` : ''}\n}`;
}

function usableArgs(field: GraphQLField<unknown, unknown>, operation: MomentsOperation): GraphQLArgument[] {
  const known = KNOWN_ARGS[operation];
  const unfillable = field.args.filter((a) => !known.includes(a.name) && isNonNullType(a.type) && a.defaultValue === undefined);
  if (unfillable.length)
    throw new UnbuildableOperation(
      `${operation} requires argument(s) the bridge cannot fill: ${unfillable.map((a) => `${a.name}: ${String(a.type)}`).join(', ')}`,
    );
  const args = field.args.filter((a) => known.includes(a.name));
  if (known.includes('publicId') && !args.length)
    throw new UnbuildableOperation(`${operation} has no publicId argument (it has: ${field.args.map((a) => a.name).join(', ') || 'none'})`);
  return args;
}

/**
 * `{ a b c { d } }` for an output type: scalars and enums bare (an AWSJSON field too), object
 * fields with their own selection, recursively. Fields with required arguments, types already on
 * the path (cycles) and anything below MAX_DEPTH are left out; an object with nothing selectable
 * is left out too. A union is represented by its `__typename` only.
 */
function selectionSet(type: GraphQLNamedType, depth: number, path: Set<string>): string | undefined {
  if (isUnionType(type)) return '{ __typename }';
  if (!isObjectType(type) && !isInterfaceType(type)) return undefined;
  if (depth > MAX_DEPTH || path.has(type.name)) return undefined;
  path.add(type.name);
  const parts: string[] = [];
  for (const f of Object.values(type.getFields())) {
    if (f.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
    const named = getNamedType(f.type);
    if (isObjectType(named) || isInterfaceType(named) || isUnionType(named)) {
      const sub = selectionSet(named, depth + 1, path);
      if (sub) parts.push(`${f.name} ${sub}`);
    } else parts.push(f.name);
  }
  path.delete(type.name);
  return parts.length ? `{ ${parts.join(' ')} }` : undefined;
}

/** How the back-fill asks for `createdAt ≥ cursor` on this engine. */
export type CreatedAtOperator = 'ge' | 'gte' | 'gt';

export interface ListMomentsPlan {
  /** The operator of the createdAt filter; undefined when the engine cannot filter by createdAt (filtered client-side). */
  createdAtOperator?: CreatedAtOperator;
  /** How to ask for ascending createdAt; undefined when the engine cannot sort (sorted client-side). */
  orderBy?: { shape: 'list' | 'object'; ascending: string };
}

/** The operator listTriggers takes for `updatedAt ≥ t`, or undefined when it cannot filter on updatedAt (the trigger back-fill lists all). */
export function planListTriggers(schema: GraphQLSchema): { updatedAtOperator?: CreatedAtOperator } {
  const field = schema.getQueryType()?.getFields().listTriggers;
  const filterType = getNamedType(field?.args.find((a) => a.name === 'filter')?.type);
  const updatedAt = isInputObjectType(filterType) ? filterType.getFields().updatedAt : undefined;
  const operatorType = updatedAt ? getNamedType(updatedAt.type) : undefined;
  if (!isInputObjectType(operatorType)) return {};
  const ops = operatorType.getFields();
  const updatedAtOperator = (['ge', 'gte', 'gt'] as const).find((op) => op in ops);
  return updatedAtOperator ? { updatedAtOperator } : {};
}

/** Reads from the schema which filter operator and orderBy shape listMoments takes. */
export function planListMoments(schema: GraphQLSchema): ListMomentsPlan {
  const field = schema.getQueryType()?.getFields().listMoments;
  if (!field) return {};
  const plan: ListMomentsPlan = {};
  const filterType = getNamedType(field.args.find((a) => a.name === 'filter')?.type);
  const createdAt = isInputObjectType(filterType) ? filterType.getFields().createdAt : undefined;
  const operatorType = createdAt ? getNamedType(createdAt.type) : undefined;
  if (isInputObjectType(operatorType)) {
    const ops = operatorType.getFields();
    plan.createdAtOperator = (['ge', 'gte', 'gt'] as const).find((op) => op in ops);
  }
  const orderArg = field.args.find((a) => a.name === 'orderBy');
  if (orderArg) {
    const nullable = getNullableType(orderArg.type);
    const orderType = getNamedType(orderArg.type);
    const direction = isInputObjectType(orderType) ? orderType.getFields().createdAt : undefined;
    const directionType = direction ? getNamedType(direction.type) : undefined;
    let ascending: string | undefined;
    if (isEnumType(directionType)) ascending = directionType.getValues().find((v) => /^asc(ending)?$/i.test(v.name))?.name;
    else if (directionType?.name === 'String') ascending = 'ASC';
    if (ascending) plan.orderBy = { shape: isListType(nullable) ? 'list' : 'object', ascending };
  }
  return plan;
}

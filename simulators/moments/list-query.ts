import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

type Filter = Record<string, unknown>;

/** A GraphQL error carrying AppSync's `errorType`; the simulator copies it into the error it serves. */
export class AppSyncResolverError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

// What AppSync answers for a token DynamoDB did not issue (a field report of the exact text:
// https://github.com/aws-amplify/amplify-cli/issues/3411).
const INVALID_TOKEN = () =>
  new AppSyncResolverError(
    'DynamoDB:UserIllegalArgumentException',
    'com.amazonaws.deepdish.common.pagination.InvalidPaginationTokenException: Invalid pagination token given.',
  );

/** Numbers compare numerically with numbers and numeric strings (an `ID` filter operand arrives as "7"). */
function compare(a: unknown, b: unknown): number {
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);
  if (typeof a === 'number' || typeof b === 'number') {
    const x = num(a);
    const y = num(b);
    if (x !== undefined && y !== undefined) return x - y;
  }
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
          op === 'eq'
            ? c === 0
            : op === 'ne'
              ? c !== 0
              : op === 'gt'
                ? c > 0
                : op === 'ge'
                  ? c >= 0
                  : op === 'lt'
                    ? c < 0
                    : op === 'le'
                      ? c <= 0
                      : op === 'between'
                        ? compare(value, (operand as unknown[])[0]) >= 0 && compare(value, (operand as unknown[])[1]) <= 0
                        : op === 'beginsWith'
                          ? String(value).startsWith(String(operand))
                          : false;
        if (!ok) return false;
      }
    }
  }
  return true;
}

/** Fills `{{variable}}` placeholders of a trigger output template. */
export function hydrate(template: string, vars: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => (vars[name] === undefined || vars[name] === null ? '' : String(vars[name])));
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

/** Page size when `limit` is omitted (the Amplify-generated resolvers' default). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/**
 * Lists with AppSync/DynamoDB's pagination contract: `limit` within 1..1000 (DynamoDB's own
 * validation message for the lower bound), and a `nextToken` that is opaque and tamper-evident
 * (AES-256-GCM under a per-simulator key) and bound to the list field, filter and order it was
 * issued for — a forged, altered or re-used-with-another-query token is an error, never a
 * different page.
 */
export class ListQuery {
  private readonly key = randomBytes(32);

  page<T extends object>(field: string, all: readonly T[], args: PageArgs): Page<T> {
    const limit = args.limit ?? DEFAULT_PAGE_SIZE;
    if (limit < 1)
      throw new AppSyncResolverError(
        'DynamoDB:DynamoDbException',
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1 (Service: DynamoDb, Status Code: 400)`,
      );
    if (limit > MAX_PAGE_SIZE)
      throw new AppSyncResolverError(
        'DynamoDB:DynamoDbException',
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${MAX_PAGE_SIZE} (Service: DynamoDb, Status Code: 400)`,
      );
    const scope = createHash('sha256')
      .update(JSON.stringify([field, args.filter ?? null, args.orderBy ?? null]))
      .digest('base64url')
      .slice(0, 16);
    const offset = args.nextToken ? this.open(args.nextToken, scope) : 0;
    let items = all.filter((i) => matchesFilter(i as Record<string, unknown>, args.filter));
    const order = args.orderBy?.[0];
    const [sortField, direction] = order ? (Object.entries(order).find(([, d]) => d) ?? []) : [];
    if (sortField)
      items = [...items].sort(
        (a, b) => compare((a as Record<string, unknown>)[sortField], (b as Record<string, unknown>)[sortField]) * (direction === 'DESC' ? -1 : 1),
      );
    const slice = items.slice(offset, offset + limit);
    const next = offset + limit < items.length ? this.seal(offset + limit, scope) : null;
    return { items: slice, totalCount: items.length, nextToken: next };
  }

  private seal(offset: number, scope: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify({ o: offset, s: scope }), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  private open(token: string, scope: string): number {
    let claims: { o?: unknown; s?: unknown };
    try {
      const raw = Buffer.from(token, 'base64url');
      if (raw.length < 29) throw INVALID_TOKEN();
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      claims = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as typeof claims;
    } catch {
      throw INVALID_TOKEN();
    }
    if (claims.s !== scope || typeof claims.o !== 'number' || !Number.isInteger(claims.o) || claims.o < 0) throw INVALID_TOKEN();
    return claims.o;
  }
}

import { compileLinearRegex, type LinearRegex } from './linear-regex.js';
import type { MatchOps, MatchValue } from './route-schema.js';

/**
 * Compiles a route's `match:` map into plain predicates, once per config load. Each predicate
 * is a closure over a pre-split field path; nothing is interpreted per event, which is what
 * keeps a hundred routes within a microsecond.
 */

export type Scalar = string | number | boolean | null;

/** Reads a field path (`data.matches.0.metric`) from an event; own properties only. */
export type FieldGetter = (root: unknown) => unknown;

export interface FieldMatcher {
  /** The field path as written in `match:`. */
  readonly path: string;
  readonly get: FieldGetter;
  readonly test: (root: unknown) => boolean;
  /** What the matcher expects, for explanations: `= "moment"`, `> 170`, `~ /^HR/i`. */
  readonly expected: string;
  /** Values whose equality alone decides the match (scalar or list): the index can use them. */
  readonly equalityValues?: readonly Scalar[];
}

/** A bad `match:` entry: the regex that cannot compile, an empty op object. */
export class MatcherError extends Error {
  readonly code = 'match_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'MatcherError';
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

function step(cur: unknown, key: string): unknown {
  if (cur === null || typeof cur !== 'object') return undefined;
  return hasOwn.call(cur, key) ? (cur as Record<string, unknown>)[key] : undefined;
}

export function fieldGetter(path: string): FieldGetter {
  const parts = path.split('.');
  // Unrolled for the common depths: this runs for every candidate route of every event.
  if (parts.length === 1) {
    const [a] = parts as [string];
    return (root) => step(root, a);
  }
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    return (root) => step(step(root, a), b);
  }
  if (parts.length === 3) {
    const [a, b, c] = parts as [string, string, string];
    return (root) => step(step(step(root, a), b), c);
  }
  return (root) => {
    let cur = root;
    for (const p of parts) {
      cur = step(cur, p);
      if (cur === undefined) return undefined;
    }
    return cur;
  };
}

const REGEX_LITERAL = /^\/(.+)\/([dgimsuvy]*)$/s;

/** `/body/flags` or a bare body → a linear-time (RE2) regex; see {@link compileLinearRegex}. */
export function compileRegex(source: string): LinearRegex {
  const literal = REGEX_LITERAL.exec(source);
  const body = literal ? literal[1]! : source;
  const flags = literal ? literal[2]! : '';
  try {
    return compileLinearRegex(body, flags);
  } catch (err) {
    throw new MatcherError(`regular expression ${JSON.stringify(source)} does not compile: ${(err as Error).message}`);
  }
}

function compare(actual: unknown, bound: number | string): number | undefined {
  if (typeof bound === 'number' && typeof actual === 'number') return actual - bound;
  if (typeof bound === 'string' && typeof actual === 'string') return actual < bound ? -1 : actual > bound ? 1 : 0;
  return undefined;
}

const fmt = (v: unknown): string => JSON.stringify(v) ?? String(v);

function opPredicates(ops: MatchOps): { test: (v: unknown) => boolean; expected: string }[] {
  const preds: { test: (v: unknown) => boolean; expected: string }[] = [];
  if (ops.eq !== undefined) {
    const eq = ops.eq;
    preds.push({ test: (v) => v === eq, expected: `= ${fmt(eq)}` });
  }
  if (ops.ne !== undefined) {
    const ne = ops.ne;
    preds.push({ test: (v) => v !== undefined && v !== ne, expected: `!= ${fmt(ne)}` });
  }
  const numeric: [keyof MatchOps, string, (c: number) => boolean][] = [
    ['gt', '>', (c) => c > 0],
    ['ge', '>=', (c) => c >= 0],
    ['lt', '<', (c) => c < 0],
    ['le', '<=', (c) => c <= 0],
  ];
  for (const [op, sym, ok] of numeric) {
    const bound = ops[op] as number | string | undefined;
    if (bound === undefined) continue;
    preds.push({
      test: (v) => {
        const c = compare(v, bound);
        return c !== undefined && ok(c);
      },
      expected: `${sym} ${fmt(bound)}`,
    });
  }
  if (ops.in !== undefined) {
    const set = new Set<unknown>(ops.in);
    preds.push({ test: (v) => set.has(v), expected: `in ${fmt(ops.in)}` });
  }
  if (ops.notIn !== undefined) {
    const set = new Set<unknown>(ops.notIn);
    preds.push({ test: (v) => v !== undefined && !set.has(v), expected: `not in ${fmt(ops.notIn)}` });
  }
  if (ops.regex !== undefined) {
    const re = compileRegex(ops.regex);
    preds.push({ test: (v) => typeof v === 'string' && re.test(v), expected: `~ ${String(re)}` });
  }
  if (ops.contains !== undefined) {
    const needle = ops.contains;
    preds.push({
      test: (v) => (Array.isArray(v) ? v.includes(needle) : typeof v === 'string' && typeof needle === 'string' && v.includes(needle)),
      expected: `contains ${fmt(needle)}`,
    });
  }
  if (ops.exists !== undefined) {
    const want = ops.exists;
    preds.push({ test: (v) => (v !== undefined && v !== null) === want, expected: want ? 'exists' : 'does not exist' });
  }
  if (preds.length === 0) throw new MatcherError('an operator object needs at least one of eq, ne, gt, ge, lt, le, in, notIn, regex, contains, exists');
  return preds;
}

/** Compiles one `path: condition` entry. Throws {@link MatcherError} for a regex that cannot compile. */
export function compileFieldMatcher(path: string, value: MatchValue): FieldMatcher {
  const get = fieldGetter(path);
  if (typeof value === 'string' && REGEX_LITERAL.test(value)) {
    const re = compileRegex(value);
    return {
      path,
      get,
      test: (root) => {
        const v = get(root);
        return typeof v === 'string' && re.test(v);
      },
      expected: `~ ${String(re)}`,
    };
  }
  if (value === null || typeof value !== 'object') {
    const want = value;
    return { path, get, test: (root) => get(root) === want, expected: `= ${fmt(want)}`, equalityValues: [want] };
  }
  if (Array.isArray(value)) {
    const list = value as Scalar[];
    // Short lists are faster scanned than hashed.
    if (list.length <= 4) {
      return { path, get, test: (root) => list.includes(get(root) as Scalar), expected: `in ${fmt(list)}`, equalityValues: list };
    }
    const set = new Set<unknown>(list);
    return { path, get, test: (root) => set.has(get(root)), expected: `in ${fmt(list)}`, equalityValues: list };
  }
  const preds = opPredicates(value);
  const expected = preds.map((p) => p.expected).join(' and ');
  if (preds.length === 1) {
    const only = preds[0]!.test;
    const eqOnly = value.eq !== undefined ? [value.eq] : value.in;
    return { path, get, test: (root) => only(get(root)), expected, ...(eqOnly ? { equalityValues: eqOnly } : {}) };
  }
  const tests = preds.map((p) => p.test);
  return {
    path,
    get,
    test: (root) => {
      const v = get(root);
      for (const t of tests) if (!t(v)) return false;
      return true;
    },
    expected,
  };
}

/** Compiles a whole `match:` map; collects every bad entry as `{ key, message }`. */
export function compileMatchers(match: Record<string, MatchValue> | undefined): { matchers: FieldMatcher[]; errors: { key: string; message: string }[] } {
  const matchers: FieldMatcher[] = [];
  const errors: { key: string; message: string }[] = [];
  for (const [key, value] of Object.entries(match ?? {})) {
    try {
      matchers.push(compileFieldMatcher(key, value));
    } catch (err) {
      errors.push({ key, message: (err as Error).message });
    }
  }
  return { matchers, errors };
}

export function formatValue(v: unknown): string {
  return v === undefined ? '(missing)' : fmt(v);
}

import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import type { BridgeEvent } from '../core/event.js';
import { compileLinearRegex, type LinearRegex } from './linear-regex.js';

/**
 * A route's `when:` — a CEL expression, parsed and type-checked once at config load. CEL is a
 * safe expression language (no loops, no I/O, no access to code), so user rules never reach
 * JavaScript `eval`. Variables: `id`, `source`, `kind`, `time` (strings) and `data` (dyn).
 *
 * Cost: CEL has no loops; macros (`exists`, `all`, `map`, `filter`) iterate over input lists, so an
 * evaluation is bounded by the expression's size (cel-js limits: 100,000 AST nodes, depth 250)
 * times the event's size (bounded by the sources' frame limits). The one super-linear built-in,
 * `matches`, runs on RE2 (linear time) instead of the JavaScript RegExp cel-js uses.
 */
export interface CelCondition {
  readonly source: string;
  /** true/false; an evaluation error (missing key, wrong type) is reported, never thrown. */
  evaluate(event: BridgeEvent): { ok: true; value: boolean } | { ok: false; error: string };
}

export class CelConditionError extends Error {
  readonly code = 'condition_invalid';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CelConditionError';
  }
}

/**
 * cel-js's built-in `matches` uses a backtracking RegExp (`^(a+)+$` on 31 characters: 75 s) and
 * its overloads cannot be replaced, so every `.matches(` call is renamed to this RE2 function
 * before the expression is compiled. Type errors are still reported against the original text.
 */
const LINEAR_MATCHES = 'matchesLinear';

/** Patterns compiled so far: most are literals, and a dynamic pattern repeats across events. */
const regexCache = new Map<string, LinearRegex>();
const REGEX_CACHE_SIZE = 256;

function linearRegex(pattern: string): LinearRegex {
  let re = regexCache.get(pattern);
  // Stryker disable next-line ConditionalExpression: the cache only saves compiling a pattern again (equivalent)
  if (!re) {
    try {
      re = compileLinearRegex(pattern);
    } catch (err) {
      throw new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`, { cause: err });
    }
    // Stryker disable next-line all: the bound only caps the cache's memory; no answer depends on it (equivalent)
    if (regexCache.size >= REGEX_CACHE_SIZE) regexCache.delete(regexCache.keys().next().value!);
    regexCache.set(pattern, re);
  }
  return re;
}

interface MatchesCall {
  /** Source offset of the `matches` name. */
  at: number;
  /** The pattern, when it is a literal (checked at compile time). */
  literal?: string;
}

/** Every `x.matches(…)` call in the AST. */
function matchesCalls(expression: string, node: unknown, out: MatchesCall[] = []): MatchesCall[] {
  if (Array.isArray(node)) {
    for (const n of node) matchesCalls(expression, n, out);
    return out;
  }
  if (node === null || typeof node !== 'object' || !('op' in node)) return out;
  const ast = node as ASTNode;
  // Stryker disable next-line ConditionalExpression: another method's name is never `matches`, so the search below finds nothing (equivalent)
  if (ast.op === 'rcall' && ast.args[0] === 'matches') {
    // Type-checked: matches has exactly one argument. Between the receiver's end and it there are
    // only `)`, `.`, blanks and the name.
    const pattern = ast.args[2][0]!;
    const from = ast.args[1].range.end;
    const at = expression.slice(from, pattern.range.start).search(/\bmatches\b/);
    // Stryker disable next-line ConditionalExpression: the name is always there (a guard against a corrupt rewrite; equivalent)
    if (at >= 0) {
      // Stryker disable next-line ConditionalExpression: only a value or an identifier has string args, and an identifier is a valid regex (equivalent)
      out.push({ at: from + at, ...(pattern.op === 'value' && typeof pattern.args === 'string' ? { literal: pattern.args } : {}) });
    }
  }
  matchesCalls(expression, ast.args, out);
  return out;
}

function withLinearMatches(expression: string, calls: MatchesCall[]): string {
  let text = expression;
  for (const at of calls.map((c) => c.at).sort((a, b) => b - a)) {
    text = `${text.slice(0, at)}${LINEAR_MATCHES}${text.slice(at + 'matches'.length)}`;
  }
  return text;
}

/**
 * The variables and functions a `when:` may use. Built per compiled condition (~40 µs, at config
 * load only): the parsed program keeps its environment, and nothing is shared between routes.
 */
function celEnvironment(): Environment {
  // Mixed lists (`data.x in [1, "one"]`) are natural over YAML data, so literals need not be homogeneous.
  return new Environment({ unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: false })
    .registerVariable('id', 'string')
    .registerVariable('source', 'string')
    .registerVariable('kind', 'string')
    .registerVariable('time', 'string')
    .registerVariable('data', 'dyn')
    .registerFunction(`string.${LINEAR_MATCHES}(string): bool`, (text: string, pattern: string) => linearRegex(pattern).test(text));
}

/** The first line of cel-js messages is the summary; the rest is a source excerpt with a caret. */
function oneLine(message: string): string {
  return message.split('\n')[0]!;
}

function pointer(err: unknown, expression: string): string {
  const range = (err as { range?: { start?: number } }).range;
  const start = range?.start;
  return typeof start === 'number' ? ` at column ${start + 1} of ${JSON.stringify(expression)}` : ` in ${JSON.stringify(expression)}`;
}

/** Parses and type-checks `expression`. Throws {@link CelConditionError} for syntax errors, unknown functions or variables, and non-boolean results. */
export function compileCelCondition(expression: string): CelCondition {
  const env = celEnvironment();
  let fn: ReturnType<typeof env.parse>;
  try {
    fn = env.parse(expression);
  } catch (err) {
    throw new CelConditionError(`CEL syntax error${pointer(err, expression)}: ${oneLine((err as Error).message)}`, { cause: err });
  }
  const checked = fn.check();
  if (!checked.valid) {
    const e = checked.error as Error | undefined;
    const message = oneLine(e?.message ?? 'invalid expression');
    const hint = /no matching overload/.test(message)
      ? ' (an unknown function, or arguments of the wrong type; CEL has e.g. size, contains, startsWith, endsWith, matches, exists, all, has, int, double, string, timestamp)'
      : '';
    throw new CelConditionError(`CEL type error${pointer(e, expression)}: ${message}${hint}`, { cause: e });
  }
  const type = String(checked.type);
  if (type !== 'bool' && type !== 'dyn') {
    throw new CelConditionError(`a \`when\` condition must be true or false, but ${JSON.stringify(expression)} is of type ${type}`);
  }
  const calls = matchesCalls(expression, fn.ast);
  for (const { literal } of calls) {
    if (literal === undefined) continue;
    try {
      linearRegex(literal);
    } catch (err) {
      throw new CelConditionError(`CEL matches() in ${JSON.stringify(expression)}: ${(err as Error).message}`, { cause: err });
    }
  }
  const linear = withLinearMatches(expression, calls);
  // Stryker disable next-line ConditionalExpression: parsing an unchanged text again gives the same program (equivalent)
  if (linear !== expression) fn = env.parse(linear);
  return {
    source: expression,
    evaluate(event) {
      // A missing key is an exception in cel-js, and capturing its stack costs far more than
      // the evaluation; the message alone is all we report, so skip the stack (restored below).
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        const value: unknown = fn({ id: event.id, source: event.source, kind: event.kind, time: event.time, data: event.data });
        if (typeof value !== 'boolean') return { ok: false, error: `result is ${typeof value}, not a boolean` };
        return { ok: true, value };
      } catch (err) {
        const e = err as Error & { summary?: unknown };
        return { ok: false, error: typeof e.summary === 'string' ? e.summary : oneLine(e.message) };
      } finally {
        Error.stackTraceLimit = limit;
      }
    },
  };
}

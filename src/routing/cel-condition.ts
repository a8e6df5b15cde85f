import { Environment } from '@marcbachmann/cel-js';
import type { BridgeEvent } from '../event.js';

/**
 * A route's `when:` — a CEL expression, parsed and type-checked once at config load. CEL is a
 * safe expression language (no loops, no I/O, no access to code), so user rules never reach
 * JavaScript `eval`. Variables: `id`, `source`, `kind`, `time` (strings) and `data` (dyn).
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

// One environment for the process: building one is expensive; parsing against it is cheap.
const env = new Environment({ unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: false })
  .registerVariable('id', 'string', { description: 'The event id: <source>:<kind>:<upstream id>' })
  .registerVariable('source', 'string', { description: 'The source name in config' })
  .registerVariable('kind', 'string', { description: 'moment, trigger.created, trigger.updated, observer.row, …' })
  .registerVariable('time', 'string', { description: 'ISO-8601 time of the event' })
  .registerVariable('data', 'dyn', { description: 'The upstream object' });

/** The first line of cel-js messages is the summary; the rest is a source excerpt with a caret. */
function oneLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

function pointer(err: unknown, expression: string): string {
  const range = (err as { range?: { start?: number } }).range;
  const start = range?.start;
  return typeof start === 'number' ? ` at column ${start + 1} of ${JSON.stringify(expression)}` : ` in ${JSON.stringify(expression)}`;
}

/** Parses and type-checks `expression`. Throws {@link CelConditionError} for syntax errors, unknown functions or variables, and non-boolean results. */
export function compileCelCondition(expression: string): CelCondition {
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

import { RE2JS } from 're2js';

/**
 * Regular expressions from rules (`match:` regexes, CEL `matches`) run on RE2 semantics, in time
 * linear in the input: a backtracking engine takes exponential time on patterns like `^(a+)+$`,
 * and one upstream string could then block the event loop for minutes. RE2 has no backreferences
 * and no lookaround; such patterns are refused when the rule is compiled, with that reason.
 */
export interface LinearRegex {
  /** true when the pattern matches anywhere in `text` (like `RegExp.prototype.test`). */
  test(text: string): boolean;
  /** `/body/flags`, for explanations. */
  toString(): string;
}

export class LinearRegexError extends Error {
  readonly code = 'regex_invalid';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LinearRegexError';
  }
}

/** JavaScript flags that change the meaning of a pattern → RE2 flags. `g`/`y` (stateful `test`) and `d`/`u` (RE2 is always Unicode-aware) are dropped. */
const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL };
const IGNORED_FLAGS = new Set(['g', 'y', 'd', 'u']);

export function compileLinearRegex(body: string, flags = ''): LinearRegex {
  let bits = 0;
  for (const f of flags) {
    if (IGNORED_FLAGS.has(f)) continue;
    const bit = FLAG_BITS[f];
    if (bit === undefined) throw new LinearRegexError(`regex flag "${f}" is not supported (supported: i, m, s)`);
    bits |= bit;
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(body, bits);
  } catch (err) {
    const hint = /Perl syntax|backreference|\\[1-9]/.test((err as Error).message)
      ? ' (regexes run on RE2, which has no lookaround or backreferences so that matching stays linear-time)'
      : '';
    throw new LinearRegexError(`${(err as Error).message}${hint}`, { cause: err });
  }
  const shown = `/${body}/${flags.replace(/[gydu]/g, '')}`;
  return { test: (text) => re.test(text), toString: () => shown };
}

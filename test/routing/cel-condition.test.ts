import { describe, expect, it } from 'vitest';
import { compileCelCondition, CelConditionError } from '../../src/routing/cel-condition.js';
import { LinearRegexError } from '../../src/routing/linear-regex.js';
import type { BridgeEvent } from '../../src/core/event.js';

const event = (data: Record<string, unknown>, over: Partial<BridgeEvent> = {}): BridgeEvent => ({
  id: 'mom:moment:m1',
  source: 'mom',
  kind: 'moment',
  time: '2026-03-04T10:00:00.000Z',
  data,
  ...over,
});

function compileError(expression: string): CelConditionError {
  try {
    compileCelCondition(expression);
  } catch (err) {
    if (err instanceof CelConditionError) return err;
    throw err;
  }
  throw new Error(`${expression} compiled`);
}

describe('compileCelCondition: what a rule author is told', () => {
  it('a syntax error names the column and the expression, on one line', () => {
    const err = compileError('data.x == ');
    expect(err.code).toBe('condition_invalid');
    expect(err.name).toBe('CelConditionError');
    expect(err.message).toMatch(/^CEL syntax error at column \d+ of "data\.x == ": \S/);
    expect(err.message).not.toContain('\n');
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('keeps the underlying error as the cause of every refusal', () => {
    expect(compileError('nosuch(data.x)').cause).toBeInstanceOf(Error);
    const regex = compileError('data.s.matches("(")');
    expect(regex.cause).toBeInstanceOf(Error);
    expect((regex.cause as Error).cause).toBeInstanceOf(LinearRegexError);
  });

  it('accepts list literals of mixed types (YAML data mixes them)', () => {
    const c = compileCelCondition('data.x in [1, "one"]');
    expect(c.evaluate(event({ x: 'one' }))).toEqual({ ok: true, value: true });
    expect(c.evaluate(event({ x: 2 }))).toEqual({ ok: true, value: false });
  });

  it('an unknown function is a type error with the list of functions CEL has', () => {
    const err = compileError('nosuch(data.x)');
    expect(err.message).toMatch(/^CEL type error (at column \d+ of|in) "nosuch\(data\.x\)": /);
    expect(err.message).toContain('(an unknown function, or arguments of the wrong type; CEL has e.g. size, contains');
    expect(err.message).not.toContain('\n');
  });

  it('an unknown variable is a type error without the function hint', () => {
    const err = compileError('nosuch == 1');
    expect(err.message).toMatch(/^CEL type error .*"nosuch == 1": [^(]*nosuch$/);
  });

  it.each([
    ['size(data.list)', 'int'],
    ['kind', 'string'],
  ])('a non-boolean expression (%s) is refused, naming its type', (expression, type) => {
    expect(compileError(expression).message).toBe(`a \`when\` condition must be true or false, but ${JSON.stringify(expression)} is of type ${type}`);
  });

  it('accepts boolean and dyn expressions', () => {
    expect(compileCelCondition('kind == "moment"').source).toBe('kind == "moment"');
    expect(compileCelCondition('data.flag').evaluate(event({ flag: true }))).toEqual({ ok: true, value: true });
  });

  it('an invalid literal pattern in matches() is refused at load, naming the expression', () => {
    const err = compileError('data.s.matches("(")');
    expect(err.message).toMatch(/^CEL matches\(\) in "data\.s\.matches\(\\"\(\\"\)": invalid regular expression "\(": /);
  });

  it('a dynamic pattern that does not compile is an evaluation error naming it, not a throw', () => {
    const c = compileCelCondition('data.s.matches(data.p)');
    const r = c.evaluate(event({ s: 'x', p: 'a(' }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain('invalid regular expression "a("');
  });
});

describe('CelCondition.evaluate', () => {
  it('sees id, source, kind, time and data', () => {
    const c = compileCelCondition('id == "mom:moment:m1" && source == "mom" && kind == "moment" && time.startsWith("2026-03-04") && data.n == 3');
    expect(c.evaluate(event({ n: 3 }))).toEqual({ ok: true, value: true });
    expect(c.evaluate(event({ n: 3 }, { source: 'other' }))).toEqual({ ok: true, value: false });
    expect(c.evaluate(event({ n: 3 }, { id: 'x' }))).toEqual({ ok: true, value: false });
    expect(c.evaluate(event({ n: 3 }, { kind: 'trigger.created' }))).toEqual({ ok: true, value: false });
    expect(c.evaluate(event({ n: 3 }, { time: '2027-01-01T00:00:00.000Z' }))).toEqual({ ok: true, value: false });
  });

  it('a missing key is reported as a one-line error, and the stack trace limit is restored', () => {
    // Pinned: an earlier evaluation that failed to restore it would otherwise leave 0 behind.
    Error.stackTraceLimit = 10;
    const before = Error.stackTraceLimit;
    const r = compileCelCondition('data.missing == 1').evaluate(event({}));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/missing/);
    expect(!r.ok && r.error).not.toContain('\n');
    expect(Error.stackTraceLimit).toBe(before);
    compileCelCondition('data.n == 1').evaluate(event({ n: 1 }));
    expect(Error.stackTraceLimit).toBe(before);
  });

  it('a dyn expression that yields a non-boolean is an error, not a match', () => {
    expect(compileCelCondition('data.flag').evaluate(event({ flag: 'yes' }))).toEqual({ ok: false, error: 'result is string, not a boolean' });
  });

  it('runs matches() nested anywhere in the expression on RE2 (here: the inline flag JavaScript lacks)', () => {
    const c = compileCelCondition('kind == "moment" && (data.list.exists(x, x == 1) || data.s.matches("(?i)^HR"))');
    expect(c.evaluate(event({ list: [], s: 'hr 180' }))).toEqual({ ok: true, value: true });
  });

  it('rewrites every matches call, the last first, whatever else in the text says "matches"', () => {
    const c = compileCelCondition('data.matches.matches("^a") && data.t.matches("b$") && "matches" != data.t');
    expect(c.evaluate(event({ matches: 'abc', t: 'xb' }))).toEqual({ ok: true, value: true });
    expect(c.evaluate(event({ matches: 'abc', t: 'xc' }))).toEqual({ ok: true, value: false });
    expect(c.evaluate(event({ matches: 'zbc', t: 'xb' }))).toEqual({ ok: true, value: false });
  });

  it('the same dynamic pattern keeps its meaning across many events and many other patterns', () => {
    const c = compileCelCondition('data.s.matches(data.p)');
    for (let i = 0; i < 600; i++) {
      expect(c.evaluate(event({ s: `k${i}`, p: `^k${i}$` }))).toEqual({ ok: true, value: true });
      expect(c.evaluate(event({ s: `k${i}x`, p: `^k${i}$` }))).toEqual({ ok: true, value: false });
    }
  });
});

import { describe, expect, it } from 'vitest';
import { compileCelCondition, CelConditionError } from '../../src/routing/cel-condition.js';
import { compileLinearRegex, LinearRegexError } from '../../src/routing/linear-regex.js';
import { compileFieldMatcher, compileMatchers } from '../../src/routing/matchers.js';
import type { BridgeEvent } from '../../src/core/event.js';

/** `^(a+)+$` over 31 a's and a b: ~2^31 steps on a backtracking engine (75 s measured), linear on RE2. */
const EVIL = '^(a+)+$';
const NEAR_MISS = `${'a'.repeat(31)}b`;
/** A safety bound, not a benchmark: the backtracking engine takes over a minute. */
const BOUND_MS = 1000;

const event = (data: Record<string, unknown>): BridgeEvent => ({ id: 's:moment:1', source: 's', kind: 'moment', time: '2025-03-04T10:00:00.000Z', data });

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

describe('catastrophic regexes run in linear time', () => {
  it('CEL matches: ^(a+)+$ over a*31+b is false within the bound, and true on a*31', () => {
    const c = compileCelCondition(`data.s.matches("${EVIL}")`);
    const miss = timed(() => c.evaluate(event({ s: NEAR_MISS })));
    expect(miss.value).toEqual({ ok: true, value: false });
    expect(miss.ms).toBeLessThan(BOUND_MS);
    expect(c.evaluate(event({ s: 'a'.repeat(31) }))).toEqual({ ok: true, value: true });
  });

  it('CEL matches with a pattern from the event (not a literal) is linear too', () => {
    const c = compileCelCondition('data.s.matches(data.p)');
    const miss = timed(() => c.evaluate(event({ s: NEAR_MISS, p: EVIL })));
    expect(miss.value).toEqual({ ok: true, value: false });
    expect(miss.ms).toBeLessThan(BOUND_MS);
    const bad = c.evaluate(event({ s: 'x', p: '(' }));
    expect(bad.ok).toBe(false);
  });

  it('match: regex literal and { regex } operator', () => {
    const literal = compileFieldMatcher('data.s', `/${EVIL}/`);
    const op = compileFieldMatcher('data.s', { regex: EVIL });
    for (const m of [literal, op]) {
      const miss = timed(() => m.test(event({ s: NEAR_MISS })));
      expect(miss.value).toBe(false);
      expect(miss.ms).toBeLessThan(BOUND_MS);
      expect(m.test(event({ s: 'aaa' }))).toBe(true);
    }
    expect(literal.expected).toBe(`~ /${EVIL}/`);
  });

  it.each([
    ['data.s.matches("^hr")', { s: 'hr > 170' }, true],
    ['data.s.matches("(?i)^HR")', { s: 'hr > 170' }, true],
    ['data.s.matches("^\\\\d+$")', { s: '123' }, true],
    ['data.s.matches("^\\\\d+$")', { s: '12a' }, false],
    ['"data.s.matches(x)" == data.t && data.s.matches("b")', { s: 'abc', t: 'data.s.matches(x)' }, true],
    ['(data.s).matches("c$") || false', { s: 'abc' }, true],
    ['data.list.exists(x, x.matches("^z"))', { list: ['a', 'zed'] }, true],
  ])('CEL %s on %j → %s (RE2 semantics, same answers)', (expr, data, want) => {
    expect(compileCelCondition(expr).evaluate(event(data))).toEqual({ ok: true, value: want });
  });

  it('a literal pattern RE2 cannot run (lookaround, backreference) is refused at compile time, saying why', () => {
    expect(() => compileCelCondition('data.s.matches("(?=a)a")')).toThrow(CelConditionError);
    expect(() => compileCelCondition('data.s.matches("(?=a)a")')).toThrow(/RE2.*no lookaround or backreferences/);
    const { errors } = compileMatchers({ 'data.a': '/(a)\\1/', 'data.b': { regex: '(?<=x)y' } });
    expect(errors.map((e) => e.key)).toEqual(['data.a', 'data.b']);
    expect(errors[0]!.message).toMatch(/does not compile/);
  });

  it('flags i, m, s keep their meaning; unknown flags are refused', () => {
    expect(compileFieldMatcher('data.s', '/^HR/i').test(event({ s: 'hr' }))).toBe(true);
    expect(compileFieldMatcher('data.s', '/^b$/m').test(event({ s: 'a\nb' }))).toBe(true);
    expect(compileFieldMatcher('data.s', '/a.b/s').test(event({ s: 'a\nb' }))).toBe(true);
    expect(compileFieldMatcher('data.s', '/a.b/').test(event({ s: 'a\nb' }))).toBe(false);
    expect(compileMatchers({ 'data.s': '/a/v' }).errors).toHaveLength(1);
  });
});

describe('compileLinearRegex', () => {
  it.each([
    ['abc', 'gydu', 'xABCx', false, '/abc/'], // stateful and no-op flags dropped, case kept
    ['abc', 'gi', 'xABCx', true, '/abc/i'],
    ['^b', 'm', 'a\nb', true, '/^b/m'],
    ['a.b', 's', 'a\nb', true, '/a.b/s'],
    ['a.b', '', 'a\nb', false, '/a.b/'],
  ])('/%s/%s on %j → %s, shown as %s', (body, flags, text, matches, shown) => {
    const re = compileLinearRegex(body, flags);
    expect([re.test(text), re.test(text)]).toEqual([matches, matches]);
    expect(String(re)).toBe(shown);
  });

  it.each(['g', 'y', 'd', 'u'])('accepts the JavaScript flag %s and ignores it', (flag) => {
    expect(compileLinearRegex('a', flag).test('a')).toBe(true);
  });

  function refusal(body: string, flags = ''): LinearRegexError {
    try {
      compileLinearRegex(body, flags);
    } catch (err) {
      expect(err).toBeInstanceOf(LinearRegexError);
      return err as LinearRegexError;
    }
    throw new Error('expected a LinearRegexError');
  }

  it('refuses an unknown flag, naming it and the supported ones', () => {
    const err = refusal('a', 'x');
    expect(err).toMatchObject({ code: 'regex_invalid', name: 'LinearRegexError', message: 'regex flag "x" is not supported (supported: i, m, s)' });
  });

  it.each(['(a)\\1', '(?=a)b', '(?!a)b'])('refuses %s with the RE2 hint, keeping the cause', (body) => {
    const err = refusal(body);
    expect(err.message).toMatch(/\(regexes run on RE2, which has no lookaround or backreferences so that matching stays linear-time\)$/);
    expect(err.cause).toBeInstanceOf(Error);
    expect(err.message.startsWith((err.cause as Error).message)).toBe(true);
  });

  it.each(['(unclosed', 'a\\x'])('refuses the plain syntax error %s without the RE2 hint', (body) => {
    const err = refusal(body);
    expect(err.message).not.toContain('RE2');
    expect(err.message).toBe((err.cause as Error).message);
  });
});

import { describe, expect, it } from 'vitest';
import { compileFieldMatcher, compileMatchers, fieldGetter, formatValue, MatcherError } from '../../src/routing/matchers.js';
import type { MatchValue } from '../../src/routing/route-schema.js';

const event = {
  id: 'moments:moment:m1',
  source: 'moments',
  kind: 'moment',
  time: '2025-03-04T10:00:00.000Z',
  data: {
    triggerName: 'HR > 170',
    athleteId: 'a-7',
    eventId: 7,
    heartRate: 182.5,
    labels: ['critical', 'team-a'],
    matches: [{ metric: 'heartrate', value: 181 }],
    nothing: null,
  },
};

describe('field paths', () => {
  it.each([
    ['kind', 'moment'],
    ['data.triggerName', 'HR > 170'],
    ['data.matches.0.metric', 'heartrate'],
    ['data.matches.0.value', 181],
    ['data.missing', undefined],
    ['data.missing.deeper.still', undefined],
    ['data.constructor', undefined],
    ['data.labels.length', 2], // an own property of arrays: `data.labels.length: { gt: 0 }` works
    ['data.triggerName.length', undefined],
    ['data.nothing.deeper', undefined],
    ['data.matches.0.metric.length', undefined], // the generic walk (four parts and more)
    ['data.matches.0.missing.deeper', undefined],
  ])('%s → %j', (path, expected) => {
    expect(fieldGetter(path)(event)).toEqual(expected);
  });
});

const table: [string, string, MatchValue, boolean][] = [
  // equality
  ['string equality', 'kind', 'moment', true],
  ['string equality (no)', 'kind', 'trigger.created', false],
  ['number equality', 'data.eventId', 7, true],
  ['number vs numeric string is strict', 'data.eventId', '7', false],
  ['null equality', 'data.nothing', null, true],
  ['boolean equality on missing field', 'data.flag', true, false],
  // list membership
  ['list membership', 'data.athleteId', ['a-1', 'a-7'], true],
  ['list membership (no)', 'data.athleteId', ['a-1', 'a-2'], false],
  ['long list membership', 'data.athleteId', ['a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-6', 'a-7'], true],
  ['in op', 'data.eventId', { in: [6, 7] }, true],
  ['notIn op', 'data.eventId', { notIn: [6, 7] }, false],
  ['notIn on missing field', 'data.missing', { notIn: [1] }, false],
  // regex
  ['regex literal', 'data.triggerName', '/^hr\\s*>/i', true],
  ['regex literal (no)', 'data.triggerName', '/^speed/', false],
  ['regex op bare body', 'data.athleteId', { regex: '^a-\\d+$' }, true],
  ['regex on a number is false', 'data.eventId', '/7/', false],
  ['eq escapes a regex-looking string', 'data.athleteId', { eq: '/a-7/' }, false],
  // numeric ops
  ['gt', 'data.heartRate', { gt: 170 }, true],
  ['gt (no)', 'data.heartRate', { gt: 190 }, false],
  ['ge boundary', 'data.eventId', { ge: 7 }, true],
  ['lt', 'data.eventId', { lt: 7 }, false],
  ['le boundary', 'data.eventId', { le: 7 }, true],
  ['ne', 'data.eventId', { ne: 8 }, true],
  ['ne on missing field', 'data.missing', { ne: 8 }, false],
  ['ne (equal)', 'data.eventId', { ne: 7 }, false],
  ['eq op', 'data.eventId', { eq: 7 }, true],
  ['range (gt and lt)', 'data.heartRate', { gt: 180, lt: 185 }, true],
  ['range (out)', 'data.heartRate', { gt: 183, lt: 185 }, false],
  ['numeric op on a string is false', 'data.athleteId', { gt: 1 }, false],
  ['numeric ge on a string is false', 'data.athleteId', { ge: 1 }, false],
  ['numeric le on a string is false', 'data.athleteId', { le: 1 }, false],
  ['string comparison for ISO times', 'time', { ge: '2025-01-01T00:00:00Z' }, true],
  // exists / contains
  ['exists', 'data.athleteId', { exists: true }, true],
  ['exists on null', 'data.nothing', { exists: true }, false],
  ['not exists', 'data.missing', { exists: false }, true],
  ['contains in a list', 'data.labels', { contains: 'critical' }, true],
  ['contains in a string', 'data.triggerName', { contains: '170' }, true],
  ['contains (no)', 'data.labels', { contains: 'minor' }, false],
  ['contains on a number is false', 'data.eventId', { contains: '7' }, false],
  // boundaries and strings for every ordering op
  ['gt boundary', 'data.eventId', { gt: 7 }, false],
  ['le above', 'data.heartRate', { le: 100 }, false],
  ['lt below', 'data.eventId', { lt: 8 }, true],
  ['string gt', 'data.athleteId', { gt: 'a-6' }, true],
  ['string gt boundary', 'data.athleteId', { gt: 'a-7' }, false],
  ['string ge boundary', 'data.athleteId', { ge: 'a-7' }, true],
  ['string lt', 'data.athleteId', { lt: 'a-8' }, true],
  ['string lt boundary', 'data.athleteId', { lt: 'a-7' }, false],
  ['string le below', 'data.athleteId', { le: 'a-6' }, false],
  ['string op on a number is false', 'data.eventId', { ge: 'a' }, false],
  ['notIn op (present, not listed)', 'kind', { notIn: ['trigger.created'] }, true],
  // a regex literal must be the whole value: `/`…`/flags` and nothing around it
  ['slash-wrapped text with a tail is equality', 'kind', '/mom/ x', false],
  ['text before a slash-wrapped part is equality', 'kind', 'x/mom/', false],
];

/**
 * Every comparison op at, just below and just above its bound, for numbers and for strings (ISO
 * times): an off-by-one (`>` read as `>=`) flips exactly one of these rows.
 */
const boundaries: [op: 'gt' | 'ge' | 'lt' | 'le', actual: number | string, bound: number | string, expected: boolean][] = [
  ['gt', 169, 170, false],
  ['gt', 170, 170, false],
  ['gt', 170.5, 170, true],
  ['ge', 169.9, 170, false],
  ['ge', 170, 170, true],
  ['ge', 171, 170, true],
  ['lt', 169, 170, true],
  ['lt', 170, 170, false],
  ['lt', 171, 170, false],
  ['le', 169, 170, true],
  ['le', 170, 170, true],
  ['le', 170.1, 170, false],
  ['gt', '2025-03-04T10:00:00Z', '2025-03-04T10:00:00Z', false],
  ['gt', '2025-03-04T10:00:01Z', '2025-03-04T10:00:00Z', true],
  ['ge', '2025-03-04T09:59:59Z', '2025-03-04T10:00:00Z', false],
  ['ge', '2025-03-04T10:00:00Z', '2025-03-04T10:00:00Z', true],
  ['lt', '2025-03-04T10:00:00Z', '2025-03-04T10:00:00Z', false],
  ['lt', '2025-03-04T09:59:59Z', '2025-03-04T10:00:00Z', true],
  ['le', '2025-03-04T10:00:00Z', '2025-03-04T10:00:00Z', true],
  ['le', '2025-03-04T10:00:01Z', '2025-03-04T10:00:00Z', false],
];

describe('comparison boundaries', () => {
  it.each(boundaries)('%s: %j against %j → %s', (op, actual, bound, expected) => {
    const m = compileFieldMatcher('data.v', { [op]: bound });
    expect(m.test({ data: { v: actual } })).toBe(expected);
  });
});

describe('matchers', () => {
  it.each(table)('%s: %s %j → %s', (_name, path, value, expected) => {
    expect(compileFieldMatcher(path, value).test(event)).toBe(expected);
  });

  it('exposes equality values to the index only for pure equality', () => {
    expect(compileFieldMatcher('kind', 'moment').equalityValues).toEqual(['moment']);
    expect(compileFieldMatcher('kind', ['a', 'b']).equalityValues).toEqual(['a', 'b']);
    expect(compileFieldMatcher('kind', { in: ['a'] }).equalityValues).toEqual(['a']);
    expect(compileFieldMatcher('kind', '/mom/').equalityValues).toBeUndefined();
    expect(compileFieldMatcher('data.x', { gt: 1 }).equalityValues).toBeUndefined();
    expect(compileFieldMatcher('data.x', { eq: 1, ne: 2 }).equalityValues).toBeUndefined();
  });

  it.each([
    [{ gt: 170 }, '> 170'],
    [{ ge: 170 }, '>= 170'],
    [{ lt: 'b' }, '< "b"'],
    [{ le: 3 }, '<= 3'],
    [{ eq: 'moment' }, '= "moment"'],
    [{ ne: null }, '!= null'],
    [{ in: [1, 2] }, 'in [1,2]'],
    [{ notIn: ['a'] }, 'not in ["a"]'],
    [{ regex: '^a' }, '~ /^a/'],
    [{ contains: 'x' }, 'contains "x"'],
    [{ exists: true }, 'exists'],
    [{ exists: false }, 'does not exist'],
    [{ gt: 1, lt: 5 }, '> 1 and < 5'],
    ['/^HR/i', '~ /^HR/i'],
    ['moment', '= "moment"'],
    [['a', 'b'], 'in ["a","b"]'],
    [['a', 'b', 'c', 'd', 'e'], 'in ["a","b","c","d","e"]'],
  ] as [MatchValue, string][])('describes %j as %s', (value, expected) => {
    expect(compileFieldMatcher('data.x', value).expected).toBe(expected);
  });

  it('equality on an eq op alone is indexable', () => {
    expect(compileFieldMatcher('kind', { eq: 'moment' }).equalityValues).toEqual(['moment']);
  });

  it('an empty operator object is a MatcherError with a stable code', () => {
    const err = (() => {
      try {
        compileFieldMatcher('data.c', {});
      } catch (e) {
        return e;
      }
      throw new Error('expected a throw');
    })();
    expect(err).toBeInstanceOf(MatcherError);
    expect(err).toMatchObject({ code: 'match_invalid', name: 'MatcherError' });
  });

  it('formats a missing value for explanations', () => {
    expect(formatValue(undefined)).toBe('(missing)');
    expect(formatValue('a')).toBe('"a"');
  });

  it('reports every regex that cannot compile and empty operator objects, by key', () => {
    const { matchers, errors } = compileMatchers({ kind: 'moment', 'data.a': '/(unclosed/', 'data.b': { regex: '[z-a]' }, 'data.c': {} });
    expect(matchers.map((m) => m.path)).toEqual(['kind']);
    expect(errors.map((e) => e.key)).toEqual(['data.a', 'data.b', 'data.c']);
    expect(errors[0]!.message).toMatch(/regular expression "\/\(unclosed\/" does not compile/);
    expect(errors[2]!.message).toMatch(/at least one of/);
  });

  it('drops the stateful g/y flags so repeated tests agree', () => {
    const m = compileFieldMatcher('kind', '/mom/g');
    expect([m.test(event), m.test(event), m.test(event)]).toEqual([true, true, true]);
  });
});

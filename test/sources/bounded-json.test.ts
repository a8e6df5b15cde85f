import { describe, expect, it } from 'vitest';
import { parseBoundedJson, unserializableReason } from '../../src/sources/bounded-json.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('bounded JSON', () => {
  it.each([
    ['{"a":1}', { ok: true, value: { a: 1 } }],
    [nested(64), { ok: true }],
    [nested(65), { ok: false, kind: 'limit', reason: expect.stringMatching(/deeper than 64/) }],
    [nested(6000), { ok: false, kind: 'limit' }],
    // Brackets inside strings are text, not nesting.
    [JSON.stringify({ s: '['.repeat(500) }), { ok: true }],
    [JSON.stringify({ s: 'a\\"[[[' }), { ok: true }],
    [`"${'x'.repeat(300 * 1024)}"`, { ok: false, kind: 'limit', reason: expect.stringMatching(/exceeds the limit of 262144/) }],
    ['{not json', { ok: false, kind: 'syntax' }],
  ])('case %#', (text, expected) => {
    expect(parseBoundedJson(text)).toMatchObject(expected);
  });

  it('checks parsed values too: depth and cycles, without recursion', () => {
    let deep: unknown[] = [];
    const root = deep;
    for (let i = 0; i < 6000; i++) {
      const next: unknown[] = [];
      deep.push(next);
      deep = next;
    }
    expect(unserializableReason(root)).toMatch(/deeper than 64/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(unserializableReason(cyclic)).toMatch(/cycle/);
    const shared = { x: 1 };
    expect(unserializableReason({ a: shared, b: shared, c: [shared] })).toBeUndefined();
    expect(unserializableReason('text')).toBeUndefined();
  });
});

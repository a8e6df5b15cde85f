import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layout rule of docs/architecture.md: a product file over 300 lines is usually two concepts,
// so one that stays longer says why in a comment at its top ("One concept at ~N lines: …").

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LIMIT = 300;

function productFiles(): string[] {
  return ['src', 'connectors'].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `${dir}/${f}`),
  );
}

/** The comment the file opens with (before its first import or statement), or ''. */
function openingComment(source: string): string {
  const m = /^\s*\/\*([\s\S]*?)\*\//.exec(source);
  return m ? m[1]! : '';
}

/** Does the opening comment give the reason: "One concept at ~N lines: <why>" with N near the real size? */
function statesWhyLong(source: string): boolean {
  const lines = source.split('\n').length;
  const m = /One concept at ~(\d+) lines:\s*\S/.exec(openingComment(source));
  return m !== null && Math.abs(Number(m[1]) - lines) <= 30;
}

describe('product file sizes', () => {
  it('recognises a stated reason only at the top, and only with a size near the real one', () => {
    const body = 'x;\n'.repeat(320);
    expect(statesWhyLong(`/*\n * One concept at ~320 lines: the socket's state.\n */\n${body}`)).toBe(true);
    expect(statesWhyLong(body)).toBe(false);
    expect(statesWhyLong(`import x from 'y';\n/* One concept at ~320 lines: late. */\n${body}`)).toBe(false);
    expect(statesWhyLong(`/* One concept at ~120 lines: stale size. */\n${body}`)).toBe(false);
    expect(statesWhyLong(`/* One concept at ~320 lines: */\n${body}`)).toBe(false);
  });

  it(`keeps src/ and connectors/ files under ${LIMIT} lines, or says at the top why not`, () => {
    const files = productFiles();
    expect(files.length).toBeGreaterThan(100);
    const unexplained = files
      .map((f) => ({ f, source: readFileSync(join(ROOT, f), 'utf8') }))
      .filter(({ source }) => source.split('\n').length > LIMIT && !statesWhyLong(source))
      .map(({ f, source }) => `${f} (${source.split('\n').length} lines)`);
    expect(unexplained).toEqual([]);
  });
});

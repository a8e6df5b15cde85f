import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mb-limits-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

/** Nine levels of ten aliases each: 10^9 nodes once expanded (the "billion laughs"). */
function aliasBomb(): string {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}

describe('config limits (moments-bridge check)', () => {
  it('reports an alias bomb as an input error at the alias that crosses the limit (exit 1, file:line:col)', async () => {
    const file = configFile(aliasBomb());
    const result = await runCli(['check', '-c', file]);
    expect(result.code).toBe(1);
    // a3 holds 10 × 10 × 10 × 10 nodes; the 10,000 budget runs out inside line 4.
    expect(result.stderr).toMatch(new RegExp(`${file}:4:\\d+  a3\\[\\d\\]  YAML aliases expand to more than 10000 nodes`));
    expect(result.stderr).toMatch(/write the repeated part out/);
  }, 30_000);

  it('reports an alias that refers to its own anchor (a cycle) at the alias', async () => {
    const file = configFile('redis: &r { url: embedded, self: *r }\n');
    const result = await runCli(['check', '-c', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:1:34  redis.self  YAML alias *r refers to a node that contains it`);
  }, 30_000);

  it('accepts ordinary aliases (shared delivery options)', async () => {
    const file = configFile(
      [
        'x-retry: &retry { attempts: 3 }',
        'connectors:',
        '  a: { type: webhook, url: "https://example.com/a", retry: *retry }',
        '  b: { type: webhook, url: "https://example.com/b", retry: *retry }',
        '',
      ].join('\n'),
    );
    const result = await runCli(['check', '-c', file]);
    // Only the unknown top-level key is a problem: the aliases themselves are fine.
    expect(result.stderr).toContain('unknown key "x-retry"');
    expect(result.stderr).not.toMatch(/alias/i);
  }, 30_000);

  it('refuses a config file over 1 MiB, naming the file and the bound (exit 1)', async () => {
    const file = configFile(`# ${'x'.repeat(1024 * 1024)}\nredis: { url: embedded }\n`);
    const result = await runCli(['check', '-c', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`config file ${file} is 1048604 bytes, over the 1 MiB (1048576 bytes) limit`);
    expect(result.stderr).toMatch(/split/);
  }, 30_000);
});

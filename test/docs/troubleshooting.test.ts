import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startDaemon, writeConfig } from '../helpers/daemon-kit.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(join(ROOT, 'docs', 'troubleshooting.md'), 'utf8');

/**
 * Code that runs when `moments-bridge run` starts (and keeps running): everything in src/ and
 * connectors/ but the other commands and the replay / rule-test tools (the simulators live outside
 * both, in simulators/: their errors go to their clients).
 */
function runPathFiles(): string[] {
  const skip = [/^src\/cli\/commands\/(?!run\.ts$)/, /^src\/replay\//, /^src\/routing\/rule-tests\.ts$/];
  return ['src', 'connectors']
    .flatMap((dir) => readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => `${dir}/${f}`))
    .filter((f) => f.endsWith('.ts') && !skip.some((re) => re.test(f)));
}

/** Stable error codes: the first argument of an error constructor, or of `super(…)` in an error class (both sides of a `? :`). */
function errorCodes(source: string): string[] {
  const code = `'([a-z]+(?:_[a-z]+)+)'`;
  const patterns = [new RegExp(`new \\w*Error\\(\\s*${code}`, 'g'), new RegExp(`super\\(\\s*(?:[^,()]*\\?\\s*)?${code}(?:\\s*:\\s*${code})?`, 'g')];
  return patterns.flatMap((re) => [...source.matchAll(re)].flatMap((m) => m.slice(1).filter((c): c is string => c !== undefined)));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('docs/troubleshooting.md', () => {
  it('has an entry for every error code the daemon can raise at start and while running', () => {
    const found = new Map<string, string>();
    for (const file of runPathFiles()) for (const c of errorCodes(readFileSync(join(ROOT, file), 'utf8'))) found.set(c, relative(ROOT, join(ROOT, file)));
    // The scan must see the codes it is meant to (a regex that finds nothing would pass vacuously).
    for (const known of [
      'config_invalid',
      'redis_missing',
      'moments_auth_failed',
      'moments_auth_unavailable',
      'module_load_failed',
      'observer_url_invalid',
      'redis_leftover',
    ])
      expect([...found.keys()]).toContain(known);
    const undocumented = [...found].filter(([c]) => !doc.includes(`\`${c}\``)).map(([c, file]) => `${c} (${file})`);
    expect(undocumented).toEqual([]);
  });

  it('has an entry, keyed by what the operator sees, for a Redis that cannot be reached', async () => {
    const port = await closedPort();
    let message = '';
    try {
      const daemon = await startDaemon(writeConfig(`redis: { url: "redis://127.0.0.1:${port}" }\nserver: { enabled: false }\n`));
      await daemon.stop();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message, 'the daemon refuses to start without Redis').not.toBe('');
    const row = doc.split('\n').find((l) => l.startsWith('|') && l.includes('**Redis unreachable**'));
    expect(row).toBeDefined();
    // The message column: its `…`-quoted texts, cut at the ellipses, are what the operator sees.
    const seen = [...row!.split(' | ')[0]!.matchAll(/`([^`]+)`/g)]
      .flatMap((m) => m[1]!.split('…'))
      .map((s) => s.replace(/<[^>]+>.*$/, '').trim())
      .filter((s) => s.length >= 8);
    expect(
      seen.some((s) => message.includes(s)),
      `one of ${JSON.stringify(seen)} in "${message}"`,
    ).toBe(true);
  }, 60_000);
});

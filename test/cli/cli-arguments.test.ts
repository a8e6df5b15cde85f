import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('moments-bridge arguments', () => {
  it('--version prints the version of package.json and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const res = await runCli(['--version']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`${version}\n`);
  });

  // Each is refused before anything starts: exit 1 and the option, the value and what it takes.
  it.each([
    [['simulate', 'moments', '--port', 'abc'], `option '--port <port>' argument 'abc' is invalid. Expected a whole number from 0 to 65535.`],
    [['simulate', 'moments', '--port', '70000'], `option '--port <port>' argument '70000' is invalid. Expected a whole number from 0 to 65535.`],
    [['simulate', 'moments', '--rate', 'fast'], `option '--rate <n>' argument 'fast' is invalid. Expected a number ≥ 0.`],
    [['simulate', 'moments', '--athletes', '0'], `option '--athletes <n>' argument '0' is invalid. Expected a whole number ≥ 1.`],
    [['simulate', 'observer', '--calls', '1.5'], `option '--calls <n>' argument '1.5' is invalid. Expected a whole number ≥ 0.`],
    [['simulate', 'observer', '--snapshot-every', ''], `option '--snapshot-every <ms>' argument '' is invalid. Expected a whole number ≥ 1.`],
    [['demo', '--rate', '-1'], `option '--rate <n>' argument '-1' is invalid. Expected a number ≥ 0.`],
    [['demo', '--duration', '0'], `option '--duration <seconds>' argument '0' is invalid. Expected a number ≥ 1.`],
    [['dlq', 'list', '--limit', '0'], `option '--limit <n>' argument '0' is invalid. Expected a whole number ≥ 1.`],
    [['dlq', 'list', '--offset', '-3'], `option '--offset <n>' argument '-3' is invalid. Expected a whole number ≥ 0.`],
  ])('%j exits 1 with the reason', async (args, reason) => {
    const res = await runCli(args);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`error: ${reason}`);
    expect(res.stderr).not.toMatch(/ERR_SOCKET|node:internal|at .*\.js:\d+/);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/cli/commands/check.js';
import { runCli } from '../helpers/cli.js';

function configFile(lines: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mb-check-all-')), 'config.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** One problem of each stage that used to be reported one run at a time, plus the references reported twice. */
const EVERY_STAGE = [
  'redis: { url: embeded }', // 1
  'connectors:', // 2
  '  slack:', // 3
  '    type: slack', // 4
  '    token: xoxb-test', // 5
  '    channel: "#ops"', // 6
  '    text: "{{ data | nosuchfilter }}"', // 7: Liquid filter
  '  hook: { type: webhook, url: "http://127.0.0.1:8080/x" }', // 8: SSRF literal
  '  local: { type: webhook, url: "http://localhost:8080/x" }', // 9: SSRF localhost
  '  inner: { type: webhook, url: "https://hooks.example.com/x" }', // 10
  'routes:', // 11
  '  - name: first', // 12
  '    bogus: 1', // 13: unknown key
  '    when: "data.x >"', // 14: CEL
  '    to: [nosuch]', // 15: reference (found by two stages)
  '  - name: first', // 16: duplicate name
  '    to: [slack, hook, local]', // 17
  '  - name: internal', // 18
  '    to: [{ connector: inner, url: "http://10.1.2.3/x" }]', // 19: SSRF override
];

describe('moments-bridge check: everything run would reject, all at once, each once, in file order', () => {
  it('reports every stage in one run', async () => {
    const file = configFile(EVERY_STAGE);
    const result = await runCli(['check', '-c', file]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('9 problems and 1 warning in config:');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${file}:1:15  redis\\.url  "embeded" is not a Redis URL — did you mean "embedded"\\?`)),
      expect.stringMatching(
        new RegExp(
          `^${file}:8:31  connectors\\.hook\\.url  127\\.0\\.0\\.1 is a private, loopback or link-local address: the SSRF guard refuses it.*allowPrivateNetworks: true`,
        ),
      ),
      expect.stringMatching(new RegExp(`^${file}:9:32  connectors\\.local\\.url  localhost is a loopback address: the SSRF guard refuses it`)),
      `${file}:13:12  routes[0].bogus  unknown key "bogus" (allowed: name, enabled, from, match, when, to, continue, throttle, dedupe, group, activeTimes)`,
      expect.stringMatching(new RegExp(`^${file}:14:11  routes\\[0\\]\\.when  CEL syntax error`)),
      `${file}:15:10  routes[0].to[0]  no connector named "nosuch" (defined: hook, inner, local, slack)`,
      expect.stringMatching(new RegExp(`^${file}:16:11  routes\\[1\\]\\.name  route name "first" is already used by routes\\[0\\]`)),
      expect.stringMatching(
        new RegExp(`^${file}:17:10  routes\\[1\\]\\.to\\[0\\]  connector slack\\.text: cannot compile template .*undefined filter: nosuchfilter`),
      ),
      expect.stringMatching(
        new RegExp(`^${file}:18:5  routes\\[2\\]  warning: route "internal" can never match: the catch-all route "first" \\(routes\\[1\\]\\)`),
      ),
      expect.stringMatching(new RegExp(`^${file}:19:35  routes\\[2\\]\\.to\\[0\\]\\.url  10\\.1\\.2\\.3 is a private`)),
    ]);
  });

  it('one line per unset variable, not a second one from the schema for the empty value', async () => {
    const file = configFile([
      'connectors:',
      '  slack: { type: slack, token: "${MB_TEST_UNSET_TOKEN}", channel: "#ops" }',
      'routes:',
      '  - { name: r, to: [slack] }',
    ]);
    const result = await runCli(['check', '-c', file], { env: { MB_TEST_UNSET_TOKEN: '' } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      '1 problem in config:',
      `${file}:2:32  connectors.slack.token  environment variable \${MB_TEST_UNSET_TOKEN} is not set: export it, or write \${MB_TEST_UNSET_TOKEN:-default}`,
    ]);
  });

  it('warnings (unused connector, unreachable route) keep exit 0; --strict makes them fail', async () => {
    const file = configFile([
      'connectors:',
      '  a: { type: webhook, url: "https://a.example.com/" }',
      '  spare: { type: webhook, url: "https://b.example.com/" }',
      'routes:',
      '  - { name: moments, match: { kind: moment }, to: [a] }',
      '  - { name: big-moments, match: { kind: moment, data.value: { gt: 5 } }, to: [a] }',
    ]);
    const result = await runCli(['check', '-c', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${file}: OK — 0 source(s), 2 connector(s), 2 route(s)`);
    expect(result.stderr.trim().split('\n')).toEqual([
      '2 warnings in config:',
      expect.stringMatching(new RegExp(`^${file}:3:10  connectors\\.spare  warning: connector "spare" is used by no route`)),
      expect.stringMatching(
        new RegExp(`^${file}:6:5  routes\\[1\\]  warning: route "big-moments" can never match: the route "moments" \\(routes\\[0\\]\\) above it`),
      ),
    ]);
    const strict = await runCli(['check', '--strict', '-c', file]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('2 warnings in config (--strict):');
  });

  it('--json: the same findings as one JSON document', async () => {
    const file = configFile(EVERY_STAGE);
    const result = await runCli(['check', '--json', '-c', file]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as CheckReport;
    expect(report.ok).toBe(false);
    expect(report.summary).toBeUndefined();
    expect(report.problems.map((p) => `${p.severity} ${p.line}:${p.col} ${p.path}`)).toEqual([
      'error 1:15 redis.url',
      'error 8:31 connectors.hook.url',
      'error 9:32 connectors.local.url',
      'error 13:12 routes[0].bogus',
      'error 14:11 routes[0].when',
      'error 15:10 routes[0].to[0]',
      'error 16:11 routes[1].name',
      'error 17:10 routes[1].to[0]',
      'warning 18:5 routes[2]',
      'error 19:35 routes[2].to[0].url',
    ]);
    expect(report.problems[0]).toMatchObject({ file, message: expect.stringContaining('did you mean "embedded"?') });

    const good = configFile(['connectors:', '  a: { type: webhook, url: "https://a.example.com/" }', 'routes:', '  - { name: r, to: [a] }']);
    const ok = await runCli(['check', '--json', '-c', good]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ file: good, ok: true, summary: { sources: 0, connectors: 1, routes: 1 }, problems: [] });
  });
});

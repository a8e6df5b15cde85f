import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigLoadError, formatIssue } from '../../src/config/load-config.js';
import { loadValidatedConfig } from '../../src/config/load-validated-config.js';

async function issuesOf(lines: string[]): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'mb-validated-')), 'config.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const err = await loadValidatedConfig(file).catch((e: unknown) => e);
  if (!(err instanceof ConfigLoadError)) throw new Error(`expected a ConfigLoadError, got ${String(err)}`);
  return err.issues.map((i) => formatIssue(i).slice(file.length));
}

describe('loadValidatedConfig (what run, reload and check load)', () => {
  it('a route naming a missing connector is one problem, not one per stage (reload counted it twice)', async () => {
    const issues = await issuesOf(['connectors:', '  a: { type: webhook, url: "https://a.example.com/" }', 'routes:', '  - { name: r, to: [nosuch] }']);
    expect(issues).toEqual([':4:21  routes[0].to[0]  no connector named "nosuch" (defined: a)']);
  });

  it('a connector rejected by the schema is reported once, and routes naming it are not reported again', async () => {
    const issues = await issuesOf([
      'connectors:',
      '  a: { type: webhook, url: "not a url" }',
      'routes:',
      '  - { name: r, to: [a] }',
      '  - { name: s, to: [{ connector: a, method: POST }] }',
    ]);
    expect(issues, issues.join('\n')).toHaveLength(1);
    expect(issues[0]).toMatch(/^:2:28 {2}connectors\.a\.url {2}Invalid URL$/);
  });

  it('a connector template error used by several routes is reported once', async () => {
    const issues = await issuesOf([
      'connectors:',
      '  s: { type: slack, token: xoxb-1, channel: "#x", text: "{{ data | nosuch }}" }',
      'routes:',
      '  - { name: r1, match: { kind: a }, to: [s] }',
      '  - { name: r2, match: { kind: b }, to: [s] }',
    ]);
    expect(issues).toEqual([expect.stringMatching(/^:4:42 {2}routes\[0\]\.to\[0\] {2}connector s\.text: cannot compile template .*undefined filter: nosuch/)]);
  });
});

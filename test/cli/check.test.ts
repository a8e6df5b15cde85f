import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('moments-bridge check', () => {
  it('accepts config.example.yaml (exit 0)', async () => {
    const result = await runCli(['check', '-c', 'config.example.yaml'], {
      env: { SLACK_BOT_TOKEN: 'xoxb-example', PD_ROUTING_KEY: 'R0123456789abcdef0123456789abcdef', WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/config\.example\.yaml: OK — \d+ source\(s\), \d+ connector\(s\), \d+ route\(s\)/);
  });

  it('prints every problem as file:line:col  path  message and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-check-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['server:', '  prot: 9464', '  port: high', 'log: { level: loud }', ''].join('\n'));
    const result = await runCli(['check', '-c', file]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n').slice(1);
    expect(lines).toEqual([
      `${file}:2:9  server.prot  unknown key "prot" — did you mean "port"?`,
      `${file}:3:9  server.port  Invalid input: expected number, received string`,
      expect.stringMatching(new RegExp(`^${file}:4:15  log\\.level  Invalid option: expected one of "trace"\\|"debug"`)),
    ]);
  });

  it('reports a YAML syntax error with a pointer and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-check-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'redis:\n  url: "embedded\n');
    const result = await runCli(['check', '-c', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${file}:\\d+:\\d+  \\(root\\)  YAML syntax error`));
    expect(result.stderr).toContain('^');
  });

  it('exits 1 with a hint when the config file does not exist', async () => {
    const result = await runCli(['check', '-c', '/nonexistent/config.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot read config file \/nonexistent\/config\.yaml/);
  });
});

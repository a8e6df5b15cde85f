import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigLoadError, formatIssue, parseConfig } from '../../src/config/load-config.js';

const FILE = '/etc/bridge/config.yaml';

async function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await parseConfig(text, FILE, { env });
  } catch (err) {
    if (err instanceof ConfigLoadError) return err.issues.map(formatIssue);
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('reports a typo, a wrong type and a route naming a missing connector in one run, each with line:col and path', async () => {
    const text = [
      'redis:',
      '  url: embedded',
      '  keyPrefx: mb', // line 3: typo
      'server:',
      '  port: "nine"', // line 5: wrong type
      'routes:',
      '  - name: r1',
      '    to: [nowhere]', // line 8: missing connector
      '',
    ].join('\n');
    const issues = await issuesOf(text);
    expect(issues).toEqual([
      `${FILE}:3:13  redis.keyPrefx  unknown key "keyPrefx" — did you mean "keyPrefix"?`,
      `${FILE}:5:9  server.port  Invalid input: expected number, received string`,
      `${FILE}:8:10  routes[0].to[0]  no connector named "nowhere" (none defined under connectors:)`,
    ]);
  });

  it('reports schema errors and missing references together when the schema is otherwise valid', async () => {
    const text = ['sources: {}', 'connectors: {}', 'routes:', '  - name: r1', '    from: [moments]', '    to: [ops-slack, oncall]', ''].join('\n');
    const issues = await issuesOf(text);
    expect(issues).toEqual([
      `${FILE}:5:12  routes[0].from[0]  no source named "moments" (none defined under sources:)`,
      `${FILE}:6:10  routes[0].to[0]  no connector named "ops-slack" (none defined under connectors:)`,
      `${FILE}:6:21  routes[0].to[1]  no connector named "oncall" (none defined under connectors:)`,
    ]);
  });

  it('reports a YAML syntax error with its line:col and a pointer to the spot', async () => {
    const text = ['redis:', '  url: embedded', 'server:', '  port: 9464', '   host: 127.0.0.1', ''].join('\n');
    const issues = await issuesOf(text);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatch(new RegExp(`^${FILE}:4:9  \\(root\\)  YAML syntax error: `));
    expect(issues.join('\n')).toContain('^');
  });

  it('interpolates ${VAR} and ${VAR:-default}, types whole-value numbers, and names unset variables', async () => {
    const ok = await parseConfig('redis: { url: "${REDIS_URL:-embedded}", keyPrefix: "${PFX}" }\nserver:\n  port: ${PORT}\n', FILE, {
      env: { PFX: 'bridge', PORT: '9999' },
    });
    expect(ok.config.redis.url).toBe('embedded');
    expect(ok.config.redis.keyPrefix).toBe('bridge');
    expect(ok.config.server.port).toBe(9999);

    const issues = await issuesOf('redis: { url: "redis://${REDIS_HOST}:6379" }\n');
    expect(issues).toEqual([`${FILE}:1:15  redis.url  environment variable \${REDIS_HOST} is not set: export it, or write \${REDIS_HOST:-default}`]);
  });

  it('applies defaults: embedded redis, 127.0.0.1:9464, 10s grace', async () => {
    const { config } = await parseConfig('{}\n', FILE);
    expect(config.redis).toMatchObject({ url: 'embedded', keyPrefix: 'mb', cluster: false });
    expect(config.server).toMatchObject({ enabled: true, host: '127.0.0.1', port: 9464 });
    expect(config.shutdown.grace).toBe(10_000);
    expect(config.routes).toEqual([]);
  });

  it('reads secrets from files and reports an unreadable secret file at its key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-secret-'));
    writeFileSync(join(dir, 'pw'), 's3cr3t-from-file\n');
    const { config } = await parseConfig(`redis: { url: embedded, password: { file: ${join(dir, 'pw')} } }\n`, FILE);
    expect(config.redis.password).toBe('s3cr3t-from-file');
    const issues = await issuesOf(`redis:\n  password: { file: ${join(dir, 'missing')} }\n`);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(new RegExp(`^${FILE}:2:13  redis.password  cannot read secret file .*missing`));
  });

  it('rejects unknown top-level keys with a suggestion', async () => {
    expect(await issuesOf('rotues: []\n')).toEqual([`${FILE}:1:9  rotues  unknown key "rotues" — did you mean "routes"?`]);
  });
});

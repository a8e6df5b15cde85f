import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** `test` needs the routes, not the credentials: rule tests connect to no source and no sink. */

let dir: string;
let cases: string;
const noDemoEnv = Object.fromEntries(
  Object.keys(process.env)
    .filter((k) => k.startsWith('MB_DEMO_'))
    .map((k) => [k, '']),
);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mb-test-rules-'));
  cases = join(dir, 'demo.test.yaml');
  writeFileSync(
    cases,
    `tests:
  - name: a new trigger goes to the webhook
    event: { source: moments, kind: trigger.created, data: { publicId: t-1, name: "HR > 170" } }
    expect: { routes: [trigger-changes], deliveries: [{ connector: hooks }] }
  - name: a moment is reported to the sheet and the stream
    event: { source: moments, kind: moment, data: { publicId: m-1, athleteId: 7, triggerName: other, moment: x } }
    expect: { routes: [moments-report], deliveries: [{ connector: report }, { connector: stream }] }
`,
  );
});

describe('moments-bridge test', () => {
  it('runs against examples/demo.yaml with none of its URLs or sink secrets set, and names the stand-ins', async () => {
    const res = await runCli(['test', '-c', 'examples/demo.yaml', cases], { env: noDemoEnv });
    expect(res.stdout).toBe('  ✓ a new trigger goes to the webhook\n  ✓ a moment is reported to the sheet and the stream\n2 passed, 0 failed\n');
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(
      /^test: unset MB_DEMO_ADMIN_TOKEN, MB_DEMO_COGNITO_ENDPOINT, MB_DEMO_GRAPHQL_URL, .*MB_DEMO_SLACK_TOKEN.*MB_DEMO_WEBHOOK_SECRET: stand-ins used/,
    );
  });

  it('--json prints one document with every case', async () => {
    const res = await runCli(['test', '-c', 'examples/demo.yaml', cases, '--json'], { env: noDemoEnv });
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout) as { passed: number; failed: number; standIns: string[]; cases: unknown[] };
    expect(doc).toMatchObject({
      passed: 2,
      failed: 0,
      cases: [{ file: cases, name: 'a new trigger goes to the webhook', passed: true, problems: [] }, { passed: true }],
    });
    expect(doc.standIns).toContain('MB_DEMO_AWS_SECRET');
  });

  it('--json on a failing case: exit 1, the problems in the document', async () => {
    const failing = join(dir, 'failing.test.yaml');
    writeFileSync(failing, '- { name: wrong, event: { source: moments, kind: trigger.created }, expect: { routes: [moments-report] } }\n');
    const res = await runCli(['test', '-c', 'examples/demo.yaml', failing, '--json'], { env: noDemoEnv });
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({
      passed: 0,
      failed: 1,
      cases: [{ name: 'wrong', passed: false, problems: expect.arrayContaining(['routes: expected [moments-report], got [trigger-changes]']) }],
    });
  });

  it('a secret file that does not exist here is not read; an unset variable in the routes is still an error', async () => {
    const cfg = join(dir, 'secret-file.yaml');
    writeFileSync(
      cfg,
      `connectors:
  hooks: { type: webhook, url: "\${MB_TEST_HOOK_URL}", secret: { file: /run/secrets/not-here } }
routes:
  - { name: all, match: { kind: moment }, to: [hooks] }
`,
    );
    const one = join(dir, 'one.test.yaml');
    writeFileSync(
      one,
      '- { name: a moment goes to hooks, event: { source: moments, kind: moment }, expect: { routes: [all], deliveries: [{ connector: hooks }] } }\n',
    );
    const ok = await runCli(['test', '-c', cfg, one], { env: { MB_TEST_HOOK_URL: '' } });
    expect(ok.stdout).toContain('1 passed, 0 failed');
    expect(ok.stderr).toBe('test: unset MB_TEST_HOOK_URL: stand-ins used (rule tests connect to nothing)\n');
    expect(ok.code).toBe(0);
    const routed = join(dir, 'routed.yaml');
    writeFileSync(
      routed,
      `connectors:\n  hooks: { type: webhook, url: "https://hooks.example.com/" }\nroutes:\n  - { name: all, match: { kind: "\${MB_TEST_KIND}" }, to: [hooks] }\n`,
    );
    const res = await runCli(['test', '-c', routed, cases], { env: { MB_TEST_KIND: '' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('routes[0].match.kind  environment variable ${MB_TEST_KIND} is not set');
  });

  it('check (what run loads) still demands every credential of the same file', async () => {
    const res = await runCli(['check', '-c', 'examples/demo.yaml'], { env: noDemoEnv });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('connectors.ops-slack.token  environment variable ${MB_DEMO_SLACK_TOKEN} is not set');
  });
});

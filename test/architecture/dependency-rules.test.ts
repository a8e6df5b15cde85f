import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The layer rules of .dependency-cruiser.mjs, run the way `npm run lint:deps` runs them: the
// depcruise command with the repository's config, on the real tree and on a fixture tree laid out
// like the repository where each rule is broken once (and each allowed import made once).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** The arguments `npm run lint:deps` passes to depcruise (config and folders). */
function lintDepsArgs(): string[] {
  const [command, ...args] = pkg.scripts['lint:deps']!.split(/\s+/);
  expect(command).toBe('depcruise');
  return args;
}

/** depcruise's findings, as JSON. */
function cruiseJson(cwd: string, args: string[]): Violation[] {
  const run = spawnSync(process.execPath, [DEPCRUISE, ...args, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(run.stderr).toBe('');
  return (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

/** The lint step itself: its exit status (what fails CI) and what it prints. */
function lintStep(cwd: string, args: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [DEPCRUISE, ...args], { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** One file per entry; `.ts` files importing each other with `.js` specifiers, as the repository does. */
const FIXTURE: Record<string, string> = {
  'src/core/event.ts': 'export const event = 1;\n',
  // The leaf layer imports only itself: another core module is fine, a layer above it is not.
  'src/core/log.ts': [
    "import { event } from './event.js';",
    "import { router } from '../routing/router.js';",
    "import type { Slack } from '../../connectors/slack/slack-connector.js';",
    'export const log: Slack | number = event + router;',
  ].join('\n'),
  'src/routing/router.ts': 'export const router = 1;\n',
  'src/queue/delivery-queues.ts': 'export const queues = 1;\n',
  'src/sources/moments/moments-source.ts': [
    "import { event } from '../../core/event.js';",
    "import { router } from '../../routing/router.js';",
    "import { queues } from '../../queue/delivery-queues.js';",
    // Type-only imports count: a layer that needs another's types depends on it.
    "import type { Slack } from '../../../connectors/slack/slack-connector.js';",
    'export const source: Slack | number = event + router + queues;',
  ].join('\n'),
  'connectors/slack/slack-connector.ts': [
    "import { event } from '../../src/core/event.js';",
    "import { source } from '../../src/sources/moments/moments-source.js';",
    'export type Slack = string;',
    'export const slack = event + Number(source);',
  ].join('\n'),
  'connectors/pagerduty/pagerduty-connector.ts': [
    "import { router } from '../../src/routing/router.js';",
    "import { schema } from '../../src/config/schema.js';",
    "import { queues } from '../../src/queue/delivery-queues.js';",
    'export const pagerduty = router + queues + String(schema);',
  ].join('\n'),
  'src/cli/connect-redis.ts': 'export const connect = 1;\n',
  'src/cli/commands/dlq.ts': "import { connect } from '../connect-redis.js';\nexport const dlq = connect;\n",
  'src/replay/event-feeder.ts': "import { connect } from '../cli/connect-redis.js';\nexport const feeder = connect;\n",
  'src/cli/commands/simulate.ts': "export const simulate = () => import('../../../simulators/moments/run-moments-simulator.js');\n",
  'src/cli/commands/demo.ts': "export const demo = () => import('../../../simulators/demo/demo-stack.js');\n",
  'src/cli/commands/check.ts': "export const check = () => import('../../../simulators/sinks/slack/slack-api-server.js');\n",
  'src/daemon.ts': "import { startDemoStack } from '../simulators/demo/demo-stack.js';\nexport const daemon = startDemoStack;\n",
  'simulators/moments/run-moments-simulator.ts':
    "import { log } from '../../src/core/log.js';\nimport { connect } from '../../src/cli/connect-redis.js';\nexport const run = log + connect;\n",
  'simulators/sinks/slack/slack-api-server.ts': 'export const slackServer = 1;\n',
  'simulators/demo/demo-stack.ts':
    "import { run } from '../moments/run-moments-simulator.js';\nimport { slackServer } from '../sinks/slack/slack-api-server.js';\nexport const startDemoStack = run + slackServer;\n",
  'src/config/schema.ts': "import { registry } from './registry.js';\nexport const schema = () => registry;\n",
  'src/config/registry.ts': "import { schema } from './schema.js';\nexport const registry = () => schema;\n",
  'bin/moments-bridge.js': "import('../src/cli/commands/dlq.js');\n",
};

describe('layer rules (npm run lint:deps)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mb-depcruise-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run in CI: .ci/run calls npm run lint, which runs lint:deps', () => {
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^\s*npm run lint$/m);
    expect(pkg.scripts.lint).toMatch(/(^|&& )npm run lint:deps( &&|$)/);
  });

  it('the repository obeys them', () => {
    const { status, output } = lintStep(ROOT, lintDepsArgs());
    expect(output).toMatch(/no dependency violations found/);
    expect(status).toBe(0);
  });

  it('each rule fires on an import that breaks it, and lets the allowed ones through', () => {
    for (const [file, text] of Object.entries(FIXTURE)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    copyFileSync(join(ROOT, '.dependency-cruiser.mjs'), join(dir, '.dependency-cruiser.mjs'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowJs: true },
        include: ['src', 'connectors', 'simulators', 'bin'],
      }),
    );

    const violations = cruiseJson(dir, lintDepsArgs());
    const found = violations.filter((v) => v.rule.name !== 'no-circular').map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(found.sort()).toEqual(
      [
        'sources-not-to-routing-queue-connectors: src/sources/moments/moments-source.ts → src/routing/router.ts',
        'sources-not-to-routing-queue-connectors: src/sources/moments/moments-source.ts → src/queue/delivery-queues.ts',
        'sources-not-to-routing-queue-connectors: src/sources/moments/moments-source.ts → connectors/slack/slack-connector.ts',
        'connectors-not-to-routing-queue-sources: connectors/slack/slack-connector.ts → src/sources/moments/moments-source.ts',
        'connectors-not-to-routing-queue-sources: connectors/pagerduty/pagerduty-connector.ts → src/routing/router.ts',
        'connectors-not-to-routing-queue-sources: connectors/pagerduty/pagerduty-connector.ts → src/queue/delivery-queues.ts',
        'core-is-a-leaf: src/core/log.ts → src/routing/router.ts',
        'core-is-a-leaf: src/core/log.ts → connectors/slack/slack-connector.ts',
        'connectors-not-to-config: connectors/pagerduty/pagerduty-connector.ts → src/config/schema.ts',
        'nothing-to-cli: src/replay/event-feeder.ts → src/cli/connect-redis.ts',
        'nothing-to-cli: simulators/moments/run-moments-simulator.ts → src/cli/connect-redis.ts',
        'simulators-only-from-cli-and-tests: src/cli/commands/check.ts → simulators/sinks/slack/slack-api-server.ts',
        'simulators-only-from-cli-and-tests: src/daemon.ts → simulators/demo/demo-stack.ts',
      ].sort(),
    );
    // Each cycle once, named by one of its edges: the two modules that import each other.
    const cycles = violations.filter((v) => v.rule.name === 'no-circular').map((v) => [v.from, v.to].sort().join(' ⇄ '));
    expect(cycles.sort()).toEqual([
      // The source ↔ connector imports above (one of them type-only) form a cycle too.
      'connectors/slack/slack-connector.ts ⇄ src/sources/moments/moments-source.ts',
      'src/config/registry.ts ⇄ src/config/schema.ts',
    ]);
    const { status, output } = lintStep(dir, lintDepsArgs());
    expect(status, 'the lint step fails').not.toBe(0);
    for (const rule of [
      'core-is-a-leaf',
      'sources-not-to-routing-queue-connectors',
      'connectors-not-to-routing-queue-sources',
      'connectors-not-to-config',
      'nothing-to-cli',
      'simulators-only-from-cli-and-tests',
      'no-circular',
    ])
      expect(output).toContain(`error ${rule}:`);
  });
});

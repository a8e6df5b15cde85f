// Layer rules of moments-bridge (docs/architecture.md), checked by `npm run lint:deps` (part of
// `npm run lint`, which CI runs). test/architecture/dependency-rules.test.ts proves each rule fires.
// Data flows one way: source → event → router → queue → worker → connector; a layer never reaches
// back up the path, and nothing but the CLI and the tests knows the simulators.

/** Modules that may load the simulators and the demo stack: the two commands that run them, tests, benches, scripts. */
const SIMULATOR_USERS = '^(simulators|test|bench|scripts)/|^src/cli/commands/(simulate|demo)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'core-is-a-leaf',
      comment:
        'src/core/ (event, errors, log, metrics, durations, backoff, secrets) is what every layer uses, so it uses none of them: only itself and packages.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^(src|connectors|simulators|bin)/', pathNot: '^src/core/' },
    },
    {
      name: 'sources-not-to-routing-queue-connectors',
      comment: 'A source turns upstream frames into BridgeEvents and knows nothing of routes, queues or sinks.',
      severity: 'error',
      from: { path: '^src/sources/' },
      to: { path: '^(src/routing|src/queue|connectors)/' },
    },
    {
      name: 'connectors-not-to-routing-queue-sources',
      comment: 'A connector sends one rendered payload; routing, retries and the upstream sources are not its business.',
      severity: 'error',
      from: { path: '^connectors/' },
      to: { path: '^src/(routing|queue|sources)/' },
    },
    {
      name: 'connectors-not-to-config',
      comment:
        'Config assembles its schema from the connector registry, so connectors never reach back into src/config/: the field helpers (secretString, durationMsField) and ConfigIssue live in src/core/.',
      severity: 'error',
      from: { path: '^connectors/' },
      to: { path: '^src/config/' },
    },
    {
      name: 'nothing-to-cli',
      comment: 'The CLI is the top: only the CLI itself (and bin/, tests) may import from src/cli/. Shared helpers belong in the layer they serve.',
      severity: 'error',
      from: { path: '^(src|connectors|simulators)/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'simulators-only-from-cli-and-tests',
      comment: 'The simulators and the demo stack stay out of the product: only `simulate`, `demo`, tests, benches and scripts load them.',
      severity: 'error',
      from: { pathNot: SIMULATOR_USERS },
      to: { path: '^simulators/' },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles hide which module owns what and make load order matter.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count too: a layer that needs another's types depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // `npm run lint:deps` cruises src/, connectors/, simulators/ and bin/: tests, benches and
    // scripts may import anything, so they are not cruised.
    exclude: { path: '(^|/)(node_modules|dist|\\.stryker-tmp)/' },
    // Package subpaths (`@hono/node-server/serve-static`) resolve through their `exports` map, as Node does.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

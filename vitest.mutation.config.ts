import { defineConfig } from 'vitest/config';

/**
 * The fast unit tests that `npm run mutate` runs against each mutant (StrykerJS picks the ones
 * related to the mutated file among these). Every mutant re-runs its covering tests, so chaos,
 * e2e, CLI and benchmark suites stay out: they take minutes and add no kill a unit test lacks.
 * So do example-rules and rule-tests: they compile a Router while the file loads, which makes every
 * mutant of the compile path "static" (a full reload and every test per mutant — 10 minutes for
 * matchers.ts alone); the unit tests below compile inside each test instead.
 */
export default defineConfig({
  test: {
    include: [
      'test/routing/matchers.test.ts',
      'test/routing/linear-regex.test.ts',
      'test/routing/cel-condition.test.ts',
      'test/routing/route-index.test.ts',
      'test/routing/grouping.test.ts',
      'test/routing/route-predicates.test.ts',
      'test/routing/route-explainer.test.ts',
      'test/pipeline/digest-stage.test.ts',
      'test/queue/batcher.test.ts',
      'test/routing/schedule.test.ts',
      'test/routing/router.test.ts',
      'test/routing/router-state.test.ts',
      'test/routing/router-counts.test.ts',
      'test/routing/group-digests.test.ts',
      'test/routing/route-compiler.test.ts',
      'test/core/log.test.ts',
      'test/connectors/webhook/*.test.ts',
      'test/connectors/lib/http-result.test.ts',
      'test/queue/delivery-queues.test.ts',
      'test/queue/partitions.test.ts',
      'test/queue/partitioned-queues.test.ts',
      'test/queue/delivery-claims.test.ts',
      'test/daemon/source-lease.test.ts',
      'test/sources/shared/seen-window.test.ts',
      'test/queue/queue-basics.test.ts',
      'test/queue/delivery-id.test.ts',
      'test/queue/dlq-command.test.ts',
      'test/queue/set-aside.test.ts',
      'test/queue/dead-letters.test.ts',
      'test/queue/delivery-queues-edges.test.ts',
      'test/queue/delivery-worker.test.ts',
      'test/pipeline/pipeline.test.ts',
      'test/sources/moments/moment-cursor.test.ts',
      'test/sources/moments/moment-pages.test.ts',
      'test/sources/moments/schema-discovery.test.ts',
      'test/sources/observer/row-identity.test.ts',
      'test/sources/observer/admin-state.test.ts',
      'test/core/secret-redaction.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});

// StrykerJS config for `npm run mutate` (docs/testing.md, "Mutation testing").
// scripts/mutate.ts runs Stryker once per module (MUTATE_FILE), each with its own incremental
// file, so re-running one module never drops another's results and a re-run after a change only
// re-tests the mutants that change touched.
import { readFileSync } from 'node:fs';

const scopes = JSON.parse(readFileSync(new URL('./stryker/scopes.json', import.meta.url), 'utf8'));
const file = process.env.MUTATE_FILE;
// Same slug as incrementalFileOf() in scripts/mutate.ts; a line range (`file.ts:120-130`) is part of it.
const slug = file
  ? file
      .replace(/\.ts(?=:|$)/, '')
      .replaceAll('/', '-')
      .replace(':', '-L')
  : 'all';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: file ? [file] : Object.values(scopes).flat(),
  testRunner: 'vitest',
  // Only the fast unit tests; Stryker narrows them further to those related to the mutated file.
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  checkers: ['typescript'],
  // The checker only needs the product code: mutants live there (tests would triple its work).
  tsconfigFile: 'tsconfig.mutation.json',
  coverageAnalysis: 'perTest',
  // Two cores shared with other work: one test runner and one type checker.
  concurrency: 2,
  incremental: true,
  incrementalFile: `reports/mutation/incremental/${slug}.json`,
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: `reports/mutation/html/${slug}.html` },
  thresholds: { high: 90, low: 85, break: null },
  timeoutMS: 10_000,
  tempDirName: '.stryker-tmp',
};

import { defineConfig } from 'vitest/config';

// `npm run chaos:long`: the long chaos runs, one at a time (they measure the machine's behaviour under faults).
export default defineConfig({
  test: {
    include: ['test/chaos/long/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});

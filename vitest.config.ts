import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/chaos/long/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each test file starts its own redis-server (test/helpers/redis.ts); two cores, so keep it modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});

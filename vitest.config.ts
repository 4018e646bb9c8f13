import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['engine/**/*.test.ts', 'nodes/**/*.test.ts', 'renderer/**/*.test.ts', 'renderer/**/*.test.tsx'],
    // Generous: tests must pass on a busy 2-core machine (load 8); none asserts on wall-clock time.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Engine tests spawn CLIs and DuckDB; two cores on CI, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});

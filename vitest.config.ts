import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['engine/**/*.test.ts', 'nodes/**/*.test.ts', 'renderer/**/*.test.ts', 'renderer/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Engine tests spawn CLIs and DuckDB; two cores on CI, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});

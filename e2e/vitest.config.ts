import { defineConfig } from 'vitest/config';

// The UI end-to-end tests: real `forge serve`, real Chromium. Run through `npm run test:e2e`
// (e2e/run.mjs builds the UI first when it is out of date).
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['e2e/**/*.e2e.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
    reporters: ['verbose', ['json', { outputFile: 'test-results/e2e/results.json' }]],
  },
});

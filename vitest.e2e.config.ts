// End-to-end tests in a real VS Code (code-server + headless Chromium, see test/e2e/harness.ts).
// Files run one after another: each starts its own code-server and Chromium, and the machine has
// two cores. Timeouts are generous because a cold workbench start takes several seconds.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/globalSetup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    minWorkers: 1,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    // A retry would hide a flaky wait; failures keep their screenshot and logs instead.
    retry: 0,
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest-e2e.json' }]],
  },
});

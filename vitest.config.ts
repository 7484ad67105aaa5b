import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/integration/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    // The JSON report lets .ci/run print one pass/fail line for the whole suite.
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest-unit.json' }]],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/integration/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    // Hooks start interpreters (requirePython imports pandas and scikit-learn to check them):
    // on two loaded cores that takes longer than vitest's default 10 s.
    hookTimeout: 120_000,
    // The JSON report lets .ci/run print one pass/fail line for the whole suite.
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest-unit.json' }]],
  },
});

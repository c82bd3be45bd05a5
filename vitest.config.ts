import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // dist/ compiled from the current sources, for the tests that run bin/ktriage.js
    globalSetup: ['test/global-setup.ts'],
    // The fuzz harness collects garbage before it measures memory (test/fuzz/harness.ts).
    execArgv: ['--expose-gc'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

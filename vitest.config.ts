import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // examples/ import the package by name, as its users do; the tests run them on the source.
  resolve: { alias: [{ find: /^ktriage$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  test: {
    // test/kmod-lint/generations.optional.ts builds against kernel trees under /tmp: only on request
    include: ['test/**/*.test.ts', ...(process.env.KTRIAGE_KERNEL_TREES ? ['test/kmod-lint/generations.optional.ts'] : [])],
    // dist/ compiled from the current sources, for the tests that run bin/ktriage.js
    globalSetup: ['test/global-setup.ts'],
    // The fuzz harness collects garbage before it measures memory (test/fuzz/harness.ts).
    execArgv: ['--expose-gc'],
    // The per-build cache would let one test's kallsyms/BTF stand in for another's reading of the
    // dump (and write under the user's home): off, except in the tests of the cache itself.
    env: { KTRIAGE_NO_CACHE: '1' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

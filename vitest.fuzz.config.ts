// The long hostile-input campaign, run by `npm run fuzz` (scripts/fuzz.mjs sets FUZZ_RUNS, FUZZ_SEED
// and collects the per-parser counts). Same files as the CI run, with every campaign scaled up.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.test.ts', 'test/hostile/**/*.test.ts', 'test/**/hostile.test.ts', 'test/log/bad-input.test.ts'],
    testTimeout: 3_600_000,
    execArgv: ['--expose-gc'],
    hookTimeout: 600_000,
    env: { KTRIAGE_NO_CACHE: '1', FUZZ_RUNS: process.env.FUZZ_RUNS ?? '20', FUZZ_SEED: process.env.FUZZ_SEED ?? String(Date.now() % 1_000_000) },
  },
});

// `npm run fuzz`: the long hostile-input campaign. FUZZ_RUNS multiplies every campaign (default
// 20x the CI run); FUZZ_SEED changes the inputs.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.test.ts', 'test/hostile/**/*.test.ts', 'test/**/hostile.test.ts', 'test/log/bad-input.test.ts'],
    testTimeout: 3_600_000,
    env: { FUZZ_RUNS: process.env.FUZZ_RUNS ?? '20', FUZZ_SEED: process.env.FUZZ_SEED ?? String(Date.now() % 1_000_000) },
  },
});

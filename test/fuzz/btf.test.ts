// BTF parser (src/kernel/btf.ts) on the real kernel BTF of the fixture dump (100751 types), with
// the header, type records and strings patched; then the lookups the analysis makes.
import { afterAll, describe, it } from 'vitest';
import { fuzz, printCounts } from './harness.js';
import { regionPatches } from './kernel-patches.js';
import { checkBtf } from './targets.js';

afterAll(printCounts);

describe('fuzz: BTF', () => {
  it('patched header, type records and strings', async () => {
    await fuzz('btf', regionPatches(['btf.header', 'btf.types', 'btf.all'], { hotBytes: 4096, maxOps: 10 }), checkBtf, { runs: 50, ext: 'json' });
  });
});

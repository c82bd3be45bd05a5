// kallsyms decoder (src/kernel/kallsyms.ts) on the real tables of the fixture dump (94266
// symbols, absolute-percpu), with num_syms, names, token table/index, offsets and relative base
// patched in memory. Property: a symbol table or a typed error, within the time bound.
import { afterAll, describe, it } from 'vitest';
import { fuzz, printCounts } from './harness.js';
import { regionPatches } from './kernel-patches.js';
import { checkKallsyms } from './targets.js';

afterAll(printCounts);

describe('fuzz: kallsyms', () => {
  it('patched tables in the real dump', async () => {
    const arb = regionPatches(['kallsyms.num_syms', 'kallsyms.names', 'kallsyms.token_table', 'kallsyms.token_index', 'kallsyms.offsets', 'kallsyms.relative_base']);
    await fuzz('kallsyms', arb, checkKallsyms, { runs: 60, ext: 'json' });
  });
});

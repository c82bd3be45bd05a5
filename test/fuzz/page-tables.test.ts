// Page-table walker (src/kernel/memory.ts) on the real tables of the fixture dump, with entries on
// the walk to CPU 0's vmap stack rewritten: self-referencing tables, cycles between levels, huge
// pages, entries past the end of memory. Property: a translation or a DumpReadError, quickly.
import { afterAll, describe, it } from 'vitest';
import { fuzz, printCounts } from './harness.js';
import { pageTablePatches, regionPatches } from './kernel-patches.js';
import { checkPageTables } from './targets.js';

afterAll(printCounts);

describe('fuzz: page tables', () => {
  it('cyclic, self-referencing and huge entries on a real walk', async () => {
    await fuzz('page-tables', pageTablePatches(), checkPageTables, { runs: 600, ext: 'json' });
  });
  it('random bytes in the PGD page and the stack page', async () => {
    await fuzz('page-tables', regionPatches(['stack'], { hotBytes: 4096 }), checkPageTables, { runs: 100, ext: 'json' });
  });
});

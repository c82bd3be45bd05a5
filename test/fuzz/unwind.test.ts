// ORC unwinder (src/kernel/unwind) on the real trimmed dump, every CPU, with the pages of the ORC
// ip table, entries and orc_lookup that the real unwind reads patched, and the panic CPU's stack
// page patched (return addresses, saved registers, pt_regs). Called directly rather than through
// the analysis, which turns unwinder exceptions into notes. Property: a backtrace or a typed
// error per CPU, within 5 s for all CPUs.
import { afterAll, describe, expect, it } from 'vitest';
import { fuzz, printCounts } from './harness.js';
import { regionPatches } from './kernel-patches.js';
import { checkUnwind, orcRegions } from './targets.js';

afterAll(printCounts);

describe('fuzz: ORC unwinder', () => {
  it('patched ORC tables and stack', async () => {
    const orc = await orcRegions();
    expect(orc.length).toBeGreaterThan(2);
    await fuzz('unwind', regionPatches([...orc, 'stack'], { hotBytes: 4096, maxOps: 8 }), checkUnwind, { runs: 60, ext: 'json' });
  });
});

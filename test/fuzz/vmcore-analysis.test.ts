// The whole dump analysis (kernel layer, per-CPU data, BTF task fields, printk, ORC unwinder, log
// parser, rules) on the real trimmed fixture with its memory patched: the panic CPU's stack page,
// the printk text, BTF and kallsyms. Property: a diagnosis whose report strings carry no control
// characters, or a typed one-line error, within 5 s per input.
import { afterAll, describe, it } from 'vitest';
import { fuzz, printCounts } from './harness.js';
import { regionPatches } from './kernel-patches.js';
import { checkVmcoreAnalysis } from './targets.js';

afterAll(printCounts);

describe('fuzz: vmcore analysis end to end', () => {
  it('patched stack, printk text, BTF header and kallsyms tables', async () => {
    const arb = regionPatches(['stack', 'printk.text', 'printk.descs', 'btf.header', 'kallsyms.token_table', 'kallsyms.offsets'], { hotBytes: 4096, maxOps: 10 });
    await fuzz('vmcore-analysis', arb, checkVmcoreAnalysis, { runs: 12, ext: 'json' });
  });
});

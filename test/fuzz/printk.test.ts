// printk ring buffer walker (src/kernel/printk.ts) on the real ring of the fixture dump (531
// records), with the prb struct, descriptors, infos and text data patched in memory.
import { afterAll, describe, it } from 'vitest';
import { fuzz, printCounts } from './harness.js';
import { regionPatches } from './kernel-patches.js';
import { checkPrintk } from './targets.js';

afterAll(printCounts);

describe('fuzz: printk ring', () => {
  it('patched ring struct, descriptors, infos and text blocks', async () => {
    await fuzz('printk', regionPatches(['printk.prb', 'printk.descs', 'printk.infos', 'printk.text'], { hotBytes: 2048, maxOps: 12 }), checkPrintk, { runs: 300, ext: 'json' });
  });
});

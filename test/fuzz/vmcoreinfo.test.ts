// VMCOREINFO text (src/kernel/vmcoreinfo.ts): the real note from the fixture dump, mutated, and
// generated KEY=VALUE lines with absurd numbers. Property: a result or an InputError, in bounded
// time; the parsed numbers are safe integers and the memory/kallsyms layers accept the result.
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { openDump } from '../../src/vmcore/index.js';
import { fuzz, mutatedText, printCounts } from './harness.js';
import { checkVmcoreinfo, REAL_DUMP } from './targets.js';

const d = openDump(REAL_DUMP);
const NOTE = d.vmcoreinfo ?? '';
d.close();
const json = (t: string) => JSON.stringify(t);
afterAll(printCounts);

const KEYS = ['SYMBOL(init_top_pgt)', 'SYMBOL(prb)', 'SYMBOL(kallsyms_names)', 'SYMBOL(kallsyms_num_syms)', 'SYMBOL(_stext)', 'OFFSET(printk_ringbuffer.desc_ring)', 'OFFSET(prb_desc_ring.count_bits)', 'SIZE(printk_info)', 'SIZE(prb_desc)', 'LENGTH(mem_section)', 'NUMBER(phys_base)', 'NUMBER(pgtable_l5_enabled)', 'NUMBER(KERNEL_IMAGE_SIZE)', 'NUMBER(sme_mask)', 'PAGESIZE', 'KERNELOFFSET', 'CRASHTIME', 'OSRELEASE', 'BUILD-ID', 'OFFSET(', 'SYMBOL()', 'NUMBER(x'];
const VALUES = fc.oneof(
  fc.constantFrom('0', '-1', '0x', '-0x8000000000000000', '18446744073709551615', '18446744073709551616', '99999999999999999999999', 'ffffffffffffffff', '1ffffffffffffffff', '9007199254740993', '-9007199254740993', '4096', '0', '1e3', 'NaN', ' 12 ', '0x7fffffff', '\x1b[31m', ''),
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String),
  fc.bigInt({ min: 0n, max: 1n << 68n }).map((v) => v.toString(16)),
  fc.string({ maxLength: 20 }),
);

describe('fuzz: VMCOREINFO', () => {
  it('the real note, mutated', async () => {
    await fuzz('vmcoreinfo', mutatedText([NOTE], 20), checkVmcoreinfo, { runs: 1500, ext: 'json', encode: json });
  });

  it('generated lines with absurd values', async () => {
    const line = fc.tuple(fc.constantFrom(...KEYS), VALUES, fc.constantFrom('=', '==', ' = ', '')).map(([k, v, eq]) => `${k}${eq}${v}`);
    const arb = fc.tuple(fc.array(line, { maxLength: 40 }), fc.constantFrom('\n', '\r\n', '\0', '\n\0\0')).map(([ls, sep]) => ls.join(sep));
    await fuzz('vmcoreinfo', arb, checkVmcoreinfo, { runs: 1500, ext: 'json', encode: json });
  });
});

// Corrupted kernel data: random byte flips in BTF, the printk ring and kallsyms tables, and random
// page tables. Each reader must return or throw a one-line InputError/DumpReadError, quickly;
// never a TypeError/RangeError, never a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Btf } from '../../src/kernel/btf.js';
import { readKallsyms } from '../../src/kernel/kallsyms.js';
import { KernelMemory } from '../../src/kernel/memory.js';
import { readKernelLog } from '../../src/kernel/printk.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { InputError } from '../../src/util/errors.js';
import { DumpReadError } from '../../src/vmcore/types.js';
import { MemDump } from './helpers.js';
import { B, buildKallsyms, kallsymsSample, ring, RING_VMCOREINFO, sampleBtf, STEXT } from './synthetic.js';

/** Run f; an expected error class is fine, anything else fails the property. */
function tolerated(f: () => unknown, extra: (e: unknown) => boolean = () => false): boolean {
  const t0 = performance.now();
  try {
    f();
  } catch (e) {
    const ok = e instanceof InputError || e instanceof DumpReadError || extra(e);
    if (!ok) throw e;
    expect((e as Error).message).not.toContain('\n');
  }
  // A runaway guard (a loop driven by a hostile count), not a speed test: wide enough that a busy
  // CI machine never crosses it.
  expect(performance.now() - t0).toBeLessThan(10_000);
  return true;
}

const flips = (max: number) => fc.array(fc.tuple(fc.nat({ max: max - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 });

describe('hostile kernel data', () => {
  it('BTF with random byte changes', () => {
    const good = sampleBtf();
    fc.assert(
      fc.property(flips(good.length), (ch) => {
        const b = Buffer.from(good);
        for (const [o, v] of ch) b[o] = v;
        return tolerated(() => {
          const btf = Btf.parse(b);
          btf.member('task_struct.comm[3]');
          btf.offsetOf('task_struct', 'b');
          btf.sizeOf('task_struct');
          btf.findVar('__preempt_count');
          btf.enumValue('desc_finalized');
          for (let id = 0; id < btf.count + 2; id++) btf.typeName(id);
        });
      }),
      { numRuns: 400 },
    );
  });

  it('printk ring buffer with random byte changes in the control data', () => {
    const vi = parseVmcoreinfo(RING_VMCOREINFO);
    fc.assert(
      fc.property(flips(0x3000), (ch) => {
        const m = ring();
        // corrupt the ring struct, descriptors and infos (B+0x100 .. B+0x3000), and the data
        for (const [o, v] of ch) m.buf[0x100 + (o % 0x3000)] = v;
        return tolerated(
          () => readKernelLog(m, vi),
          (e) => e instanceof Error && /^unmapped/.test(e.message), // the fake memory's own "not in dump"
        );
      }),
      { numRuns: 300 },
    );
    expect(B).toBe(0xffffffff82000000n);
  });

  it('kallsyms tables with random byte changes', () => {
    fc.assert(
      fc.property(flips(0x9000), (ch) => {
        const { mem, tables } = buildKallsyms(kallsymsSample(true), 'absolute-percpu');
        for (const [o, v] of ch) mem.buf[o] = v;
        return tolerated(
          () => {
            const r = readKallsyms(mem, tables, STEXT);
            r.table.lookup('irq_fpu_usable');
            r.table.symbolize(STEXT + 0x40000n);
            r.table.all();
          },
          (e) => e instanceof Error && /^unmapped/.test(e.message),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('random page tables terminate with a translation or a DumpReadError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 512, maxLength: 512 }),
        fc.bigInt({ min: 0xff00000000000000n, max: (1n << 64n) - 1n }),
        fc.boolean(),
        (entries, vaddr, l5) => {
          const d = new MemDump();
          // one table page at 0x1000, every entry random (so tables point at themselves, elsewhere, or nowhere)
          const page = Buffer.alloc(4096);
          entries.forEach((e, i) => page.writeBigUInt64LE(e & ~0xff0n, i * 8)); // keep flags random-ish
          d.write(0x1000n, page);
          const vi = parseVmcoreinfo(`SYMBOL(init_top_pgt)=ffffffff80001000\nNUMBER(phys_base)=0\nNUMBER(pgtable_l5_enabled)=${l5 ? 1 : 0}\n`);
          const m = new KernelMemory(d, vi);
          return tolerated(() => m.readVirtual(vaddr, 16));
        },
      ),
      { numRuns: 300 },
    );
  });
});

// kallsyms found in the kernel image with no help from VMCOREINFO (the situation of every kernel
// before 6.0), checked on the real 6.1 fixture dump against the tables VMCOREINFO does name there:
// the located tables must be the very same ones, and every symbol must decode identically.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openKernel } from '../../src/kernel/kernel.js';
import { locateKallsyms } from '../../src/kernel/kallsyms-locate.js';
import { kallsymsTablesFromVmcoreinfo } from '../../src/kernel/kallsyms.js';
import { openDump } from '../../src/vmcore/index.js';
import type { DumpFile } from '../../src/vmcore/types.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const DUMP = path.join(REPO, 'fixtures/vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib');

/** The same dump with VMCOREINFO's SYMBOL(kallsyms_*) lines removed, as a pre-6.0 kernel writes it. */
function withoutKallsymsLines(d: DumpFile): DumpFile {
  const vmcoreinfo = (d.vmcoreinfo ?? '')
    .split('\n')
    .filter((l) => !l.startsWith('SYMBOL(kallsyms_'))
    .join('\n');
  return new Proxy(d, { get: (t, k) => (k === 'vmcoreinfo' ? vmcoreinfo : Reflect.get(t, k, t)) as unknown });
}

describe('kallsyms located in the image (6.1 fixture, VMCOREINFO lines hidden)', () => {
  const dump = openDump(DUMP);
  const named = openKernel(dump);
  const truth = kallsymsTablesFromVmcoreinfo(named.vmcoreinfo)!;

  it('finds exactly the tables VMCOREINFO names', () => {
    const stext = named.vmcoreinfo.symbols.get('_stext')!;
    const found = locateKallsyms(named.memory, stext, named.vmcoreinfo.symbols.get('swapper_pg_dir')!);
    expect('candidates' in found).toBe(true);
    if (!('candidates' in found)) return;
    const c = found.candidates;
    expect(c[0].tokenTable).toBe(truth.tokenTable);
    expect(c[0].tokenIndex).toBe(truth.tokenIndex);
    expect(c[0].names).toBe(truth.names);
    expect(c[0].numSyms).toBe(truth.numSyms);
    // 6.1 still has the old order: the address table sits before num_syms.
    expect(c.some((t) => t.offsets === truth.offsets && t.relativeBase === truth.relativeBase)).toBe(true);
  });

  it('opens the kernel with the same symbols, proven against VMCOREINFO', () => {
    const k = openKernel(withoutKallsymsLines(dump));
    expect(k.vmcoreinfo.symbols.has('kallsyms_names')).toBe(false);
    const s = k.symbols;
    const ok = k.symbolAttempts.find((a) => a.ok)!;
    expect(ok.source).toBe('kallsyms');
    expect(ok.message).toMatch(/found in the kernel image/);
    expect(ok.message).toMatch(/VMCOREINFO symbols agree/);
    expect(k.kallsymsEncoding).toBe(named.kallsymsEncoding);
    const ref = named.symbols;
    expect(s.count).toBe(ref.count);
    for (const name of ['irq_fpu_usable', '__per_cpu_offset', 'pcpu_hot', '__preempt_count', 'init_task', 'page_offset_base', 'vmalloc_base', '__start_BTF']) {
      expect(s.lookup(name), name).toBe(ref.lookup(name));
    }
    const all = s.all();
    const allRef = ref.all();
    for (let i = 0; i < all.length; i += 997) expect(all[i]).toEqual(allRef[i]);
  });
});

// The x86_64 record: register names of struct user_regs_struct, 4- and 5-level paging with
// KASLR's randomized regions, the hardirq and IST stacks, per-CPU context variables, ORC.
import { DumpReadError } from '../../../vmcore/types.js';
import { scanStackSymbols } from '../../prstatus.js';
import { THREAD_SIZE } from '../../unwind/stacks.js';
import type { Arch } from '../types.js';
import { x86_64Context } from './context.js';
import { X86_64Memory } from './memory.js';
import { exceptionStackRegions, irqStackRegion } from './stacks.js';

/** __START_KERNEL (arch/x86/include/asm/page_types.h) with the default CONFIG_PHYSICAL_START. */
const DEFAULT_STEXT = 0xffffffff81000000n;

export const x86_64: Arch = {
  name: 'x86_64',
  dumpArch: 'x86_64',
  regs: { pc: 'rip', sp: 'rsp' },
  disasmMode: 'x86_64',
  threadSize: THREAD_SIZE,
  defaultTextBase: DEFAULT_STEXT,
  // physBase, pagingLevels and the direct map base are in `info` already.
  layoutFacts: () => ({}),
  createMemory: (dump, vmcoreinfo) => new X86_64Memory(dump, vmcoreinfo),
  symbolsLoaded(memory, syms) {
    if (!(memory instanceof X86_64Memory)) return;
    // CONFIG_RANDOMIZE_MEMORY puts the direct map at page_offset_base, a variable VMCOREINFO lacks.
    const a = syms.lookup('page_offset_base');
    if (a === undefined) return;
    try {
      memory.setPageOffsetBase(memory.readU64(a));
    } catch (e) {
      if (!(e instanceof DumpReadError)) throw e;
      return; // unreadable or implausible: keep walking page tables
    }
    // The regions KASLR placed above the direct map bound it (memory.ts).
    for (const [sym, region] of [['vmalloc_base', 'vmalloc'], ['vmemmap_base', 'vmemmap']] as const) {
      const v = syms.lookup(sym);
      const value = v === undefined ? undefined : memory.tryU64(v);
      if (value !== undefined) memory.setRegionBase(region, value);
    }
  },
  irqStack: irqStackRegion,
  exceptionStacks: exceptionStackRegions,
  /**
   * Text symbols on a CPU's NMI IST stack (cpu_entry_area: per-CPU cea_exception_stacks pointer):
   * with kdump, a CPU stopped by the NMI shootdown saved its *interrupted* registers, so the
   * evidence (crash_nmi_callback) is only there. NMI_stack offset and size come from BTF when it
   * is already loaded, else the layout of arch/x86/include/asm/cpu_entry_area.h without KASAN:
   * 4 KiB guard, 8 KiB #DF stack, 4 KiB guard, then the 8 KiB NMI stack (offset 0x4000).
   */
  stopEvidenceNames(k, cpu) {
    const syms = k.symbolsOrNull();
    if (!syms || syms.lookup('cea_exception_stacks') === undefined) return [];
    let offset = 0x4000;
    let size = 0x2000;
    const m = k.loadedBtf()?.member('cea_exception_stacks', 'NMI_stack');
    if (m?.size && m.size <= 65536) {
      offset = m.offset;
      size = m.size;
    }
    const base = k.memory.tryU64(k.percpu.address(cpu, 'cea_exception_stacks'));
    if (base === undefined || base === 0n) return [];
    return scanStackSymbols(k.memory, syms, base + BigInt(offset), size, false);
  },
  context: x86_64Context,
  /** ORC (arch/x86/kernel/unwind_orc.c), with exception frames and the IRQ/IST stacks. */
  loadUnwinder: async () => (await import('../../unwind/kernel-adapter.js')).unwinderForKernel,
};

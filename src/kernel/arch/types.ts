// One record per architecture (after drgn's libdrgn/platform.h): everything the kernel layer
// must know about the machine a dump was taken on, so that the rest of src/kernel, the analyzers
// and the CLI never ask "is this x86?". openKernel() picks the record from the dump
// (src/vmcore/arch-detect.ts: ELF e_machine, VMCOREINFO keys, NT_PRSTATUS size).
//
// Adding an architecture, level by level (the README's supported-kernels table says which level
// each one reached):
//   1. recognise it: src/vmcore/arch-detect.ts knows its VMCOREINFO keys and NT_PRSTATUS size,
//      READABLE_ARCHES lets the readers open it, src/vmcore/notes.ts names its pr_reg words;
//   2. translate addresses: a KernelAddressSpace (createMemory) from VMCOREINFO alone, so that
//      kallsyms, BTF and the printk ring read as on every other architecture;
//   3. per-CPU context: where the current task, the preempt count and the FPU/SIMD-in-use state
//      live (context);
//   4. unwind stacks: the kernel's stacks (task, IRQ, exception) and an unwinder.

import type { DumpArch } from '../../vmcore/arch-detect.js';
import type { DumpFile } from '../../vmcore/types.js';
import type { KernelAddressSpace } from '../address-space.js';
import type { PerCpu, PerCpuValue } from '../percpu.js';
import type { Btf } from '../btf.js';
import type { KernelSymbol, SymbolTable } from '../symbols.js';
import type { Backtrace, StackRegion, UnwinderStatus } from '../unwind/types.js';
import type { KernelForUnwind } from '../unwind/kernel-adapter.js';
import type { StackContext } from '../unwind/stacks.js';
import type { VmcoreInfo } from '../vmcoreinfo.js';

export type ArchName = 'x86_64' | 'arm64';

/** Where each CPU's context is kept, read for every possible CPU through the per-CPU reader. */
export interface PerCpuContext {
  /** `value`: the unsigned 32-bit count; `wide`: the whole word where it is wider (arm64). */
  preemptCount(p: PerCpu): { source: string; values: (PerCpuValue<number> & { wide?: bigint })[] } | undefined;
  /** The task_struct each CPU runs. */
  currentTask(p: PerCpu): { source: string; values: PerCpuValue<bigint>[] } | undefined;
  /** FPU/SIMD in use by the kernel, normalised to true = in use; `raw` is the stored byte. */
  simdInUse(p: PerCpu): { source: string; inverted: boolean; values: (PerCpuValue<boolean> & { raw?: number })[] } | undefined;
}

/** The unwinder as the analyzers and the CLI use it. */
/** What a record may ask of the kernel it serves (structural, to keep kernel.ts out of arch/). */
export interface ArchKernel {
  readonly memory: KernelAddressSpace;
  readonly percpu: PerCpu;
  symbolsOrNull(): SymbolTable | null;
  /** BTF only when something already loaded it (no record pays for parsing it). */
  loadedBtf(): { member(struct: string, member: string): { offset: number; size?: number } | undefined } | undefined;
}

export interface KernelUnwinder {
  status(): UnwinderStatus;
  backtrace(cpu: number): Promise<Backtrace>;
  backtraceAll(): Promise<Backtrace[]>;
}

export interface Arch {
  readonly name: ArchName;
  /** The name src/vmcore gives it (ELF/uname spelling). */
  readonly dumpArch: DumpArch;
  /** NT_PRSTATUS words (src/vmcore/notes.ts PRSTATUS_REGISTERS names) holding the pc and stack pointer. */
  readonly regs: { readonly pc: string; readonly sp: string };
  /** capstone mode for `dis` and `Code:` bytes. */
  readonly disasmMode: ArchName;
  /** Kernel stack size (THREAD_SIZE) with the distribution's configuration. */
  readonly threadSize: bigint;
  /** _stext without KASLR, for the KASLR offset when VMCOREINFO names no _stext. */
  readonly defaultTextBase: bigint;
  /** The layout translation uses, for `ktriage info` (beyond what every architecture shows); {} when nothing more. */
  layoutFacts(memory: KernelAddressSpace): Record<string, string | number>;
  /** Kernel virtual memory, from VMCOREINFO. */
  createMemory(dump: DumpFile, vmcoreinfo: VmcoreInfo): KernelAddressSpace;
  /** Once symbols are read: what they add to translation (x86: page_offset_base and the KASLR'd region bases). */
  symbolsLoaded(memory: KernelAddressSpace, syms: SymbolTable): void;
  /** The per-CPU hardirq stack. */
  irqStack(ctx: StackContext, cpu: number): StackRegion | undefined;
  /** The per-CPU exception stacks (x86: the IST stacks; arm64: overflow and SDEI stacks). */
  exceptionStacks(ctx: StackContext, cpu: number): StackRegion[];
  /** Text symbols on the stack where a CPU stopped by the crashing one keeps its evidence (x86: NMI stack). */
  stopEvidenceNames(k: ArchKernel, cpu: number): string[];
  readonly context: PerCpuContext;
  /**
   * Data symbols a kernel without CONFIG_KALLSYMS_ALL leaves out of kallsyms, recovered from its
   * code and BTF (__per_cpu_offset and the per-CPU variables); [] when they cannot be proven.
   */
  recoverSymbols?(memory: KernelAddressSpace, syms: SymbolTable, btf: Btf | undefined, cpus: number): KernelSymbol[];
  /**
   * The `modules` list head, for the same kernels, from code; struct module's list and name
   * offsets come from BTF (the caller keeps them per build). Found per dump, not cached: it is
   * one page of code and a short list walk, and a dump that lacks those pages must not decide
   * for the next one.
   */
  recoverModuleList?(memory: KernelAddressSpace, syms: SymbolTable, module: { list: number; name: number }): KernelSymbol[];
  /** The unwinder, loaded on first use (its modules stay out of commands that never unwind). */
  loadUnwinder(): Promise<(k: KernelForUnwind) => KernelUnwinder>;
}

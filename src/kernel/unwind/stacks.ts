// The stacks a CPU can be running on (x86_64): the task stack (task_struct.stack, THREAD_SIZE),
// the per-CPU hardirq stack (irq_stack_ptr, hardirq_stack_ptr, or pcpu_hot.hardirq_stack_ptr on
// 6.2+; at or just below the page-aligned top), and the per-CPU IST exception stacks in the cpu_entry_area
// (cea_exception_stacks: guard page + stack for DF, NMI, DB, MCE, VC, VC2), as
// arch/x86/kernel/dumpstack_64.c's get_stack_info() knows them.

import type { PagedMemory } from './memory.js';
import type { StackKind, StackRegion, UnwindSymbols, UnwindTypes } from './types.js';

export const THREAD_SIZE = 16384n;
export const IRQ_STACK_SIZE = 16384n;
// EXCEPTION_STKSZ = PAGE_SIZE << EXCEPTION_STACK_ORDER (1 without KASAN) = 8 KiB; guard pages are 4 KiB.
const EXCEPTION_STKSZ = 8192n;
const GUARD = 4096n;

const ESTACKS: { member: string; kind: StackKind }[] = [
  { member: 'DF_stack', kind: 'exception:#DF' },
  { member: 'NMI_stack', kind: 'nmi' },
  { member: 'DB_stack', kind: 'exception:#DB' },
  { member: 'MCE_stack', kind: 'exception:#MC' },
  { member: 'VC_stack', kind: 'exception:#VC' },
  { member: 'VC2_stack', kind: 'exception:#VC2' },
];

export interface StackContext {
  mem: PagedMemory;
  syms: UnwindSymbols;
  types?: UnwindTypes;
  /** Per-CPU address of a per-CPU symbol, or undefined. */
  perCpuAddress(cpu: number, symbol: string): bigint | undefined;
}

export function taskStackRegion(ctx: StackContext, task: bigint | undefined): StackRegion | undefined {
  if (task === undefined || task === 0n) return undefined;
  const off = ctx.types?.offsetOf('task_struct', 'stack');
  if (off === undefined) return undefined;
  const stack = ctx.mem.tryU64(task + BigInt(off));
  if (stack === undefined || stack === 0n) return undefined;
  return { kind: 'task', begin: stack, end: stack + THREAD_SIZE };
}

export function irqStackRegion(ctx: StackContext, cpu: number): StackRegion | undefined {
  // irq_stack_ptr before 5.2, hardirq_stack_ptr since, a pcpu_hot member in 6.2-6.x.
  let addr = ctx.perCpuAddress(cpu, 'hardirq_stack_ptr') ?? ctx.perCpuAddress(cpu, 'irq_stack_ptr');
  if (addr === undefined) {
    const hot = ctx.perCpuAddress(cpu, 'pcpu_hot');
    const off = ctx.types?.offsetOf('pcpu_hot', 'hardirq_stack_ptr');
    if (hot !== undefined && off !== undefined) addr = hot + BigInt(off);
  }
  if (addr === undefined) return undefined;
  const ptr = ctx.mem.tryU64(addr);
  if (ptr === undefined || ptr === 0n) return undefined;
  // The pointer is the stack's top (5.2-5.11: va + IRQ_STACK_SIZE) or a little below it (5.12+:
  // va + IRQ_STACK_SIZE - 8, irq_init_percpu_irqstack()); the stack itself is page-aligned, so the
  // top is the pointer rounded up to a page either way: no version table needed.
  const end = (ptr + 0xfffn) & ~0xfffn;
  return { kind: 'irq', begin: end - IRQ_STACK_SIZE, end };
}

export function exceptionStackRegions(ctx: StackContext, cpu: number): StackRegion[] {
  const addr = ctx.perCpuAddress(cpu, 'cea_exception_stacks');
  if (addr === undefined) return [];
  const base = ctx.mem.tryU64(addr);
  if (base === undefined || base === 0n) return [];
  const out: StackRegion[] = [];
  ESTACKS.forEach(({ member, kind }, i) => {
    const off = ctx.types?.offsetOf('cea_exception_stacks', member);
    const guard = ctx.types?.offsetOf('cea_exception_stacks', `${member}_guard`);
    // Default layout without BTF: [guard 4K][stack 8K] per stack, in the order above.
    const begin = base + (off !== undefined ? BigInt(off) : BigInt(i) * (GUARD + EXCEPTION_STKSZ) + GUARD);
    let size = EXCEPTION_STKSZ;
    if (off !== undefined && guard !== undefined) {
      const nextGuard = ctx.types?.offsetOf('cea_exception_stacks', i + 1 < ESTACKS.length ? `${ESTACKS[i + 1].member}_guard` : 'IST_top_guard');
      if (nextGuard !== undefined && nextGuard > off) size = BigInt(nextGuard - off);
    }
    if (size > 0n) out.push({ kind, begin, end: begin + size });
  });
  return out;
}

export class CpuStacks {
  /**
   * `inferTask`: the task stack is not known (no BTF for task_struct.stack); the first kernel
   * address met on none of the known stacks (the walk leaving the IRQ stack for the interrupted
   * task's) names it, since task stacks are THREAD_SIZE-aligned.
   */
  constructor(
    readonly regions: StackRegion[],
    private inferTask = false,
  ) {}

  find(addr: bigint): StackRegion | undefined {
    const r = this.regions.find((x) => addr >= x.begin && addr < x.end);
    if (r || !this.inferTask || addr < 0xff00000000000000n) return r;
    this.inferTask = false;
    const begin = addr & ~(THREAD_SIZE - 1n);
    const t: StackRegion = { kind: 'task', begin, end: begin + THREAD_SIZE };
    this.regions.push(t);
    return t;
  }

  /** [addr, addr+len) entirely on one known stack. */
  contains(addr: bigint, len: number): StackRegion | undefined {
    const r = this.find(addr);
    if (r && addr + BigInt(len) <= r.end) return r;
    return undefined;
  }

  get known(): boolean {
    return this.regions.length > 0;
  }
}

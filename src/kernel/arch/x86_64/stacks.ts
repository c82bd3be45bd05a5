// The x86_64 per-CPU stacks (arch/x86/kernel/dumpstack_64.c get_stack_info()): the hardirq
// stack (irq_stack_ptr, hardirq_stack_ptr, or pcpu_hot.hardirq_stack_ptr on 6.2+; at or just below
// the page-aligned top), and the IST exception stacks in the cpu_entry_area (cea_exception_stacks:
// guard page + stack for DF, NMI, DB, MCE, VC, VC2).
import type { StackContext } from '../../unwind/stacks.js';
import type { StackKind, StackRegion } from '../../unwind/types.js';

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

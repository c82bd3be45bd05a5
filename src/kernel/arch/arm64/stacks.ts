// The arm64 per-CPU stacks (arch/arm64/kernel/stacktrace.c, irq.c): the IRQ stack, whose base the
// per-CPU irq_stack_ptr holds (IRQ_STACK_SIZE = THREAD_SIZE, vmalloc'd with CONFIG_VMAP_STACK),
// and the per-CPU overflow_stack array (OVERFLOW_STACK_SIZE = 4 KiB) used on a stack overflow.
import type { StackContext } from '../../unwind/stacks.js';
import type { StackRegion } from '../../unwind/types.js';

export const IRQ_STACK_SIZE = 16384n;
const OVERFLOW_STACK_SIZE = 4096n;

export function irqStackRegion(ctx: StackContext, cpu: number): StackRegion | undefined {
  const addr = ctx.perCpuAddress(cpu, 'irq_stack_ptr');
  if (addr === undefined) return undefined;
  const base = ctx.mem.tryU64(addr);
  if (base === undefined || base === 0n) return undefined;
  return { kind: 'irq', begin: base, end: base + IRQ_STACK_SIZE };
}

export function overflowStackRegion(ctx: StackContext, cpu: number): StackRegion | undefined {
  const begin = ctx.perCpuAddress(cpu, 'overflow_stack');
  if (begin === undefined) return undefined;
  return { kind: 'exception:overflow', begin, end: begin + OVERFLOW_STACK_SIZE };
}

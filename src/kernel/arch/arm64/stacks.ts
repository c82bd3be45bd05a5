// The arm64 per-CPU stacks (arch/arm64/kernel/stacktrace.c, irq.c, sdei.c): the IRQ stack, whose
// base the per-CPU irq_stack_ptr holds (IRQ_STACK_SIZE = THREAD_SIZE, vmalloc'd with
// CONFIG_VMAP_STACK); the per-CPU overflow_stack array (OVERFLOW_STACK_SIZE = 4 KiB) used on a
// stack overflow; and the two SDEI stacks (normal and critical priority events, SDEI_STACK_SIZE =
// IRQ_STACK_SIZE), whose bases sdei_stack_normal_ptr / sdei_stack_critical_ptr hold once SDEI
// firmware was found (init_sdei_stacks()); without that firmware (QEMU's virt board) they are NULL.
import type { StackContext } from '../../unwind/stacks.js';
import type { StackKind, StackRegion } from '../../unwind/types.js';

const OVERFLOW_STACK_SIZE = 4096n;

/**
 * THREAD_SIZE (= IRQ_STACK_SIZE = SDEI_STACK_SIZE), arch/arm64/include/asm/memory.h: 16 KiB
 * (MIN_THREAD_SHIFT 14, no KASAN), or one page when CONFIG_VMAP_STACK (Debian: y) meets a larger
 * page: 64 KiB with 64K pages.
 */
export function threadSizeFor(pageSize: number | undefined): bigint {
  return BigInt(Math.max(16384, pageSize ?? 4096));
}

function pointedStack(ctx: StackContext, cpu: number, symbol: string, kind: StackKind, size: bigint): StackRegion | undefined {
  const addr = ctx.perCpuAddress(cpu, symbol);
  if (addr === undefined) return undefined;
  const base = ctx.mem.tryU64(addr);
  if (base === undefined || base === 0n) return undefined;
  return { kind, begin: base, end: base + size };
}

export function irqStackRegion(ctx: StackContext, cpu: number, size: bigint = threadSizeFor(undefined)): StackRegion | undefined {
  return pointedStack(ctx, cpu, 'irq_stack_ptr', 'irq', size);
}

export function overflowStackRegion(ctx: StackContext, cpu: number): StackRegion | undefined {
  const begin = ctx.perCpuAddress(cpu, 'overflow_stack');
  if (begin === undefined) return undefined;
  return { kind: 'exception:overflow', begin, end: begin + OVERFLOW_STACK_SIZE };
}

/** The SDEI stacks this CPU has (none without SDEI firmware). */
export function sdeiStackRegions(ctx: StackContext, cpu: number, size: bigint = threadSizeFor(undefined)): StackRegion[] {
  return [
    pointedStack(ctx, cpu, 'sdei_stack_normal_ptr', 'exception:sdei-normal', size),
    pointedStack(ctx, cpu, 'sdei_stack_critical_ptr', 'exception:sdei-critical', size),
  ].filter((r): r is StackRegion => r !== undefined);
}

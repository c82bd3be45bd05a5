// The stacks a CPU can be running on: the task stack (task_struct.stack, THREAD_SIZE), and the
// per-CPU IRQ and exception stacks, which are the architecture's (src/kernel/arch/<arch>/stacks.ts).

import type { PagedMemory } from './memory.js';
import type { StackRegion, UnwindSymbols, UnwindTypes } from './types.js';

export const THREAD_SIZE = 16384n;
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

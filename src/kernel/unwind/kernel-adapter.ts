// Plugs the unwinder into src/kernel's Kernel (memory, kallsyms, BTF, per-CPU, NT_PRSTATUS).
// Typed structurally so this file depends only on the shapes it uses, not on kernel.ts itself.

import { Unwinder } from './unwinder.js';
import type { UnwindCpuInput, UnwindMemory, UnwindSymbols, UnwindTypes } from './types.js';
import { onlyDumpData } from '../../util/errors.js';

export interface KernelForUnwind {
  readonly memory: UnwindMemory;
  readonly symbols: UnwindSymbols;
  readonly btf?: UnwindTypes;
  readonly osrelease?: string;
  /** NT_PRSTATUS registers per CPU. */
  readonly cpus: readonly { cpu: number; regs: Record<string, bigint> }[];
  readonly percpu: {
    cpuOffset(cpu: number): bigint;
    currentTask(): { values: { cpu: number; value?: bigint }[] } | undefined;
  };
  task?(address: bigint): { pid?: number; comm?: string };
}

/** An Unwinder over a Kernel (src/kernel/kernel.ts), one entry per CPU with registers. */
export function unwinderForKernel(k: KernelForUnwind): Unwinder {
  let current: Map<number, bigint> | undefined;
  try {
    current = new Map((k.percpu.currentTask()?.values ?? []).filter((v) => v.value !== undefined).map((v) => [v.cpu, v.value as bigint]));
  } catch (e) {
    onlyDumpData(e);
    current = undefined;
  }
  const cpus: UnwindCpuInput[] = k.cpus.map((c) => {
    let perCpuOffset: bigint | undefined;
    try {
      perCpuOffset = k.percpu.cpuOffset(c.cpu);
    } catch (e) {
      onlyDumpData(e);
      perCpuOffset = undefined;
    }
    return { cpu: c.cpu, regs: c.regs, perCpuOffset, task: current?.get(c.cpu) };
  });
  return new Unwinder({
    memory: k.memory,
    symbols: k.symbols,
    types: k.btf,
    release: k.osrelease ?? '',
    cpus,
    describeTask: k.task ? (t) => {
      try {
        const i = k.task!(t);
        return { pid: i.pid, comm: i.comm };
      } catch (e) {
        onlyDumpData(e);
        return undefined;
      }
    } : undefined,
  });
}

// The unwinder's inputs for a real dump, taken from the product's own layers (src/vmcore's
// openDump, src/kernel's Kernel: kallsyms and BTF from the dump's memory), exposed field by field
// so the real-dump tests can build an Unwinder and count the pages it reads.
import { openKernel } from '../../src/kernel/kernel.js';
import type { UnwindCpuInput } from '../../src/kernel/unwind/types.js';
import { openDump } from '../../src/vmcore/index.js';

export function openHarness(path: string) {
  const file = openDump(path);
  const k = openKernel(file);
  const current = new Map((k.percpu.currentTask()?.values ?? []).filter((v) => v.value !== undefined).map((v) => [v.cpu, v.value as bigint]));
  const cpus: UnwindCpuInput[] = k.cpus.map((c) => ({ cpu: c.cpu, regs: c.regs, perCpuOffset: k.percpu.cpuOffset(c.cpu), task: current.get(c.cpu) }));
  const lines = new Map((file.vmcoreinfo ?? '').split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
  // Kernel memory, plus what the tests ask of the file: pages read so far, raw VMCOREINFO values.
  const dump = Object.assign(k.memory, { pagesRead: file.pagesTouched, info: (key: string) => lines.get(key) });
  const describeTask = (task: bigint) => {
    const t = k.task(task);
    return { pid: t.pid, comm: t.comm };
  };
  return { dump, syms: k.symbols, cpus, release: k.osrelease ?? '', types: k.btf, describeTask };
}

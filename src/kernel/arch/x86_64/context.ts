// Where x86_64 keeps a CPU's context (arch/x86/include/asm/preempt.h, current.h, fpu/api.h):
//   preempt count: per-CPU int __preempt_count (3.13-6.1, 6.15+) or pcpu_hot.preempt_count (6.2-6.14)
//   current task:  per-CPU current_task or pcpu_hot.current_task (6.2-6.14)
//   kernel FPU:    per-CPU bool in_kernel_fpu (true = in use) or kernel_fpu_allowed (6.16+,
//                  inverted)
// pcpu_hot offsets come from BTF, else the layout of arch/x86/include/asm/current.h in 6.2-6.14
// (current_task 0, preempt_count 8).
import type { PerCpu } from '../../percpu.js';
import type { PerCpuContext } from '../types.js';

interface Field {
  source: string;
  offset: bigint;
  inverted?: boolean;
}

function hotMember(p: PerCpu, member: string, fallback: number): Field | undefined {
  const hot = p.syms.lookup('pcpu_hot');
  if (hot === undefined) return undefined;
  const off = p.btf?.()?.offsetOf('pcpu_hot', member);
  if (off !== undefined) return { source: `pcpu_hot.${member} (offset ${off} from BTF)`, offset: hot + BigInt(off) };
  return { source: `pcpu_hot.${member} (offset ${fallback}, assumed: no BTF)`, offset: hot + BigInt(fallback) };
}

function preemptCountField(p: PerCpu): Field | undefined {
  const pc = p.syms.lookup('__preempt_count');
  if (pc !== undefined) return { source: '__preempt_count', offset: pc };
  return hotMember(p, 'preempt_count', 8);
}

function currentTaskField(p: PerCpu): Field | undefined {
  const ct = p.syms.lookup('current_task');
  if (ct !== undefined) return { source: 'current_task', offset: ct };
  return hotMember(p, 'current_task', 0);
}

function kernelFpuField(p: PerCpu): Field | undefined {
  const a = p.syms.lookup('in_kernel_fpu');
  if (a !== undefined) return { source: 'in_kernel_fpu', offset: a, inverted: false };
  const b = p.syms.lookup('kernel_fpu_allowed');
  if (b !== undefined) return { source: 'kernel_fpu_allowed (inverted: in use = !allowed)', offset: b, inverted: true };
  return undefined;
}

export const x86_64Context: PerCpuContext = {
  preemptCount(p) {
    const f = preemptCountField(p);
    if (!f) return undefined;
    return { source: f.source, values: p.readAll(f.offset, 4).map((r) => ({ ...r, value: r.value?.readUInt32LE(0) })) };
  },
  simdInUse(p) {
    const f = kernelFpuField(p);
    if (!f) return undefined;
    return {
      source: f.source,
      inverted: !!f.inverted,
      values: p.readAll(f.offset, 1).map((r) => ({
        cpu: r.cpu,
        address: r.address,
        error: r.error,
        raw: r.value?.[0],
        value: r.value === undefined ? undefined : f.inverted ? r.value[0] === 0 : r.value[0] !== 0,
      })),
    };
  },
  currentTask(p) {
    const f = currentTaskField(p);
    if (!f) return undefined;
    return { source: f.source, values: p.readAll(f.offset, 8).map((r) => ({ ...r, value: r.value?.readBigUInt64LE(0) })) };
  },
};

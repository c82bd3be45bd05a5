// Where arm64 keeps a CPU's context:
//   current task:  the kernel keeps `current` in sp_el0 (arch/arm64/include/asm/current.h), which
//                  NT_PRSTATUS does not carry; __switch_to() also stores the next task in the
//                  per-CPU __entry_task (arch/arm64/kernel/process.c, 4.11+; the entry code read
//                  it back before 6.x moved it to sp_el0 only), so that is what a dump can read;
//   preempt count: no per-CPU variable: the current task's thread_info.preempt_count
//                  (arch/arm64/include/asm/preempt.h), a u64 whose low word is the count and whose
//                  high word is need_resched, stored inverted (0 = a reschedule is pending, so
//                  that "preempt_count == 0" alone means "preemptible and should reschedule");
//   FPU/SIMD:      per-CPU bool fpsimd_context_busy (arch/arm64/kernel/fpsimd.c, 5.6-6.x:
//                  get_cpu_fpsimd_context() sets it around kernel_neon_begin()/end()), or
//                  kernel_neon_busy before 5.6. From 6.8 neither exists: kernel-mode NEON is a
//                  per-task thread flag, TIF_KERNEL_FPSTATE ("arm64: fpsimd: Preserve/restore
//                  kernel mode NEON at context switch"), whose bit number has moved between
//                  releases (29, then 26 with the generic TIF bits) and is in no BTF or
//                  VMCOREINFO: it is read from the code that tests it (kernelFpstateBit), and
//                  when that code does not say it unambiguously, the state is reported as not read.
// thread_info is task_struct's first member (CONFIG_THREAD_INFO_IN_TASK); its offsets come
// from BTF.
import { LookupError } from '../../object.js';
import { branchOffset, condBranchOffset, ldrX, mrsSpEl0, RET, singleBitTest, writtenRegister } from './a64.js';
import type { PerCpu, PerCpuValue } from '../../percpu.js';
import type { PerCpuContext } from '../types.js';

function entryTask(p: PerCpu): { source: string; values: PerCpuValue<bigint>[] } | undefined {
  const a = p.syms.lookup('__entry_task');
  if (a === undefined) return undefined;
  return { source: '__entry_task', values: p.readAll(a, 8).map((r) => ({ ...r, value: r.value?.readBigUInt64LE(0) })) };
}

/**
 * TIF_KERNEL_FPSTATE's bit number, from the code (it is a #define: in no BTF, no VMCOREINFO, and it
 * moved between releases). kernel_neon_begin() and kernel_neon_end() (arch/arm64/kernel/fpsimd.c,
 * 6.8+) each test it first among the current task's flags: `mrs xC, sp_el0; ldr xF, [xC, #flags];
 * tst wF, #bit` or `tbz wF, #bit`. Both must name the same bit, or the bit is not known.
 */
function kernelFpstateBit(p: PerCpu): number | undefined {
  const btf = p.btf?.();
  const ti = btf?.offsetOf('task_struct', 'thread_info');
  const fl = btf?.offsetOf('thread_info', 'flags');
  if (ti === undefined || fl === undefined) return undefined;
  const bits = ['kernel_neon_begin', 'kernel_neon_end'].map((fn) => {
    const a = p.syms.lookup(fn);
    const code = a === undefined ? undefined : p.mem.tryRead(a, 512);
    if (a === undefined || !code) return undefined;
    // Every path through the code (forward branches taken and not), a register tracker on each:
    // which registers hold `current`, which the flags word loaded from it; the first single-bit
    // test of the flags on each path. All paths must agree.
    const found = new Set<number>();
    const todo: { at: number; current: Set<number>; flags: Set<number> }[] = [{ at: 0, current: new Set(), flags: new Set() }];
    for (let paths = 0; todo.length && paths < 64; paths++) {
      const { at, current, flags } = todo.pop()!;
      for (let i = at; i + 4 <= code.length; i += 4) {
        const insn = code.readUInt32LE(i);
        if (insn === RET) break;
        const t = singleBitTest(insn);
        if (t && flags.has(t.rn)) {
          found.add(t.bit);
          break;
        }
        const cond = condBranchOffset(insn);
        if (cond !== undefined && cond > 0) todo.push({ at: i + cond, current: new Set(current), flags: new Set(flags) });
        const jump = branchOffset(insn);
        if (jump !== undefined) {
          if (jump > 0) todo.push({ at: i + jump, current: new Set(current), flags: new Set(flags) });
          break;
        }
        const c = mrsSpEl0(insn);
        const l = ldrX(insn);
        const rd = writtenRegister(insn);
        if (rd !== undefined) {
          current.delete(rd);
          flags.delete(rd);
        }
        if (c !== undefined) current.add(c);
        else if (l && current.has(l.rn) && l.offset === ti + fl) flags.add(l.rt);
      }
    }
    return found.size === 1 ? [...found][0] : undefined;
  });
  return bits[0] !== undefined && bits[0] === bits[1] && bits[0] >= 8 && bits[0] < 64 ? bits[0] : undefined;
}

export const arm64Context: PerCpuContext = {
  currentTask: entryTask,
  preemptCount(p) {
    const cur = entryTask(p);
    if (!cur) return undefined;
    const btf = p.btf?.();
    const ti = btf?.offsetOf('task_struct', 'thread_info');
    const pcm = btf?.member('thread_info', 'preempt_count');
    const pc = pcm?.offset;
    // A u64 (count + need_resched) since 4.20's arm64 asm/preempt.h (396244692232); an int before, with
    // need_resched only in TIF_NEED_RESCHED: then the count alone is read.
    const narrow = pcm?.size === 4;
    // CONFIG_PREEMPT_COUNT is selected by PREEMPTION (kernel/Kconfig.preempt), which builds
    // preempt_schedule() (kernel/sched/core.c), and by DEBUG_ATOMIC_SLEEP, which builds
    // __might_resched() (___might_sleep() before 5.16). Without it preempt_disable() is only a
    // barrier (include/linux/preempt.h): the count holds the irq/softirq/NMI levels alone.
    const counted = ['preempt_schedule', '__might_resched', '___might_sleep'].some((n) => p.syms.lookup(n) !== undefined);
    const source = `current task's thread_info.preempt_count (${narrow ? '32-bit int, before 4.20: need_resched is the TIF_NEED_RESCHED flag, not in the count' : '64-bit; need_resched inverted in the upper word'}), task from __entry_task${counted ? '' : '; this kernel has no CONFIG_PREEMPT_COUNT (kallsyms has neither preempt_schedule nor __might_resched): preempt_disable() is not counted, only hardirq/softirq/NMI levels'}`;
    return {
      source,
      values: cur.values.map((c) => {
        if (c.value === undefined) return { cpu: c.cpu, error: c.error ?? 'current task unreadable' };
        if (ti === undefined || pc === undefined) return { cpu: c.cpu, error: 'no BTF for thread_info.preempt_count' };
        const address = c.value + BigInt(ti + pc);
        const b = p.mem.tryRead(address, narrow ? 4 : 8);
        if (!b) return { cpu: c.cpu, address, error: `thread_info at 0x${address.toString(16)} unreadable` };
        if (narrow) return { cpu: c.cpu, address, value: b.readUInt32LE(0) };
        const wide = b.readBigUInt64LE(0);
        return { cpu: c.cpu, address, value: Number(wide & 0xffffffffn), wide };
      }),
    };
  },
  simdInUse(p) {
    for (const name of ['fpsimd_context_busy', 'kernel_neon_busy']) {
      const a = p.syms.lookup(name);
      if (a === undefined) continue;
      return {
        source: name,
        inverted: false,
        values: p.readAll(a, 1).map((r) => ({ cpu: r.cpu, address: r.address, error: r.error, raw: r.value?.[0], value: r.value === undefined ? undefined : r.value[0] !== 0 })),
      };
    }
    const tif = kernelFpstateBit(p);
    const cur = tif !== undefined ? entryTask(p) : undefined;
    const btf = tif !== undefined ? p.btf?.() : undefined;
    const ti = btf?.offsetOf('task_struct', 'thread_info');
    const fl = btf?.offsetOf('thread_info', 'flags');
    if (tif !== undefined && cur && ti !== undefined && fl !== undefined) {
      return {
        source: `the current task's thread flag TIF_KERNEL_FPSTATE (bit ${tif}, read from kernel_neon_begin()/kernel_neon_end()'s code): task-level kernel-mode NEON; a softirq's use is not flagged (6.8+)`,
        inverted: false,
        values: cur.values.map((c) => {
          if (c.value === undefined) return { cpu: c.cpu, error: c.error ?? 'current task unreadable' };
          const address = c.value + BigInt(ti + fl);
          const b = p.mem.tryRead(address, 8);
          if (!b) return { cpu: c.cpu, address, error: `thread_info.flags at 0x${address.toString(16)} unreadable` };
          const bit = Number((b.readBigUInt64LE(0) >> BigInt(tif)) & 1n);
          return { cpu: c.cpu, address, raw: bit, value: bit === 1 };
        }),
      };
    }
    if (p.syms.lookup('kernel_neon_begin') !== undefined) {
      throw new LookupError('not read: this kernel has neither fpsimd_context_busy nor kernel_neon_busy; since 6.8 arm64 marks kernel-mode NEON in the task (thread flag TIF_KERNEL_FPSTATE), whose bit number is not recorded in the dump');
    }
    return undefined;
  },
};

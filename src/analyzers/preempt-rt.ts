// Is the dumped kernel PREEMPT_RT, and what is each CPU's softirq state there? Recognised by
// feature first: task_struct.softirq_disable_cnt exists only with CONFIG_PREEMPT_RT
// (include/linux/sched.h), so BTF having it settles the question; else the uts version string
// ("#1 SMP PREEMPT_RT ...", init_uts_ns through VMCOREINFO) or the release name ("-rt-amd64").
import type { Kernel } from '../kernel/index.js';
import { isPreemptRtString, type RtContext } from './preempt-count.js';
import { onlyDumpData } from '../util/errors.js';

export interface RtDetection {
  detectedBy: string;
  /** BTF offset of task_struct.softirq_disable_cnt, when BTF has it. */
  fieldOffset?: number;
}

const UTS_LEN = 65; // __NEW_UTS_LEN + 1; struct new_utsname { sysname, nodename, release, version, ... }

/** init_uts_ns.name.version, e.g. "#1 SMP PREEMPT_RT Debian 7.2.13-1 (2026-12-01)". */
function utsVersion(k: Kernel): string | undefined {
  const ns = k.vmcoreinfo.symbols.get('init_uts_ns');
  const nameOff = k.vmcoreinfo.offsets.get('uts_namespace.name');
  if (ns === undefined || nameOff === undefined) return undefined;
  try {
    const b = k.memory.readVirtual(ns + BigInt(nameOff + 3 * UTS_LEN), UTS_LEN);
    const z = b.indexOf(0);
    return b.toString('latin1', 0, z < 0 ? UTS_LEN : z);
  } catch (e) {
    onlyDumpData(e);
    return undefined;
  }
}

export function detectPreemptRt(k: Kernel): RtDetection | null {
  const off = k.btf?.offsetOf('task_struct', 'softirq_disable_cnt');
  if (off !== undefined) return { detectedBy: 'BTF has task_struct.softirq_disable_cnt (CONFIG_PREEMPT_RT)', fieldOffset: off };
  const v = utsVersion(k);
  if (v && /PREEMPT_RT/.test(v)) return { detectedBy: `kernel version "${v}" says PREEMPT_RT` };
  if (isPreemptRtString(k.osrelease)) return { detectedBy: `release ${k.osrelease} names a PREEMPT_RT build` };
  return null;
}

/** The RT context of one CPU: its current task's softirq_disable_cnt, or null with the reason. */
export function rtContextFor(k: Kernel, rt: RtDetection, task: bigint | undefined, label?: string): RtContext {
  if (task === undefined) return { detectedBy: rt.detectedBy, softirqDisableCnt: null, source: 'current task unknown' };
  if (rt.fieldOffset === undefined) return { detectedBy: rt.detectedBy, softirqDisableCnt: null, source: 'no BTF offset for task_struct.softirq_disable_cnt' };
  const v = k.memory.tryU64(task + BigInt(rt.fieldOffset));
  if (v === undefined) return { detectedBy: rt.detectedBy, softirqDisableCnt: null, source: `task_struct.softirq_disable_cnt of ${label ?? `task 0x${task.toString(16)}`} unreadable` };
  // an int: the low 32 bits of the 8 bytes read
  return { detectedBy: rt.detectedBy, softirqDisableCnt: Number(v & 0xffffffffn), source: `task_struct.softirq_disable_cnt (+${rt.fieldOffset}) of ${label ?? `task 0x${task.toString(16)}`}` };
}

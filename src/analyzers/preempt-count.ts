// Decoding a preempt_count value into its fields, the predicates the kernel derives from it, and
// what the context forbids. The layout depends on architecture and kernel version; sources:
//
// - 5.8+: NMI_BITS = 4 (bits 20-23) so nmi_enter() can nest: "hardirq/nmi: Allow nested
//   nmi_enter()" (Peter Zijlstra, tip core/rcu 69ea03b56ed2, 2020-05-19, merged for 5.8).
// - 3.14-5.7: NMI is one bit (bit 20), HARDIRQ bits 16-19; PREEMPT_ACTIVE sat in bit 21 until the
//   2015 sched/core series removed it (present in 4.1, gone in 4.4;
//   include/linux/preempt.h of each).
// - before 3.14: HARDIRQ had up to 10 bits (16-25), NMI bit 26, PREEMPT_ACTIVE above it
//   (linux-3.10 include/linux/hardirq.h).
// - x86 since 3.13 folds PREEMPT_NEED_RESCHED into bit 31, inverted (set = no reschedule
//   pending): f27dde8deef3 "sched: Add NEED_RESCHED to the preempt_count" and
//   arch/x86/include/asm/preempt.h. preempt_count() masks it off.
// - arm64 since 396244692232 "arm64: preempt: Provide our own implementation of asm/preempt.h"
//   (4.20/5.0): a 64-bit word, low 32 bits the count, high 32 bits `need_resched`, which is 0
//   when a reschedule is needed (inverted, like x86).
// - PREEMPT_RT (mainline since "softirq: Add RT specific softirq accounting", tglx 2021): bits 8-15
//   stay 0; softirq state is the current task's softirq_disable_cnt (mirrored in the per-CPU
//   softirq_ctrl.cnt), in the same units: SOFTIRQ_OFFSET (0x100) while serving softirqs,
//   SOFTIRQ_DISABLE_OFFSET (0x200) per local_bh_disable(). softirq_count(), in_serving_softirq(),
//   in_task() and in_interrupt() read it (include/linux/preempt.h); PREEMPT_LOCK_OFFSET is 0
//   because spinlock_t, rwlock_t and local_lock_t are sleeping locks (kernel/softirq.c RT part).
import { InputError } from '../util/errors.js';

export type Arch = 'x86_64' | 'arm64';

export interface PreemptLayout {
  id: 'nmi4' | 'nmi1' | 'nmi1-preempt-active' | 'legacy-hardirq10';
  description: string;
  hardirqBits: [number, number];
  nmiBits: [number, number];
  preemptActiveBit: number | null;
}

const LAYOUTS: Record<PreemptLayout['id'], PreemptLayout> = {
  nmi4: { id: 'nmi4', description: 'Linux 5.8+: NMI bits 20-23 (nestable nmi_enter)', hardirqBits: [16, 19], nmiBits: [20, 23], preemptActiveBit: null },
  nmi1: { id: 'nmi1', description: 'Linux 4.2-5.7: one NMI bit (20)', hardirqBits: [16, 19], nmiBits: [20, 20], preemptActiveBit: null },
  'nmi1-preempt-active': { id: 'nmi1-preempt-active', description: 'Linux 3.14-4.1: NMI bit 20, PREEMPT_ACTIVE bit 21', hardirqBits: [16, 19], nmiBits: [20, 20], preemptActiveBit: 21 },
  'legacy-hardirq10': { id: 'legacy-hardirq10', description: 'Linux before 3.14: HARDIRQ bits 16-25, NMI bit 26, PREEMPT_ACTIVE bit 27', hardirqBits: [16, 25], nmiBits: [26, 26], preemptActiveBit: 27 },
};

export interface KernelVersion { major: number; minor: number; patch: number }

/** `5.14.0-284.11.1.el9_2.x86_64` -> 5.14.0; null when the text has no version. */
export function parseKernelRelease(release: string): KernelVersion | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export function versionAtLeast(v: KernelVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

function layoutFor(kernel: KernelVersion | null): PreemptLayout {
  if (!kernel || versionAtLeast(kernel, 5, 8)) return LAYOUTS.nmi4;
  if (versionAtLeast(kernel, 4, 2)) return LAYOUTS.nmi1;
  if (versionAtLeast(kernel, 3, 14)) return LAYOUTS['nmi1-preempt-active'];
  return LAYOUTS['legacy-hardirq10'];
}

export interface PreemptField { name: string; bits: string; value: number; meaning: string }

/** PREEMPT_RT facts for one CPU: the current task's softirq_disable_cnt, when it could be read. */
export interface RtContext {
  /** How RT was recognised: "BTF has task_struct.softirq_disable_cnt", "release ... contains -rt". */
  detectedBy: string;
  /** task_struct.softirq_disable_cnt of the CPU's current task; null when not read. */
  softirqDisableCnt: number | null;
  /** Where the count came from ("task_struct.softirq_disable_cnt of init (pid 1)"). */
  source?: string;
}

const SOFTIRQ_MASK = 0xff00;

/** A release or version string of a PREEMPT_RT kernel: "6.12.57+deb13-rt-amd64", "...rt14.el9...", "#1 SMP PREEMPT_RT ...". */
export function isPreemptRtString(text: string | null | undefined): boolean {
  if (!text) return false;
  return /PREEMPT_RT/.test(text) || /(?:^|[-_.+])rt\d*(?:[-_.+]|$)/i.test(text);
}

export interface PreemptDecode {
  value: string;
  /** Set on PREEMPT_RT kernels: softirq state comes from the task, not from bits 8-15. */
  preemptRt: { detectedBy: string; softirqDisableCnt: string | null; source: string | null } | null;
  arch: Arch;
  kernel: string | null;
  layout: string;
  fields: PreemptField[];
  preemptDepth: number;
  softirq: number;
  hardirq: number;
  nmi: number;
  /** true only when a reschedule is pending. */
  needResched: boolean;
  /** preempt_count() as the kernel computes it (resched flag masked off), hex. */
  preemptCount: string;
  softirqCount: string;
  predicates: {
    inNmi: boolean;
    inHardirq: boolean;
    inServingSoftirq: boolean;
    softirqDisabled: boolean;
    inInterrupt: boolean;
    inTask: boolean;
    inAtomic: boolean;
    preemptible: boolean;
  };
  /** One-line summary, e.g. "NMI (nesting 1), hardirq 1, preempt depth 3, no resched pending". */
  summary: string;
  forbids: string[];
  notes: string[];
}

function bitsOf(v: bigint, lo: number, hi: number): number {
  return Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
}

function bitsLabel(lo: number, hi: number): string {
  return lo === hi ? `${lo}` : `${lo}-${hi}`;
}

/**
 * Parse a value as users paste it: `0x80110003`, `80110003` (treated as hex only when it has
 * hex letters), decimal, or negative decimal as `crash` prints a signed int (`-2146369533`).
 */
export function parsePreemptValue(text: string, arch: Arch): bigint {
  const t = text.trim().replace(/_/g, '');
  const width = arch === 'arm64' ? 64n : 32n;
  let v: bigint;
  if (/^-?0x[0-9a-f]+$/i.test(t)) {
    v = t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  } else if (/^-?\d+$/.test(t)) {
    v = BigInt(t);
  } else if (/^[0-9a-f]+$/i.test(t)) {
    v = BigInt('0x' + t);
  } else {
    throw new InputError(`not a number: ${JSON.stringify(t.slice(0, 40))} (use hex 0x..., decimal or negative decimal)`);
  }
  const limit = 1n << width;
  if (v < -(limit >> 1n) || v >= limit) throw new InputError(`value out of range for a ${width}-bit preempt_count on ${arch}`);
  return v < 0n ? v + limit : v;
}

export function decodePreemptCount(raw: bigint, arch: Arch = 'x86_64', kernelRelease: string | null = null, rtIn?: RtContext | null): PreemptDecode {
  const kernel = kernelRelease ? parseKernelRelease(kernelRelease) : null;
  const rt: RtContext | null = rtIn ?? (isPreemptRtString(kernelRelease) ? { detectedBy: `release ${kernelRelease} names a PREEMPT_RT build`, softirqDisableCnt: null } : null);
  const layout = layoutFor(kernel);
  const notes: string[] = [];
  const fields: PreemptField[] = [];
  let count: bigint; // preempt_count(): the resched flag masked off
  let needResched: boolean;
  const hexWidth = arch === 'arm64' ? 16 : 8;

  if (arch === 'x86_64') {
    count = raw & 0x7fffffffn;
    const bit31 = Number((raw >> 31n) & 1n);
    needResched = bit31 === 0;
    if (kernel && !versionAtLeast(kernel, 3, 13)) {
      // Before 3.13 x86 kept need_resched in thread_info flags, not in the count.
      needResched = false;
      notes.push('before Linux 3.13 x86 kept TIF_NEED_RESCHED in thread_info flags; bit 31 is not the resched flag');
    }
    fields.push({
      name: 'PREEMPT_NEED_RESCHED',
      bits: '31',
      value: bit31,
      meaning: bit31 ? 'set = NO reschedule pending (x86 stores the flag inverted)' : 'clear = a reschedule IS pending (x86 stores the flag inverted)',
    });
  } else {
    count = raw & 0xffffffffn;
    const upper = raw >> 32n;
    needResched = upper === 0n;
    fields.push({
      name: 'need_resched (upper 32 bits)',
      bits: '32-63',
      value: Number(upper),
      meaning: upper === 0n ? '0 = a reschedule IS pending (arm64 stores it inverted)' : 'non-zero = no reschedule pending',
    });
    if (raw <= 0xffffffffn) notes.push('arm64 keeps a 64-bit word (thread_info.preempt_count); a 32-bit value says nothing reliable about need_resched');
  }

  const [hLo, hHi] = layout.hardirqBits;
  const [nLo, nHi] = layout.nmiBits;
  const preemptDepth = bitsOf(count, 0, 7);
  const pcSoftirq = bitsOf(count, 8, 15);
  const rtCnt = rt?.softirqDisableCnt ?? null;
  // On RT the softirq byte that matters is the task's; preempt_count's bits 8-15 should be zero.
  const softirq = rt ? (rtCnt !== null ? (rtCnt & SOFTIRQ_MASK) >> 8 : 0) : pcSoftirq;
  const hardirq = bitsOf(count, hLo, hHi);
  const nmi = bitsOf(count, nLo, nHi);
  const topUsed = Math.max(nHi, layout.preemptActiveBit ?? 0);
  const unusedHi = arch === 'x86_64' ? 30 : 31;
  const unused = topUsed + 1 <= unusedHi ? bitsOf(count, topUsed + 1, unusedHi) : 0;

  if (layout.preemptActiveBit !== null) {
    const pa = bitsOf(count, layout.preemptActiveBit, layout.preemptActiveBit);
    fields.push({ name: 'PREEMPT_ACTIVE', bits: `${layout.preemptActiveBit}`, value: pa, meaning: pa ? 'set: task is being preempted (inside __schedule)' : 'clear' });
  }
  if (topUsed + 1 <= unusedHi) {
    fields.push({ name: '(unused)', bits: bitsLabel(topUsed + 1, unusedHi), value: unused, meaning: unused ? 'should be zero: counter overflow or corrupted value' : 'zero' });
  }
  fields.push({
    name: 'NMI',
    bits: bitsLabel(nLo, nHi),
    value: nmi,
    meaning:
      arch === 'arm64'
        ? nmi ? `in_nmi() true: ${nmi} NMI level(s) (nmi_enter(): on arm64 pseudo-NMI, SDEI and SError handlers; a kprobe BRK handler never sets it)` : 'not in NMI (arm64 kprobe BRK handlers do not set it)'
        : nmi ? `in_nmi() true: ${nmi} NMI level(s) (nmi_enter(); on x86 also every kernel-mode int3, i.e. int3-based kprobe handlers)` : 'not in NMI',
  });
  fields.push({
    name: 'HARDIRQ',
    bits: bitsLabel(hLo, hHi),
    value: hardirq,
    meaning: hardirq ? `in_hardirq() true: ${hardirq} level(s)${nmi ? ' (nmi_enter() adds one together with NMI)' : ''}` : 'not in hard interrupt',
  });
  const serving = softirq & 1;
  const disableDepth = softirq >> 1;
  const softirqText =
    softirq === 0
      ? 'not serving a softirq, bottom halves enabled'
      : `${serving ? 'serving a softirq (SOFTIRQ_OFFSET, 0x100)' : 'not serving a softirq'}${disableDepth ? `, bottom halves disabled ${disableDepth} time(s) (local_bh_disable adds 0x200)` : ''}`;
  if (rt) {
    fields.push({
      name: 'SOFTIRQ',
      bits: '8-15',
      value: pcSoftirq,
      meaning: pcSoftirq ? 'non-zero, yet PREEMPT_RT keeps softirq state in the task: the value may be corrupted or the kernel is not RT' : 'unused on PREEMPT_RT (softirq state is in task_struct.softirq_disable_cnt)',
    });
    fields.push({
      name: 'task softirq_disable_cnt',
      bits: 'task',
      value: rtCnt ?? 0,
      meaning: rtCnt === null ? 'not read: softirq state unknown (give --softirq-disable-cnt, or analyze the dump)' : `0x${rtCnt.toString(16)}: ${softirqText}${rtCnt & ~SOFTIRQ_MASK ? `; bits outside 0xff00 set (0x${(rtCnt & ~SOFTIRQ_MASK).toString(16)})` : ''}`,
    });
  } else {
    fields.push({ name: 'SOFTIRQ', bits: '8-15', value: softirq, meaning: softirqText.replace(' (SOFTIRQ_OFFSET, 0x100)', ' (bit 8)').replace('adds 0x200', 'adds 2') });
  }
  fields.push({
    name: 'PREEMPT',
    bits: '0-7',
    value: preemptDepth,
    meaning: preemptDepth
      ? `preemption disabled, depth ${preemptDepth} (${rt ? 'preempt_disable, raw_spin_lock, get_cpu; on PREEMPT_RT spin_lock/read_lock/local_lock do not count: they are sleeping locks' : 'preempt_disable, spin locks, ...'})`
      : 'preemption not disabled by preempt_disable()',
  });

  const inNmi = nmi !== 0;
  const inHardirq = hardirq !== 0;
  const inServingSoftirq = serving !== 0;
  const softirqDisabled = softirq !== 0;
  if (rt) {
    notes.push(`PREEMPT_RT (${rt.detectedBy}): softirq_count(), in_serving_softirq() and in_interrupt() read the task's softirq_disable_cnt${rt.source ? ` (${rt.source})` : ''}; in_atomic() is preempt_count() != 0 alone`);
    if (rtCnt === null) notes.push('the softirq predicates assume softirq_disable_cnt = 0 because it was not read');
    if (pcSoftirq) notes.push(`preempt_count bits 8-15 are 0x${pcSoftirq.toString(16)} on a PREEMPT_RT kernel, where softirq accounting never touches them`);
  }
  const inInterrupt = inNmi || inHardirq || softirqDisabled;
  const inTask = !(inNmi || inHardirq || inServingSoftirq);
  const inAtomic = count !== 0n;
  const preemptible = count === 0n;
  if (unused) notes.push(`bits ${bitsLabel(topUsed + 1, unusedHi)} are non-zero (${unused}): a counter overflowed or the value is not a preempt_count`);
  if (inNmi && !inHardirq) notes.push('NMI set without HARDIRQ: nmi_enter() always adds both; the value may be corrupted');
  if (preemptible) notes.push(arch === 'arm64' ? 'preemptible() also needs IRQs enabled, which the count does not record (check irqs_disabled(); in a "pstate:" line a capital I in DAIF means IRQs masked)' : 'preemptible() also needs IRQs enabled, which the count does not record (check EFLAGS.IF / irqs_disabled())');
  if (arch === 'arm64') notes.push(...arm64KprobeNotes(kernel));

  const forbidsX86 = rt ? forbiddenInRt({ inNmi, inHardirq, inServingSoftirq, softirqDisabled, inAtomic }) : forbiddenIn({ inNmi, inHardirq, inServingSoftirq, softirqDisabled, inAtomic, preemptDepth });
  const forbids = arch === 'arm64' ? forbidsX86.map((f) => ARM64_FORBIDS[f] ?? f) : forbidsX86;
  const parts: string[] = [];
  if (inNmi) parts.push(`NMI (nesting ${nmi})`);
  if (inHardirq) parts.push(`hardirq ${hardirq}`);
  if (inServingSoftirq) parts.push('serving softirq');
  if (disableDepth) parts.push(`BH disabled x${disableDepth}`);
  parts.push(`preempt depth ${preemptDepth}`);
  if (rt) parts.push(rtCnt === null ? 'PREEMPT_RT (task softirq count not read)' : 'PREEMPT_RT');
  parts.push(needResched ? 'RESCHED PENDING' : 'no resched pending');

  return {
    value: '0x' + raw.toString(16).padStart(hexWidth, '0'),
    preemptRt: rt ? { detectedBy: rt.detectedBy, softirqDisableCnt: rtCnt === null ? null : '0x' + rtCnt.toString(16), source: rt.source ?? null } : null,
    arch,
    kernel: kernelRelease,
    layout: layout.description,
    fields,
    preemptDepth,
    softirq,
    hardirq,
    nmi,
    needResched,
    preemptCount: '0x' + count.toString(16).padStart(8, '0'),
    softirqCount: '0x' + (BigInt(softirq) << 8n).toString(16).padStart(8, '0'),
    predicates: { inNmi, inHardirq, inServingSoftirq, softirqDisabled, inInterrupt, inTask, inAtomic, preemptible },
    summary: parts.join(', '),
    forbids,
    notes,
  };
}

// arm64 has no kernel_fpu_begin()/irq_fpu_usable(): kernel-mode SIMD is kernel_neon_begin(), which
// does BUG_ON(!may_use_simd()) (arch/arm64/kernel/fpsimd.c), and may_use_simd() is false in hardirq
// and NMI (arch/arm64/include/asm/simd.h, 6.1 and 7.x). Its BLAKE2s is generic C (no
// CRYPTO_ARCH_HAVE_LIB_BLAKE2S on arm64), so the CRNG never reaches NEON. docs/arm64-kprobe-context.md.
const ARM64_NEON_BUG = 'kernel_neon_begin(): may_use_simd() is false here and kernel_neon_begin() does BUG_ON(!may_use_simd()) (an Oops, not a WARN); check may_use_simd() and take a scalar path';
const ARM64_FORBIDS: Record<string, string> = {
  'any allocation, GFP_ATOMIC included: kmalloc(), kmem_cache_alloc(), alloc_pages(), vmalloc() take locks that the interrupted code may hold; allocating a new slab can reach get_random_u32() -> CRNG reseed -> BLAKE2s -> kernel_fpu_begin()':
    'any allocation, GFP_ATOMIC included: kmalloc(), kmem_cache_alloc(), alloc_pages(), vmalloc() take locks that the interrupted code may hold (a new slab\'s get_random_u32() -> CRNG reseed runs generic C BLAKE2s on arm64: no NEON, the locks are the danger)',
  'kernel_fpu_begin(): irq_fpu_usable() returns false and WARN_ON_ONCE(in_nmi()) fires (5.18+ and backports such as RHEL 9); with panic_on_warn the machine panics': ARM64_NEON_BUG,
  'get_random_*(): may reseed the CRNG inline (kernels before 6.2) and use the FPU': 'get_random_*(): takes the CRNG locks and may reseed inline (kernels before 6.2; generic C BLAKE2s on arm64, no NEON)',
  'kernel_fpu_begin() only when no softirq is being served or disabled on this CPU (irq_fpu_usable() returns !softirq_count())': ARM64_NEON_BUG,
  'kernel_fpu_begin(): irq_fpu_usable() returns false and WARN_ON_ONCE(in_nmi()) fires': ARM64_NEON_BUG,
  "kernel_fpu_begin() when the interrupted task had bottom halves disabled (irq_fpu_usable() returns !softirq_count(), the task's softirq_disable_cnt on RT)": ARM64_NEON_BUG,
};

/**
 * What an arm64 count means for kprobe handlers (docs/arm64-kprobe-context.md): a kprobe is a BRK
 * exception, entered through arm64_enter_el1_dbg() (ct_nmi_enter() for RCU, no __nmi_enter()),
 * with DAIF masked and preemption disabled by debug_exception_enter().
 */
function arm64KprobeNotes(kernel: KernelVersion | null): string[] {
  const out = [
    'arm64 kprobes are BRK exceptions: a value read inside a kprobe handler gets no NMI or HARDIRQ bits from the kprobe (arm64_enter_el1_dbg() tells RCU with ct_nmi_enter() but does not call __nmi_enter()), it shows the context the BRK interrupted; NMI bits come from pseudo-NMI, SDEI or SError handlers. The handler runs with IRQs masked (DAIF), which the count does not record.',
    "debug_exception_enter() disables preemption around every BRK handler, as spin_lock() does, but the PREEMPT byte counts either only with CONFIG_PREEMPT_COUNT: Debian 12's arm64 6.1 (PREEMPT_VOLUNTARY) has none, so there a depth of 0 does not mean preemptible or outside a kprobe handler.",
  ];
  if (kernel && versionAtLeast(kernel, 6, 19)) out.push('kernel-mode NEON on 6.19+: may_use_simd() is !in_hardirq() && !in_nmi() ("arm64/fpsimd: Permit kernel mode NEON with IRQs off"), so a kprobe handler may call kernel_neon_begin() when the BRK did not hit hard IRQ or NMI code, unless the probe sat inside another kernel-mode NEON section (then BUG).');
  else out.push(`kernel-mode NEON${kernel ? '' : ' before 6.19'}: may_use_simd() also requires IRQs enabled, so kernel_neon_begin() in any kprobe (BRK) handler hits BUG_ON(!may_use_simd()), whatever this count says${kernel ? '' : ' (6.19+ dropped the IRQ test)'}.`);
  return out;
}

function forbiddenIn(c: { inNmi: boolean; inHardirq: boolean; inServingSoftirq: boolean; softirqDisabled: boolean; inAtomic: boolean; preemptDepth: number }): string[] {
  const out: string[] = [];
  if (c.inAtomic) {
    out.push('sleeping: mutex_lock(), down(), msleep(), schedule(), wait_for_completion() ("BUG: scheduling while atomic" / "sleeping function called from invalid context")');
    out.push('GFP_KERNEL allocations (they may sleep in reclaim); only GFP_ATOMIC/GFP_NOWAIT outside NMI');
    out.push('copy_from_user()/copy_to_user() on pageable memory (a fault would sleep)');
  }
  if (c.inNmi) {
    out.push('any allocation, GFP_ATOMIC included: kmalloc(), kmem_cache_alloc(), alloc_pages(), vmalloc() take locks that the interrupted code may hold; allocating a new slab can reach get_random_u32() -> CRNG reseed -> BLAKE2s -> kernel_fpu_begin()');
    out.push('kfree()/kmem_cache_free()/vfree(): the same allocator locks');
    out.push('kernel_fpu_begin(): irq_fpu_usable() returns false and WARN_ON_ONCE(in_nmi()) fires (5.18+ and backports such as RHEL 9); with panic_on_warn the machine panics');
    out.push('spin_lock() on any lock also taken outside NMI (deadlock if the interrupted code holds it); only NMI-safe primitives: per-CPU data, llist, irq_work_queue(), atomic ops');
    out.push('printk() writes go to a per-CPU buffer and are flushed later (printk_safe/nbcon); on kernels before 5.x printk in NMI could deadlock on logbuf_lock');
    out.push('get_random_*(): may reseed the CRNG inline (kernels before 6.2) and use the FPU');
  } else if (c.inHardirq) {
    out.push('kernel_fpu_begin() only when no softirq is being served or disabled on this CPU (irq_fpu_usable() returns !softirq_count())');
    out.push('spin_lock() without _irqsave on locks also taken with IRQs enabled elsewhere');
  } else if (c.inServingSoftirq || c.softirqDisabled) {
    out.push('spin_lock() without _bh on locks shared with process context that runs with BH enabled');
  }
  if (!c.inAtomic) out.push('nothing, as far as the count can tell: sleeping and GFP_KERNEL are allowed if IRQs are enabled');
  return out;
}

// PREEMPT_RT: spinlock_t, rwlock_t and local_lock_t sleep (rt_mutex based), softirqs run in task
// context (ksoftirqd or local_bh_enable()), threaded interrupt handlers are tasks. Only code that
// really runs with preemption or interrupts off (raw_spinlock_t sections, hard IRQ entry, NMI,
// preempt_disable()) is atomic.
function forbiddenInRt(c: { inNmi: boolean; inHardirq: boolean; inServingSoftirq: boolean; softirqDisabled: boolean; inAtomic: boolean }): string[] {
  const out: string[] = [];
  if (c.inAtomic) {
    out.push('sleeping, and on PREEMPT_RT that includes spin_lock()/read_lock()/write_lock()/local_lock() on spinlock_t, rwlock_t and local_lock_t (sleeping locks): "BUG: sleeping function called from invalid context"; only raw_spin_lock() and atomics');
    out.push('any memory allocation or free, GFP_ATOMIC included: on PREEMPT_RT the page and slab allocators take spinlock_t, so they may not be called with preemption or interrupts disabled');
    out.push('copy_from_user()/copy_to_user() on pageable memory (a fault would sleep)');
  }
  if (c.inNmi) {
    out.push('kernel_fpu_begin(): irq_fpu_usable() returns false and WARN_ON_ONCE(in_nmi()) fires');
    out.push('any lock that is not NMI-safe, raw_spinlock_t included (deadlock if the interrupted code holds it); only per-CPU data, llist, irq_work_queue(), atomic ops');
    out.push('printk() is deferred (per-CPU buffer / nbcon); get_random_*() and the allocators are out');
  } else if (c.inHardirq) {
    out.push('spinlock_t/rwlock_t in a hard interrupt handler (non-threaded: IRQF_NO_THREAD, hrtimer HARD mode): on PREEMPT_RT they sleep; use raw_spinlock_t');
    out.push('kernel_fpu_begin() when the interrupted task had bottom halves disabled (irq_fpu_usable() returns !softirq_count(), the task\'s softirq_disable_cnt on RT)');
  }
  if (!c.inNmi && !c.inHardirq && (c.inServingSoftirq || c.softirqDisabled)) {
    out.push('waiting for softirq work on this CPU (tasklet_kill(), a timer or NAPI poll it must let run): this task holds the per-CPU softirq_ctrl lock that serialises BH sections on PREEMPT_RT, so that work cannot run until it ends');
    out.push('relying on BH-disabled code being non-preemptible or per-CPU exclusive against other tasks: on PREEMPT_RT it is preemptible (it is only serialised against other BH sections on this CPU)');
  }
  if (!c.inAtomic) {
    out.push(
      c.inServingSoftirq || c.softirqDisabled
        ? 'sleeping locks (spinlock_t, mutex) are allowed here on PREEMPT_RT: the softirq/BH section runs in preemptible task context'
        : 'nothing, as far as the count can tell: sleeping and GFP_KERNEL are allowed if IRQs are enabled (spinlock_t sections are preemptible on PREEMPT_RT)',
    );
  }
  return out;
}

// Decoding a preempt_count value into its fields, the predicates the kernel derives from it, and
// what the context forbids. The layout depends on architecture and kernel version; sources:
//
// - 5.8+: NMI_BITS = 4 (bits 20-23) so nmi_enter() can nest: "hardirq/nmi: Allow nested
//   nmi_enter()" (Peter Zijlstra, tip core/rcu 69ea03b56ed2, 2020-05-19, merged for 5.8).
// - 3.14-5.7: NMI is one bit (bit 20), HARDIRQ bits 16-19; PREEMPT_ACTIVE sat in bit 21 until the
//   2015 sched/core series removed it (present in 4.1, gone in 4.4; see kernel-facts.md).
// - before 3.14: HARDIRQ had up to 10 bits (16-25), NMI bit 26, PREEMPT_ACTIVE above it
//   (linux-3.10 include/linux/hardirq.h).
// - x86 since 3.13 folds PREEMPT_NEED_RESCHED into bit 31, inverted (set = no reschedule
//   pending): f27dde8deef3 "sched: Add NEED_RESCHED to the preempt_count" and
//   arch/x86/include/asm/preempt.h. preempt_count() masks it off.
// - arm64 since 396244692232 "arm64: preempt: Provide our own implementation of asm/preempt.h"
//   (4.20/5.0): a 64-bit word, low 32 bits the count, high 32 bits `need_resched`, which is 0
//   when a reschedule is needed (inverted, like x86).

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

export function layoutFor(kernel: KernelVersion | null): PreemptLayout {
  if (!kernel || versionAtLeast(kernel, 5, 8)) return LAYOUTS.nmi4;
  if (versionAtLeast(kernel, 4, 2)) return LAYOUTS.nmi1;
  if (versionAtLeast(kernel, 3, 14)) return LAYOUTS['nmi1-preempt-active'];
  return LAYOUTS['legacy-hardirq10'];
}

export interface PreemptField { name: string; bits: string; value: number; meaning: string }

export interface PreemptDecode {
  value: string;
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
    throw new Error(`not a number: ${JSON.stringify(t.slice(0, 40))} (use hex 0x..., decimal or negative decimal)`);
  }
  const limit = 1n << width;
  if (v < -(limit >> 1n) || v >= limit) throw new Error(`value out of range for a ${width}-bit preempt_count on ${arch}`);
  return v < 0n ? v + limit : v;
}

export function decodePreemptCount(raw: bigint, arch: Arch = 'x86_64', kernelRelease: string | null = null): PreemptDecode {
  const kernel = kernelRelease ? parseKernelRelease(kernelRelease) : null;
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
  const softirq = bitsOf(count, 8, 15);
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
    meaning: nmi ? `in_nmi() true: ${nmi} NMI level(s) (nmi_enter(); on x86 also every kernel-mode int3, i.e. int3-based kprobe handlers)` : 'not in NMI',
  });
  fields.push({
    name: 'HARDIRQ',
    bits: bitsLabel(hLo, hHi),
    value: hardirq,
    meaning: hardirq ? `in_hardirq() true: ${hardirq} level(s)${nmi ? ' (nmi_enter() adds one together with NMI)' : ''}` : 'not in hard interrupt',
  });
  const serving = softirq & 1;
  const disableDepth = softirq >> 1;
  fields.push({
    name: 'SOFTIRQ',
    bits: '8-15',
    value: softirq,
    meaning:
      softirq === 0
        ? 'not serving a softirq, bottom halves enabled'
        : `${serving ? 'serving a softirq (bit 8)' : 'not serving a softirq'}${disableDepth ? `, bottom halves disabled ${disableDepth} time(s) (local_bh_disable adds 2)` : ''}`,
  });
  fields.push({
    name: 'PREEMPT',
    bits: '0-7',
    value: preemptDepth,
    meaning: preemptDepth ? `preemption disabled, depth ${preemptDepth} (preempt_disable, spin locks, ...)` : 'preemption not disabled by preempt_disable()',
  });

  const inNmi = nmi !== 0;
  const inHardirq = hardirq !== 0;
  const inServingSoftirq = serving !== 0;
  const softirqDisabled = softirq !== 0;
  const inInterrupt = inNmi || inHardirq || softirqDisabled;
  const inTask = !(inNmi || inHardirq || inServingSoftirq);
  const inAtomic = count !== 0n;
  const preemptible = count === 0n;
  if (unused) notes.push(`bits ${bitsLabel(topUsed + 1, unusedHi)} are non-zero (${unused}): a counter overflowed or the value is not a preempt_count`);
  if (inNmi && !inHardirq) notes.push('NMI set without HARDIRQ: nmi_enter() always adds both; the value may be corrupted');
  if (preemptible) notes.push('preemptible() also needs IRQs enabled, which the count does not record (check EFLAGS.IF / irqs_disabled())');

  const forbids = forbiddenIn({ inNmi, inHardirq, inServingSoftirq, softirqDisabled, inAtomic, preemptDepth });
  const parts: string[] = [];
  if (inNmi) parts.push(`NMI (nesting ${nmi})`);
  if (inHardirq) parts.push(`hardirq ${hardirq}`);
  if (inServingSoftirq) parts.push('serving softirq');
  if (disableDepth) parts.push(`BH disabled x${disableDepth}`);
  parts.push(`preempt depth ${preemptDepth}`);
  parts.push(needResched ? 'RESCHED PENDING' : 'no resched pending');

  return {
    value: '0x' + raw.toString(16).padStart(hexWidth, '0'),
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

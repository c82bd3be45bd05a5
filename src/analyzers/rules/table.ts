// The hazard table. Each entry is self-contained: what to look for, which kernels it concerns,
// why it happens and how to fix it. Order matters only for display (specific before general).
import type { FrameGroup, HazardRule, RuleArch } from './rule-types.js';

const INT3_KPROBE: FrameGroup = {
  label: 'int3 kprobe dispatch (NMI context)',
  any: ['kprobe_post_process', 'kprobe_int3_handler', 'aggr_post_handler', 'aggr_pre_handler', 'exc_int3', 'do_int3', 'asm_exc_int3', 'kprobe_handler', 'kprobe_breakpoint_handler', 'kprobe_ss_hit'],
};
const NMI_ENTRY: FrameGroup = {
  label: 'NMI entry',
  any: ['exc_int3', 'do_int3', 'asm_exc_int3', 'kprobe_int3_handler', 'nmi_handle', 'default_do_nmi', 'exc_nmi', 'asm_exc_nmi', 'do_nmi', 'perf_event_nmi_handler', 'perf_ibs_nmi_handler', 'ghes_notify_nmi', 'arch_trigger_cpumask_backtrace', 'nmi_cpu_backtrace_handler'],
};
const ALLOC: FrameGroup = {
  label: 'slab/page allocation',
  any: ['kmem_cache_alloc*', 'kmalloc*', '__kmalloc*', 'kmalloc_trace', '___slab_alloc', '__slab_alloc*', 'allocate_slab', 'new_slab', 'slab_alloc_node', '__alloc_pages*', 'alloc_pages*', 'kzalloc*', 'kvmalloc*', 'krealloc*'],
};
const RNG: FrameGroup = {
  label: 'RNG / CRNG reseed',
  any: ['get_random_u32', 'get_random_u64', 'get_random_int', 'get_random_long', 'get_random_bytes', '_get_random_bytes*', 'get_random_u32_below', 'crng_make_state', 'crng_reseed*', 'extract_entropy*', 'shuffle_freelist', 'prandom_u32_max', 'get_random_u16', 'get_random_u8'],
};
const FPU: FrameGroup = {
  label: 'kernel FPU / BLAKE2s SIMD',
  any: ['irq_fpu_usable', 'kernel_fpu_begin*', 'blake2s_compress*', 'blake2s_final', 'blake2s_update', 'blake2s_compress_ssse3', 'blake2s_compress_avx512', 'may_use_simd', 'crypto_simd_usable'],
};
const SLEEPING: FrameGroup = {
  label: 'sleeping call',
  any: ['__might_sleep', '__might_resched', 'might_sleep', '___might_sleep', 'mutex_lock*', '__mutex_lock*', 'down', 'down_read*', 'down_write*', 'down_interruptible', 'msleep*', 'schedule', '__schedule', 'schedule_timeout*', 'wait_for_completion*', 'synchronize_rcu', '__schedule_bug', 'flush_work', 'usleep_range*', '_copy_from_user', 'copy_from_user', '__get_user_pages*'],
};
const VMALLOC: FrameGroup = {
  label: 'vmalloc/vfree',
  any: ['vmalloc*', '__vmalloc*', 'vzalloc*', 'vfree', '__vfree', '__vunmap', 'vunmap', 'remove_vm_area', 'kvfree', '__vmalloc_node_range', 'vm_unmap_aliases'],
};
const SLAB_FREE: FrameGroup = {
  label: 'slab free',
  any: ['kfree', 'kmem_cache_free', '__slab_free', 'slab_free*', 'do_slab_free', 'kfree_rcu*', 'free_pages', '__free_pages'],
};

// arm64: every kprobe is a BRK instruction (arm64 has no KPROBES_ON_FTRACE). The frames of its
// dispatch, per version (docs/arm64-kprobe-context.md): 6.1 el1h_64_sync -> el1h_64_sync_handler ->
// el1_dbg -> do_debug_exception -> brk_handler -> call_break_hook -> kprobe_breakpoint_handler ->
// kprobe_handler (post handler: kprobe_breakpoint_ss_handler -> post_kprobe_handler); 5.10 and
// older el1_sync -> el1_sync_handler -> el1_dbg; 6.17+ el1h_64_sync_handler -> el1_brk64 ->
// do_el1_brk64 -> call_el1_break_hook -> kprobe_brk_handler / kprobe_ss_brk_handler /
// kretprobe_brk_handler. The vectors (el1h_64_sync, el1_sync) are left out: every arm64 fault and
// BUG() passes them.
const BRK_KPROBE: FrameGroup = {
  label: 'arm64 BRK kprobe dispatch (IRQs masked, not NMI)',
  any: ['kprobe_breakpoint_handler', 'kprobe_breakpoint_ss_handler', 'kprobe_brk_handler', 'kprobe_ss_brk_handler', 'kretprobe_brk_handler', 'kprobe_handler', 'post_kprobe_handler', 'aggr_pre_handler', 'aggr_post_handler', 'call_break_hook', 'call_el1_break_hook', 'brk_handler', 'do_el1_brk64', 'do_debug_exception', 'el1_dbg', 'el1_brk64'],
};
const NEON: FrameGroup = {
  label: 'kernel-mode NEON (arm64)',
  any: ['kernel_neon_begin', 'kernel_neon_end', 'get_cpu_fpsimd_context', '__get_cpu_fpsimd_context'],
};

const X86: RuleArch[] = ['x86_64', 'i686', 'x86'];
const ARM64: RuleArch[] = ['arm64'];
const ARM64_BRK_CONTEXT = [
  'On arm64 every kprobe is a BRK instruction (arm64 has no KPROBES_ON_FTRACE). The handler runs inside the BRK exception: el1h_64_sync -> el1h_64_sync_handler -> el1_dbg -> do_debug_exception -> brk_handler -> call_break_hook -> kprobe_breakpoint_handler on 6.1; el1_brk64 -> do_el1_brk64 -> kprobe_brk_handler since 6.17.',
  'Taking the exception masks PSTATE.DAIF and el1_dbg()/el1_brk64() never unmask it, so IRQs are off in the handler; debug_exception_enter() adds preempt_disable(), which preempt_count shows only with CONFIG_PREEMPT_COUNT (Debian 12\'s arm64 6.1 has none: a count read there holds no trace of it).',
  'arm64_enter_el1_dbg() calls lockdep_hardirqs_off() and ct_nmi_enter() (RCU treats the exception like an NMI entry and is watching) but not __nmi_enter(): in_nmi() and in_hardirq() stay false, and lockdep sees an ordinary IRQs-off context, not IN-NMI. This is the difference from x86, where int3 runs under irqentry_nmi_enter().',
];
const KERNELS_INT3_NMI = '5.8+ (x86: kernel-mode int3 runs under nmi_enter since 0d00449c7a28, v5.8)';

export const HAZARD_RULES: HazardRule[] = [
  {
    id: 'kprobe-int3-nmi-slab-fpu',
    title: 'Slab allocation in an int3 kprobe handler reached kernel_fpu_begin() through the CRNG (NMI context)',
    kernels: {
      text: 'x86_64 5.8-6.1 and distribution kernels with on-demand CRNG reseed (RHEL 9, Debian 12 6.1); the irq_fpu_usable() WARN needs 5.18+ or its backports. 6.2+ reseeds from a workqueue, so the FPU path is gone, but allocating in NMI context stays wrong.',
      min: [5, 8],
    },
    arch: X86,
    match: {
      framesInOrder: [FPU, RNG, ALLOC, INT3_KPROBE],
      context: 'int3-kprobe',
    },
    explanation: [
      'A kprobe placed inside a function (not at its ftrace entry) is armed with an int3 instruction.',
      'On x86 a kernel-mode int3 is handled by exc_int3(), which calls irqentry_nmi_enter(): preempt_count gains NMI_OFFSET + HARDIRQ_OFFSET, so in_nmi() is true inside every int3 kprobe handler.',
      'The handler allocates from a slab cache. When the cache has no free object, the allocator builds a new slab; with CONFIG_SLAB_FREELIST_RANDOM, shuffle_freelist() asks get_random_u32() for a random start.',
      "When the per-CPU random batch is used up and the CRNG seed is old, crng_make_state() reseeds inline (kernels before 6.2): extract_entropy() -> BLAKE2s, whose x86 SIMD code calls kernel_fpu_begin() if crypto_simd_usable() -> irq_fpu_usable().",
      'irq_fpu_usable() starts with WARN_ON_ONCE(in_nmi()). The WARN fires; with panic_on_warn=1 the machine panics. It is rare because all four conditions must line up (new slab, empty batch, old seed, int3 probe).',
    ],
    fix: [
      'Do not allocate (or take any lock shared with normal context) in the kprobe handler: record the event into preallocated per-CPU storage and do the allocation later in process context (irq_work -> workqueue). kmod-reference/ mode `deferred` shows it.',
      "The incident's workaround (kmod-reference/ mode `seed-fix`): call cache_random_seq_destroy() on the module's private cache after creating it so shuffle_freelist() never needs randomness. It removes only the RNG path of that one cache; the allocation still runs in NMI context.",
      'Or hook the function without int3: a kprobe at the function entry on a kernel with CONFIG_KPROBES_ON_FTRACE, an fprobe or an ftrace_ops callback runs in the caller context, not in NMI.',
    ],
    references: [
      'arch/x86/kernel/traps.c exc_int3() -> irqentry_nmi_enter()',
      'arch/x86/kernel/fpu/core.c irq_fpu_usable(): WARN_ON_ONCE(in_nmi())',
      'drivers/char/random.c crng_make_state() (on-demand reseed until "random: reseed in delayed work rather than on-demand", v6.2)',
      'mm/slub.c shuffle_freelist()',
      'kmod-reference/README.md',
    ],
  },
  {
    id: 'fpu-in-nmi-warn',
    title: 'kernel_fpu_begin()/irq_fpu_usable() reached from NMI or with the FPU already in use',
    kernels: { text: 'x86_64 5.18+ (WARN_ON_ONCE(in_nmi()) in irq_fpu_usable) and backports (RHEL 9, 5.15.y, 5.10.y)', min: [5, 10] },
    arch: X86,
    match: {
      kinds: ['WARNING'],
      framesAnywhere: [{ label: 'FPU check', any: ['irq_fpu_usable', 'kernel_fpu_begin*'] }],
    },
    supersededBy: ['kprobe-int3-nmi-slab-fpu'],
    explanation: [
      'irq_fpu_usable() refuses the FPU in NMI context and warns once; kernel_fpu_begin() warns when called where irq_fpu_usable() is false (nested use, or in hardirq while a softirq is served).',
      'Common paths: crypto or RNG (BLAKE2s, ChaCha) from an NMI or int3 handler, perf/BPF programs calling into crypto, a driver using SIMD from a hard IRQ.',
    ],
    fix: [
      'Find the caller below the FPU frames and move that work out of NMI/hardirq context (irq_work or a workqueue).',
      'Crypto users: check crypto_simd_usable()/may_use_simd() and fall back to the generic code instead of calling kernel_fpu_begin() unconditionally.',
    ],
    references: ['arch/x86/kernel/fpu/core.c irq_fpu_usable(), kernel_fpu_begin_mask()'],
  },
  {
    id: 'kprobe-handler-unsafe-call',
    title: 'Allocation, sleeping call or lock from an int3 kprobe handler (NMI context)',
    kernels: { text: KERNELS_INT3_NMI, min: [5, 8] },
    arch: X86,
    match: {
      framesInOrder: [{ label: 'unsafe call', any: [...ALLOC.any, ...SLEEPING.any, ...VMALLOC.any, ...SLAB_FREE.any, '_raw_spin_lock*', 'queued_spin_lock_slowpath', 'native_queued_spin_lock_slowpath', '_printk', 'vprintk*'] }, INT3_KPROBE],
      context: 'int3-kprobe',
    },
    supersededBy: ['kprobe-int3-nmi-slab-fpu'],
    explanation: [
      'Handlers of int3-based kprobes run with in_nmi() true (exc_int3 -> irqentry_nmi_enter) and with IRQs off.',
      'From NMI context nothing that may sleep, allocate, free or take a lock shared with normal context is allowed: the interrupted code may hold the same lock (deadlock), allocator state is not NMI-safe, and sleeping is impossible.',
    ],
    fix: [
      'Keep the handler to NMI-safe work: per-CPU counters, preallocated per-CPU rings, atomic ops, irq_work_queue(). Do the rest in process context (kmod-reference/ mode `deferred`).',
      'Or probe at the function entry (ftrace-based kprobe with CONFIG_KPROBES_ON_FTRACE), use an fprobe/ftrace_ops, or a tracepoint: these run in the caller context.',
    ],
    references: ['Documentation/trace/kprobes.rst ("Kprobes ... handlers run with preemption disabled ... and in NMI context on x86 int3")', 'arch/x86/kernel/traps.c exc_int3()'],
  },
  {
    id: 'arm64-kprobe-brk-neon',
    title: 'kernel_neon_begin() in an arm64 BRK kprobe handler: BUG_ON(!may_use_simd()), IRQs are masked there',
    kernels: {
      text: 'arm64 up to 6.18: may_use_simd() is false whenever IRQs are masked. 6.19+ ("arm64/fpsimd: Permit kernel mode NEON with IRQs off", 7137a203b251) no longer tests irqs_disabled(): there kernel_neon_begin() BUGs in a BRK handler only when the probe hit inside another kernel-mode NEON section.',
      max: [6, 18],
    },
    arch: ARM64,
    match: {
      framesInOrder: [NEON, BRK_KPROBE],
      context: 'brk-kprobe',
    },
    explanation: [
      ...ARM64_BRK_CONTEXT,
      'arm64 may_use_simd() (6.1) is !in_hardirq() && !irqs_disabled() && !in_nmi() && !fpsimd_context_busy: with IRQs masked it is false in every BRK handler, although in_nmi() is not set.',
      'kernel_neon_begin() starts with BUG_ON(!may_use_simd()): "kernel BUG at arch/arm64/kernel/fpsimd.c", an Oops (not a WARN, so panic_on_warn plays no part); the task dies, and the machine panics with panic_on_oops or when the BRK hit in interrupt context.',
      'Library crypto does not get here: crypto_simd_usable() tests may_use_simd() and falls back to generic C. Only code that calls kernel_neon_begin() without checking, the handler itself or something it calls, hits the BUG.',
    ],
    fix: [
      'Do not use NEON in the handler: copy what it needs into preallocated per-CPU storage and process it in task context (irq_work -> workqueue), or use the crypto library API, which checks crypto_simd_usable() and takes the scalar path.',
      'Code that must use SIMD itself: test may_use_simd() first and take a scalar path when it is false.',
    ],
    references: [
      'arch/arm64/include/asm/simd.h may_use_simd() (6.1: tests irqs_disabled(); 6.19+: only in_hardirq() and in_nmi())',
      'arch/arm64/kernel/fpsimd.c kernel_neon_begin(): BUG_ON(!may_use_simd())',
      'arch/arm64/kernel/entry-common.c el1_dbg() (6.1), el1_brk64() (6.17+), arm64_enter_el1_dbg()',
      'kmod-reference/README.md, section "arm64" (may_use_simd=0 measured in a BRK handler on the Debian 12 6.1.192 arm64 kernel)',
      'docs/arm64-kprobe-context.md',
    ],
  },
  {
    id: 'arm64-kprobe-brk-alloc',
    title: 'Allocation in an arm64 BRK kprobe handler: IRQs masked but not NMI; no FPU/NEON WARN on this path, the danger is re-entering the allocator or the CRNG',
    kernels: { text: 'arm64, all kernels with kprobes. 6.1 (Debian 12) reseeds the CRNG inline from get_random_u32(); 6.2+ from a delayed work. BLAKE2s is generic C on arm64 in 6.1 and in 7.x.' },
    arch: ARM64,
    match: {
      framesInOrder: [ALLOC, BRK_KPROBE],
      context: 'brk-kprobe',
    },
    supersededBy: ['arm64-kprobe-brk-neon'],
    explanation: [
      ...ARM64_BRK_CONTEXT,
      'So the x86 chain of this table (kprobe-int3-nmi-slab-fpu) cannot happen: a new slab still calls shuffle_freelist() -> get_random_u32_below() -> get_random_u32(), and on 6.1 crng_make_state() may still reseed inline (crng_reseed() -> extract_entropy() -> BLAKE2s), but arm64 has no SIMD BLAKE2s (CRYPTO_ARCH_HAVE_LIB_BLAKE2S is selected only by arm and x86): the generic C code runs, no kernel_neon_begin(), no FPU WARN, with or without panic_on_warn.',
      'What can go wrong is re-entry: the BRK is synchronous, so the handler runs on top of exactly the probed code. If that code is the slab or page allocator, or holds a lock the allocation or the reseed takes (slab per-CPU and node locks, base_crng.lock, input_pool.lock), the handler re-enters it on the same CPU: deadlock (spinlock recursion with CONFIG_DEBUG_SPINLOCK) or freelist corruption.',
      'A GFP_KERNEL allocation may sleep in reclaim with IRQs masked, which is invalid; only CONFIG_DEBUG_ATOMIC_SLEEP reports it ("sleeping function called from invalid context").',
    ],
    fix: [
      'Keep the handler to preallocated per-CPU storage and do the allocation later in task context (irq_work -> workqueue); kmod-reference/ mode `deferred` shows it.',
      'Never use GFP_KERNEL in a kprobe handler; on 6.18+ kmalloc_nolock() is meant for contexts that may have interrupted the allocator.',
      'Keep probes out of the allocator and random.c paths the handler itself uses (the same function probed and called is also a kprobe recursion).',
    ],
    references: [
      'arch/arm64/kernel/entry-common.c arm64_enter_el1_dbg(): lockdep_hardirqs_off() + ct_nmi_enter(), no __nmi_enter()',
      'arch/arm64/mm/fault.c do_debug_exception(), debug_exception_enter() (6.1; in entry-common.c since 6.17)',
      'drivers/char/random.c crng_make_state() (inline crng_reseed() until 6.2)',
      'lib/crypto/Kconfig CRYPTO_ARCH_HAVE_LIB_BLAKE2S (6.1), CRYPTO_LIB_BLAKE2S_ARCH (7.x): arm and x86 only',
      'mm/slub.c shuffle_freelist()',
      'kmod-reference/README.md, section "arm64" (the Debian 12 6.1.192 arm64 kernel: in the BRK handler preempt_count=0x0 in_nmi=0 irqs_disabled=1 may_use_simd=0; buggy mode allocated and reseeded there without a WARN)',
      'docs/arm64-kprobe-context.md',
    ],
  },
  {
    id: 'arm64-kprobe-brk-unsafe-call',
    title: 'Sleeping call, lock or free from an arm64 BRK kprobe handler (IRQs masked)',
    kernels: { text: 'arm64, all kernels with kprobes' },
    arch: ARM64,
    match: {
      framesInOrder: [{ label: 'unsafe call', any: [...SLEEPING.any, ...VMALLOC.any, ...SLAB_FREE.any, '_raw_spin_lock*', 'queued_spin_lock_slowpath', 'do_raw_spin_lock'] }, BRK_KPROBE],
      context: 'brk-kprobe',
    },
    supersededBy: ['arm64-kprobe-brk-neon', 'arm64-kprobe-brk-alloc'],
    explanation: [
      ...ARM64_BRK_CONTEXT,
      'Sleeping (mutex_lock(), msleep(), copy_from_user() on pageable memory) is invalid with IRQs masked. A lock that the probed code may hold deadlocks: the BRK interrupts that code on the same CPU, and masking IRQs does not help. Freeing takes the same allocator locks.',
    ],
    fix: [
      'Keep the handler to per-CPU counters, preallocated per-CPU buffers, atomics and irq_work_queue(); do the rest in task context (kmod-reference/ mode `deferred`).',
      'Or hook the function without a BRK: an fprobe or ftrace_ops callback at function entry, or a tracepoint, runs in the caller context.',
    ],
    references: ['arch/arm64/kernel/entry-common.c el1_dbg() (6.1) / el1_brk64() (6.17+)', 'Documentation/trace/kprobes.rst', 'docs/arm64-kprobe-context.md'],
  },
  {
    id: 'arm64-kprobe-reenter-bug',
    title: 'arm64 kprobe re-entered while single-stepping: BUG in reenter_kprobe() (a probe on code the BRK path runs)',
    kernels: { text: 'arm64, all kernels with kprobes' },
    arch: ARM64,
    match: {
      headline: [/Unrecoverable kprobe detected/i, /Failed to recover from reentered kprobes/i, /kernel BUG at arch\/arm64\/kernel\/probes\/kprobes\.c/i],
    },
    explanation: [
      'An arm64 kprobe BRK was hit while the CPU was already handling a kprobe in state KPROBE_HIT_SS or KPROBE_REENTER (the out-of-line copy of the probed instruction was being executed; arm64 ends that step with a second BRK, KPROBES_BRK_SS_IMM). reenter_kprobe() in arch/arm64/kernel/probes/kprobes.c prints "Failed to recover from reentered kprobes" (older kernels: "Unrecoverable kprobe detected") and calls BUG().',
      'Cause: a probe on something the BRK path itself runs, such as a function the handler calls, a helper of the stack unwinder (patches to make arch_stack_walk() and arch_kunwind_consume_entry() unprobeable followed such crashes), or a kprobe instruction slot (syzkaller, 5.10).',
    ],
    fix: ['Remove the probe from that function, and mark kernel helpers used from the BRK path NOKPROBE_SYMBOL()/noinstr.', 'Check /sys/kernel/debug/kprobes/blacklist; keep handlers minimal.'],
    references: ['arch/arm64/kernel/probes/kprobes.c reenter_kprobe(), setup_singlestep()', 'Documentation/trace/kprobes.rst (Blacklist)', 'docs/arm64-kprobe-context.md'],
  },
  {
    id: 'arm64-kprobe-brk-handler-crash',
    title: 'Crash inside an arm64 BRK kprobe handler (or what it calls)',
    kernels: { text: 'arm64, all kernels with kprobes' },
    arch: ARM64,
    match: {
      framesAnywhere: [BRK_KPROBE],
      context: 'brk-kprobe',
    },
    supersededBy: ['arm64-kprobe-brk-neon', 'arm64-kprobe-brk-alloc', 'arm64-kprobe-brk-unsafe-call', 'arm64-kprobe-reenter-bug'],
    explanation: [
      ...ARM64_BRK_CONTEXT,
      'The report was raised by code above the kprobe dispatch frame in the trace: a pre/post handler (a module, trace_kprobe\'s kprobe_dispatcher, BPF) or what it called, running on the stack of the code the BRK interrupted, in that context. The frames below the dispatch are the probed code; the frame right after el1h_64_sync is the probed instruction.',
    ],
    fix: [
      'Read the frames above the dispatch frame: that is the handler code to fix. Keep handlers to what this context allows: no sleeping, no locks the probed code may hold, no NEON on kernels before 6.19, and only memory the handler owns.',
    ],
    references: ['arch/arm64/kernel/probes/kprobes.c', 'arch/arm64/kernel/entry-common.c arm64_enter_el1_dbg()', 'docs/arm64-kprobe-context.md'],
  },
  {
    id: 'atomic-sleep-in-kprobe-or-nmi',
    title: 'Sleeping function or schedule() called from a kprobe or NMI handler',
    kernels: { text: 'all versions' },
    match: {
      headline: [/sleeping function called from invalid context/i, /scheduling while atomic/i, /Voluntary context switch within RCU read-side/i],
      framesAnywhere: [NMI_ENTRY],
    },
    explanation: [
      'might_sleep()/schedule() found preempt_count non-zero: the caller runs in atomic context.',
      'The trace shows an int3/kprobe or NMI entry frame: the handler called a function that may sleep (mutex_lock, GFP_KERNEL allocation, copy_from_user, msleep...).',
    ],
    fix: ['Move the sleeping work out of the handler (workqueue, or a kthread woken by irq_work).', 'Use GFP_NOWAIT/atomic-safe primitives only where the context allows them; in NMI allow none.'],
    references: ['kernel/sched/core.c __might_resched()', 'kernel/sched/core.c __schedule_bug()'],
  },
  {
    id: 'kprobe-recursion-or-unrecoverable',
    title: 'kprobe recursion or unrecoverable kprobe (probe on a function the kprobe machinery itself uses)',
    kernels: { text: 'all versions with kprobes' },
    match: {
      headline: [/Unrecoverable kprobe detected/i, /kprobe.*reentered/i, /kprobe.*recursion/i, /BUG: recursive fault.*kprobe/i, /Failed to recover from reentered kprobes/i],
    },
    supersededBy: ['arm64-kprobe-reenter-bug'],
    explanation: [
      'A kprobe handler hit another kprobe (or the same one) while the first was single-stepping: kprobes handle one level of re-entry (KPROBE_REENTER) and give up when the state is KPROBE_HIT_SS or already REENTER.',
      'Typical cause: probing a function that the handler or the kprobe path calls (printk, spinlocks, preempt_count helpers, functions missing NOKPROBE_SYMBOL), or a probe on a blacklisted function forced through.',
    ],
    fix: ['Do not probe functions in /sys/kernel/debug/kprobes/blacklist or functions your handler calls.', 'Keep handlers minimal; check kprobe_running() / the nmissed counter.'],
    references: ['arch/x86/kernel/kprobes/core.c reenter_kprobe()', 'Documentation/trace/kprobes.rst (Blacklist)'],
  },
  {
    id: 'vmalloc-vfree-atomic',
    title: 'vmalloc()/vfree() from atomic, IRQ or NMI context',
    kernels: { text: 'all versions; vfree() has BUG_ON(in_nmi()) and defers from IRQ since 4.10 (vfree_atomic)' },
    match: {
      framesAnywhere: [VMALLOC],
      headline: [/sleeping function called from invalid context/i, /scheduling while atomic/i, /kernel BUG at mm\/vmalloc\.c/i, /WARNING: .*mm\/vmalloc\.c/i, /WARNING in (__)?vfree/i, /BUG in (__)?vfree/i],
    },
    explanation: ['vmalloc() may sleep (page allocation with GFP_KERNEL, vmap_area locks); vfree() must not be called from NMI (BUG_ON(in_nmi())) and from IRQ it is deferred.'],
    fix: ['Preallocate vmalloc memory in process context; in atomic context use kmalloc(GFP_ATOMIC) for small buffers; free with vfree_atomic() or defer to a workqueue.'],
    references: ['mm/vmalloc.c vfree(), vfree_atomic(), __vmalloc_node_range()'],
  },
  {
    id: 'slab-free-from-nmi',
    title: 'kfree()/kmem_cache_free() from NMI or int3 kprobe context',
    kernels: { text: 'all versions (kfree_nolock() exists only since 6.18)' },
    match: {
      framesInOrder: [SLAB_FREE, NMI_ENTRY],
      context: 'nmi',
    },
    supersededBy: ['kprobe-handler-unsafe-call'],
    explanation: ['Freeing a slab object takes per-node/per-CPU slab locks with IRQs disabled, which does not protect against an NMI that interrupted the same lock holder.'],
    fix: ['Defer the free: push the object on an llist from the NMI handler and free it from irq_work or a workqueue; on 6.18+ kfree_nolock() exists for this.'],
    references: ['mm/slub.c slab_free()', 'include/linux/llist.h'],
  },
  {
    id: 'rcu-in-nmi-without-rcu-nmi-enter',
    title: 'RCU used from an NMI/idle path that RCU is not watching',
    kernels: { text: 'all versions; since 5.8 irqentry_nmi_enter() tells RCU, so this is mostly custom NMI entry code or noinstr violations' },
    match: {
      headline: [/suspicious RCU usage/i, /RCU used illegally from extended quiescent state/i, /RCU used illegally from idle CPU/i, /rcu_read_lock\(\) used illegally/i],
    },
    explanation: ['RCU read-side critical sections from an NMI need RCU to be watching (rcu_nmi_enter()/ct_nmi_enter()); code reached from an NMI before that point, or from the idle loop, uses RCU illegally.'],
    fix: ['Use nmi_enter()/irqentry_nmi_enter() (which informs RCU) or RCU_NONIDLE(); do not call instrumented code from noinstr entry paths.'],
    references: ['kernel/rcu/tree.c rcu_nmi_enter()/ct_nmi_enter()', 'include/linux/hardirq.h nmi_enter()'],
  },
  {
    id: 'lock-inconsistent-in-nmi',
    title: 'Lock taken in NMI context and in normal context (lockdep IN-NMI / inconsistent usage)',
    kernels: { text: 'lockdep kernels (CONFIG_PROVE_LOCKING), all versions' },
    match: {
      headline: [/inconsistent \{?.*IN-NMI.*\}? usage/i, /inconsistent lock state/i, /possible recursive locking detected/i, /possible circular locking dependency/i],
      framesAnywhere: [NMI_ENTRY],
    },
    explanation: ['A spinlock or local_lock is taken both from an NMI (or int3 kprobe) handler and from normal code. An NMI that arrives while the lock is held deadlocks on it: IRQ-disabling does not mask NMIs.'],
    fix: ['Make the NMI side lockless (per-CPU data, llist, atomic ops) or use a trylock and drop the event on contention; raw_spin_trylock() in NMI only if failure is acceptable.'],
    references: ['Documentation/locking/lockdep-design.rst', 'kernel/locking/lockdep.c'],
  },
  {
    id: 'printk-from-nmi',
    title: 'printk() from NMI context on a kernel where it can deadlock',
    kernels: { text: 'before 4.x printk_nmi (safe since "printk/nmi: generic solution for safe printk in NMI", 4.7); later kernels defer NMI printk', max: [4, 6] },
    match: {
      framesInOrder: [{ label: 'printk', any: ['printk', 'vprintk*', '_printk', 'console_unlock', 'call_console_drivers', 'serial8250_console_write'] }, NMI_ENTRY],
      context: 'nmi',
    },
    explanation: ['printk() from NMI context takes logbuf_lock/console locks that the interrupted code may hold.'],
    fix: ['Use trace_printk()/ftrace from NMI handlers, or a kernel with printk_nmi/printk_safe (4.7+).'],
    references: ['kernel/printk/printk_safe.c'],
  },
];

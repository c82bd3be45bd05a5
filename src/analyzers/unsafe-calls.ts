// Kernel functions that must not be called from the contexts probe handlers run in. Plain data,
// shared by the static module checker (analyzers/kmod) and the runtime hazard rules
// (analyzers/rules): an entry's `id` is the id of the runtime rule (rules/table.ts) that reports
// the same hazard from a crash, so `lint-kmod` and `analyze` name a problem the same way.
//
// Contexts:
//   nmi     in_nmi() is true: int3-based kprobe handlers on x86 (exc_int3 -> irqentry_nmi_enter,
//           v5.8+), NMI handlers, perf hardware-counter overflow handlers, hw-breakpoint callbacks
//           (#DB -> exc_debug_kernel -> irqentry_nmi_enter). IRQs off; the interrupted code may hold
//           any lock; nothing may sleep, allocate, free or take a lock shared with normal context.
//   atomic  the probed function's caller's context with preemption disabled: ftrace_ops callbacks,
//           fprobes, ftrace-based kprobes (KPROBES_ON_FTRACE, probe at the fentry site), kretprobe
//           return handlers. Not NMI (unless the traced function itself runs in NMI), so
//           GFP_ATOMIC allocation and spinlocks are allowed; sleeping is not.
// Function names are as a module's object code calls them: inline wrappers are listed with what
// they compile to (kzalloc/kmalloc -> kmalloc_trace/__kmalloc in 6.1, kmem_cache_alloc_trace
// before 6.1; spin_lock -> _raw_spin_lock; might_sleep -> __might_sleep/__might_resched;
// copy_from_user -> _copy_from_user; cond_resched -> the static call __SCT__cond_resched).
// Since 6.10 the allocators a module calls carry a suffix (CALLEE_SUFFIXES): the table lists each
// allocator once, under the name it had before.

export type Severity = 'error' | 'warning' | 'note' | 'none';
export type UnsafeCategory = 'allocation' | 'free' | 'sleeping' | 'fpu' | 'printk' | 'lock' | 'random';

export interface UnsafePattern {
  /** Exact function name, or a prefix when it ends with `*`. */
  pattern: string;
  /** Which argument (0 = %rdi, 1 = %rsi, 2 = %rdx...) carries the gfp_t flags, for allocators. */
  gfpArg?: number;
}

export interface UnsafeCall {
  /** Rule id, the same as the runtime hazard rule's (rules/table.ts). */
  id: string;
  category: UnsafeCategory;
  title: string;
  patterns: UnsafePattern[];
  /** Severity per context. For allocations in `atomic` context the gfp flags decide (see gfpVerdict). */
  severity: { nmi: Severity; atomic: Severity };
  /** Severity in NMI context on kernels older than `version` (e.g. printk before printk_nmi). */
  olderKernels?: { before: [number, number]; nmi: Severity };
  why: string;
  /** Why it is (or is not) a problem in atomic (ftrace, caller's) context. */
  whyAtomic: string;
  fix: string;
}

const NMI_WHY_SUFFIX = 'Handlers of int3 kprobes run in NMI context on x86 (exc_int3 -> irqentry_nmi_enter, 5.8+).';

export const UNSAFE_CALLS: readonly UnsafeCall[] = [
  {
    id: 'kprobe-int3-nmi-slab-fpu',
    category: 'allocation',
    title: 'slab allocation',
    patterns: [
      { pattern: 'kmem_cache_alloc_lru', gfpArg: 2 },
      { pattern: 'kmem_cache_alloc_node_trace', gfpArg: 1 },
      { pattern: 'kmem_cache_alloc_trace', gfpArg: 1 },
      { pattern: 'kmem_cache_alloc_node', gfpArg: 1 },
      { pattern: 'kmem_cache_alloc_bulk', gfpArg: 1 },
      { pattern: 'kmem_cache_alloc', gfpArg: 1 },
      { pattern: 'kmem_cache_zalloc', gfpArg: 1 },
      { pattern: 'kmem_cache_alloc_from_sheaf', gfpArg: 1 },
      // 6.11+: what kmalloc() compiles to (kmalloc_trace and kmalloc_large before)
      { pattern: '__kmalloc_cache_node', gfpArg: 1 },
      { pattern: '__kmalloc_cache', gfpArg: 1 },
      { pattern: '__kmalloc_large_node', gfpArg: 1 },
      { pattern: '__kmalloc_large', gfpArg: 1 },
      { pattern: 'kmalloc_node_trace', gfpArg: 1 },
      { pattern: 'kmalloc_trace', gfpArg: 1 },
      { pattern: 'kmalloc_large_node', gfpArg: 1 },
      { pattern: 'kmalloc_large', gfpArg: 1 },
      { pattern: 'kmalloc_order_trace', gfpArg: 1 },
      { pattern: 'kmalloc_order', gfpArg: 1 },
      { pattern: '__kmalloc_node_track_caller', gfpArg: 1 },
      { pattern: '__kmalloc_track_caller', gfpArg: 1 },
      { pattern: '__kmalloc_node', gfpArg: 1 },
      { pattern: '__kmalloc', gfpArg: 1 },
      { pattern: 'kmalloc*', gfpArg: 1 },
      { pattern: 'kzalloc*', gfpArg: 1 },
      { pattern: 'kcalloc*', gfpArg: 2 },
      { pattern: 'krealloc', gfpArg: 2 },
      // 6.15+: krealloc(), kvmalloc() and kvrealloc() end here; the gfp argument's position
      // depends on CONFIG_SLAB_BUCKETS and CONFIG_KMALLOC_PARTITION_CACHES (slab.h), so it is not read
      { pattern: 'krealloc_node_align' },
      { pattern: '__kvmalloc_node' },
      { pattern: 'kvrealloc_node_align' },
      { pattern: 'kvmalloc_node', gfpArg: 1 },
      { pattern: 'kvmalloc*', gfpArg: 1 },
      { pattern: 'kvrealloc', gfpArg: 3 },
      { pattern: 'kmemdup', gfpArg: 2 },
      { pattern: 'kmemdup_nul', gfpArg: 2 },
      { pattern: 'kstrdup', gfpArg: 1 },
      { pattern: 'kstrndup', gfpArg: 2 },
      { pattern: 'kasprintf', gfpArg: 0 },
      { pattern: 'kvasprintf', gfpArg: 0 },
    ],
    severity: { nmi: 'error', atomic: 'note' },
    why: 'Slab allocation is not NMI-safe: the allocator takes per-CPU/per-node locks with IRQs disabled, which does not stop an NMI that interrupted the lock holder. On x86 kernels before 6.2 with CONFIG_SLAB_FREELIST_RANDOM, a new slab asks get_random_u32(); an empty batch with an old CRNG seed reseeds inline through BLAKE2s -> kernel_fpu_begin() -> irq_fpu_usable(), which WARNs on in_nmi() (panic with panic_on_warn). ' + NMI_WHY_SUFFIX,
    whyAtomic: 'Not NMI context: the handler runs in the caller\'s context with preemption disabled, where GFP_ATOMIC/GFP_NOWAIT allocation is allowed; only flags that allow direct reclaim (GFP_KERNEL) may sleep. Still NMI context if the traced function is itself called from NMI.',
    fix: 'Do not allocate in the handler: record into preallocated per-CPU storage and allocate later in process context (irq_work -> workqueue), as kmod-reference mode `deferred` does. Or hook without int3 (fprobe, ftrace_ops, a kprobe at the function entry with KPROBES_ON_FTRACE), where GFP_ATOMIC is allowed.',
  },
  {
    id: 'kprobe-handler-unsafe-call',
    category: 'allocation',
    title: 'page allocation',
    patterns: [
      { pattern: 'alloc_pages*', gfpArg: 0 },
      { pattern: '__alloc_pages*', gfpArg: 0 },
      { pattern: 'alloc_pages_exact', gfpArg: 1 },
      { pattern: 'alloc_pages_exact_nid', gfpArg: 2 },
      { pattern: '__get_free_pages', gfpArg: 0 },
      { pattern: 'get_free_pages', gfpArg: 0 }, // recent kernels export __get_free_pages() as get_free_pages_noprof
      { pattern: 'get_zeroed_page', gfpArg: 0 },
      { pattern: '__folio_alloc', gfpArg: 0 },
      { pattern: 'folio_alloc', gfpArg: 0 },
    ],
    severity: { nmi: 'error', atomic: 'note' },
    why: 'The page allocator takes zone locks and per-CPU list locks that an NMI may have interrupted: a deadlock or corrupted free lists. ' + NMI_WHY_SUFFIX,
    whyAtomic: 'Not NMI context: GFP_ATOMIC page allocation is allowed with preemption disabled; direct-reclaim flags may sleep.',
    fix: 'Preallocate pages in process context, or defer the allocation to a workqueue via irq_work.',
  },
  {
    id: 'kprobe-handler-unsafe-call',
    category: 'allocation',
    title: 'per-CPU allocation',
    patterns: [
      { pattern: '__alloc_percpu_gfp', gfpArg: 2 },
      // static before 6.10; since then the exported function every alloc_percpu*() calls
      { pattern: 'pcpu_alloc', gfpArg: 3 },
    ],
    severity: { nmi: 'error', atomic: 'note' },
    why: 'pcpu_alloc() takes pcpu_lock (a spinlock with IRQs disabled, which an NMI does not respect) and, unless the flags are atomic, pcpu_alloc_mutex; it may populate chunks through the page allocator. ' + NMI_WHY_SUFFIX,
    whyAtomic: 'Not NMI context: with GFP_ATOMIC/GFP_NOWAIT pcpu_alloc() only takes pcpu_lock and fails rather than populate; with GFP_KERNEL it takes a mutex and may sleep.',
    fix: 'Allocate per-CPU memory at module init; handlers only use it.',
  },
  {
    id: 'atomic-sleep-in-kprobe-or-nmi',
    category: 'allocation',
    title: 'per-CPU allocation (GFP_KERNEL)',
    patterns: [{ pattern: '__alloc_percpu' }, { pattern: '__alloc_reserved_percpu' }],
    severity: { nmi: 'error', atomic: 'error' },
    why: 'alloc_percpu() allocates with GFP_KERNEL: it takes pcpu_alloc_mutex and may sleep. ' + NMI_WHY_SUFFIX,
    whyAtomic: 'alloc_percpu() allocates with GFP_KERNEL and may sleep, which is forbidden with preemption disabled.',
    fix: 'Allocate per-CPU memory at module init; handlers only use it.',
  },
  {
    id: 'vmalloc-vfree-atomic',
    category: 'allocation',
    title: 'vmalloc',
    patterns: [{ pattern: 'vmalloc*' }, { pattern: '__vmalloc*' }, { pattern: 'vzalloc*' }, { pattern: 'vmap' }, { pattern: 'vm_map_ram' }],
    severity: { nmi: 'error', atomic: 'error' },
    why: 'vmalloc() may sleep (GFP_KERNEL page allocation, vmap_area locks, page-table allocation).',
    whyAtomic: 'vmalloc() may sleep, which is forbidden with preemption disabled.',
    fix: 'Preallocate the buffer in process context; for small buffers in atomic (non-NMI) context use kmalloc(GFP_ATOMIC).',
  },
  {
    id: 'vmalloc-vfree-atomic',
    category: 'free',
    title: 'vfree',
    patterns: [{ pattern: 'vfree' }, { pattern: 'vfree_atomic' }, { pattern: 'vunmap' }, { pattern: 'kvfree' }, { pattern: 'kvfree_sensitive' }],
    severity: { nmi: 'error', atomic: 'warning' },
    why: 'vfree() has BUG_ON(in_nmi()); vfree_atomic() queues a work item (workqueue pool lock), also not NMI-safe. kvfree() ends in vfree() for vmalloc memory.',
    whyAtomic: 'vfree() may sleep outside interrupt context (might_sleep_if(!in_interrupt())); use vfree_atomic() there.',
    fix: 'Defer the free to process context (llist + irq_work -> workqueue).',
  },
  {
    id: 'slab-free-from-nmi',
    category: 'free',
    title: 'slab/page free',
    patterns: [{ pattern: 'kfree' }, { pattern: 'kfree_sensitive' }, { pattern: 'kmem_cache_free' }, { pattern: 'kmem_cache_free_bulk' }, { pattern: 'free_pages' }, { pattern: '__free_pages' }, { pattern: 'free_pages_exact' }, { pattern: 'kfree_skb*' }, { pattern: 'consume_skb' }],
    severity: { nmi: 'error', atomic: 'none' },
    why: 'Freeing takes slab/zone locks with IRQs disabled, which does not protect against an NMI that interrupted the lock holder (kfree_nolock() exists only since 6.18).',
    whyAtomic: 'kfree() is allowed with preemption disabled.',
    fix: 'Push the object on an llist from the handler and free it from irq_work or a workqueue.',
  },
  {
    id: 'atomic-sleep-in-kprobe-or-nmi',
    category: 'sleeping',
    title: 'sleeping call',
    patterns: [
      { pattern: 'mutex_lock*' }, { pattern: '__mutex_lock*' }, { pattern: 'down' }, { pattern: 'down_interruptible' }, { pattern: 'down_killable' },
      { pattern: 'down_timeout' }, { pattern: 'down_read*' }, { pattern: 'down_write*' }, { pattern: 'msleep*' }, { pattern: 'ssleep' },
      { pattern: 'usleep_range*' }, { pattern: 'schedule*' }, { pattern: 'io_schedule*' }, { pattern: 'cond_resched*' }, { pattern: '__cond_resched*' },
      { pattern: 'might_sleep' }, { pattern: '__might_sleep' }, { pattern: '__might_resched' }, { pattern: '___might_sleep' }, { pattern: '__might_fault' },
      { pattern: 'wait_for_completion*' }, { pattern: 'prepare_to_wait*' }, { pattern: 'wait_event*' }, { pattern: '__wait_event*' },
      { pattern: 'copy_from_user' }, { pattern: '_copy_from_user' }, { pattern: '__copy_from_user' }, { pattern: 'copy_to_user' }, { pattern: '_copy_to_user' },
      { pattern: '__copy_to_user' }, { pattern: 'strncpy_from_user' }, { pattern: '__get_user_*' }, { pattern: '__put_user_*' }, { pattern: 'get_user_pages*' },
      { pattern: 'synchronize_rcu*' }, { pattern: 'synchronize_srcu*' }, { pattern: 'synchronize_net' }, { pattern: 'rcu_barrier*' },
      { pattern: 'flush_work' }, { pattern: 'flush_delayed_work' }, { pattern: '__flush_workqueue' }, { pattern: 'flush_workqueue' }, { pattern: 'drain_workqueue' },
      { pattern: 'cancel_work_sync' }, { pattern: 'cancel_delayed_work_sync' }, { pattern: 'kthread_stop' }, { pattern: 'filp_open' }, { pattern: 'kernel_read' },
      { pattern: 'kernel_write' }, { pattern: 'vfs_read' }, { pattern: 'vfs_write' }, { pattern: 'request_firmware*' }, { pattern: 'irq_work_sync' },
    ],
    severity: { nmi: 'error', atomic: 'error' },
    why: 'This may sleep (or fault and sleep). A probe handler runs with preemption disabled, and int3 kprobe handlers in NMI context: sleeping there is a BUG ("scheduling while atomic") or a deadlock.',
    whyAtomic: 'This may sleep; ftrace callbacks and kretprobe handlers run with preemption disabled, where sleeping is a BUG ("scheduling while atomic").',
    fix: 'Move the sleeping work to process context: a workqueue (kicked from the handler by irq_work_queue(), which is NMI-safe) or a kthread.',
  },
  {
    id: 'fpu-in-nmi-warn',
    category: 'fpu',
    title: 'kernel FPU use',
    patterns: [{ pattern: 'kernel_fpu_begin*' }, { pattern: 'irq_fpu_usable' }],
    severity: { nmi: 'error', atomic: 'note' },
    why: 'irq_fpu_usable() starts with WARN_ON_ONCE(in_nmi()) and kernel_fpu_begin() warns when the FPU is not usable: FPU/SIMD code may not run in NMI context.',
    whyAtomic: 'Allowed outside NMI when irq_fpu_usable() is true; check it (or crypto_simd_usable()) and fall back to generic code.',
    fix: 'Do not use SIMD/FPU code (including crypto and RNG paths) from NMI handlers; defer to process context.',
  },
  {
    id: 'fpu-in-nmi-warn',
    category: 'random',
    title: 'random numbers',
    patterns: [{ pattern: 'get_random_*' }, { pattern: '_get_random_bytes' }, { pattern: 'get_random_bytes' }, { pattern: 'prandom_u32*' }],
    severity: { nmi: 'error', atomic: 'none' },
    why: 'get_random_*() uses local locks on the per-CPU batch and, on kernels before 6.2, may reseed the CRNG inline through BLAKE2s, whose x86 SIMD path calls kernel_fpu_begin() -> irq_fpu_usable() and WARNs in NMI context.',
    whyAtomic: 'get_random_*() is allowed with preemption disabled.',
    fix: 'Take random numbers in process context ahead of time (a per-CPU pool), or use a non-cryptographic per-CPU PRNG state in the handler.',
  },
  {
    id: 'printk-from-nmi',
    category: 'printk',
    title: 'printk',
    patterns: [{ pattern: 'printk' }, { pattern: '_printk' }, { pattern: 'vprintk*' }, { pattern: 'printk_deferred' }, { pattern: '_printk_deferred' }],
    severity: { nmi: 'note', atomic: 'none' },
    olderKernels: { before: [4, 7], nmi: 'error' },
    why: 'printk() from NMI context is deferred (printk_safe/printk_nmi since 4.7, lockless ringbuffer since 5.10) but takes console locks on older kernels, where it can deadlock; it also floods the log at probe rates.',
    whyAtomic: 'printk() is allowed with preemption disabled (mind the rate: use printk_ratelimited()).',
    fix: 'Use trace_printk() or a counter from handlers, and printk_ratelimited() where a message is needed.',
  },
  {
    id: 'lock-inconsistent-in-nmi',
    category: 'lock',
    title: 'spinning lock',
    patterns: [
      { pattern: '_raw_spin_lock*' }, { pattern: '_raw_read_lock*' }, { pattern: '_raw_write_lock*' }, { pattern: 'spin_lock*' },
      { pattern: 'queued_spin_lock_slowpath' }, { pattern: 'native_queued_spin_lock_slowpath' }, { pattern: 'rt_spin_lock' },
      { pattern: 'queued_read_lock_slowpath' }, { pattern: 'queued_write_lock_slowpath' },
    ],
    severity: { nmi: 'error', atomic: 'note' },
    why: 'A spinlock taken in NMI context deadlocks if the interrupted code on the same CPU holds it: disabling IRQs does not mask NMIs. Only a trylock (dropping the event on failure) is safe there.',
    whyAtomic: 'Allowed outside NMI, but a lock taken in an ftrace callback deadlocks if the traced function can run with the lock held or in an IRQ that interrupted its holder (use the _irqsave variant).',
    fix: 'Make the handler lockless (per-CPU data, llist, atomics) or use raw_spin_trylock() and count dropped events.',
  },
  {
    id: 'lock-inconsistent-in-nmi',
    category: 'lock',
    title: 'call that takes an internal lock',
    patterns: [
      { pattern: 'queue_work_on' }, { pattern: 'queue_delayed_work_on' }, { pattern: 'mod_delayed_work_on' }, { pattern: 'mod_timer' }, { pattern: 'add_timer' },
      { pattern: 'hrtimer_start_range_ns' }, { pattern: '__wake_up*' }, { pattern: 'wake_up_process' }, { pattern: 'complete' }, { pattern: 'complete_all' },
      { pattern: 'call_rcu' }, { pattern: 'kfree_call_rcu' }, { pattern: 'send_sig*' }, { pattern: 'kill_pid' },
    ],
    severity: { nmi: 'error', atomic: 'none' },
    why: 'This takes an internal spinlock (workqueue pool, timer base, wait queue, runqueue, RCU callback list) that the interrupted code may hold: not NMI-safe.',
    whyAtomic: 'Allowed with preemption disabled.',
    fix: 'From NMI context use irq_work_queue() (NMI-safe) and do this from the irq_work callback.',
  },
];

/**
 * Suffixes a kernel adds to the functions modules call, stripped before matching, with where the
 * gfp argument is no longer where the unsuffixed name had it. `_noprof` (6.10+, memory allocation
 * profiling, include/linux/alloc_tag.h): kmalloc(), kmem_cache_alloc(), alloc_pages(),
 * vmalloc(), alloc_percpu()... are macros that wrap the exported `<name>_noprof()` in
 * alloc_hooks(), with or without CONFIG_MEM_ALLOC_PROFILING. Most keep their arguments; a few gained
 * parameters whose presence depends on the kernel config.
 */
const CALLEE_SUFFIXES: readonly { suffix: string; since: [number, number]; gfpArg: Readonly<Record<string, number | null>> }[] = [
  {
    suffix: '_noprof',
    since: [6, 10],
    gfpArg: {
      // 7.x: (size[, token], flags): the token exists with CONFIG_KMALLOC_PARTITION_CACHES
      __kmalloc: null,
      // 6.11+: (size[, buckets][, token], flags, node[, caller]): CONFIG_SLAB_BUCKETS, _PARTITION_CACHES
      __kmalloc_node: null,
      __kmalloc_node_track_caller: null,
      // (p, oldsize, newsize, flags) in 6.10 and 6.11, (p, size, flags) from 6.12
      kvrealloc: null,
    },
  },
];

/**
 * Allocator entry points made for any context, NMI included (6.15+): the `_nolock` variants fail
 * instead of spinning. They share prefixes with unsafe names (alloc_pages*, kmalloc*).
 */
const ANY_CONTEXT_CALLEES: readonly string[] = ['kmalloc_nolock', '_kmalloc_nolock', 'kfree_nolock', 'alloc_pages_nolock', 'free_pages_nolock', 'try_alloc_pages'];

/** Names that are plumbing, never hazards (the fentry call, retpoline/return thunks, stack protector). */
const IGNORED_CALLEES: readonly string[] = ['__fentry__', '__x86_return_thunk', '__stack_chk_fail', '__sanitizer_cov_trace_pc', '__ubsan_handle_*', '__tsan_*', '__asan_*', '__kasan_check_*'];

export interface UnsafeMatch {
  entry: UnsafeCall;
  /** The pattern that matched (with its gfp argument position, if any). */
  pattern: UnsafePattern;
}

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/** Strip what the compiler or static calls add: `__SCT__cond_resched` -> `cond_resched`, `foo.constprop.0` -> `foo`. */
function normalizeCallee(name: string): string {
  let n = name;
  if (n.startsWith('__SCT__')) n = n.slice('__SCT__'.length);
  const dot = n.indexOf('.');
  if (dot > 0) n = n.slice(0, dot);
  return n;
}

/**
 * The table entry for a called kernel function, or null. Exact names win over prefixes, then the
 * longest prefix, so `kmem_cache_alloc_lru` gets its own gfp position.
 */
export function matchUnsafeCall(name: string): UnsafeMatch | null {
  let n = normalizeCallee(name);
  let gfpOverride: Readonly<Record<string, number | null>> | undefined;
  for (const s of CALLEE_SUFFIXES) {
    if (n.length > s.suffix.length && n.endsWith(s.suffix)) {
      n = n.slice(0, -s.suffix.length);
      gfpOverride = s.gfpArg;
      break;
    }
  }
  if (/trylock/.test(n) || /_unlock/.test(n) || ANY_CONTEXT_CALLEES.includes(n)) return null;
  let best: { m: UnsafeMatch; score: number } | null = null;
  for (const entry of UNSAFE_CALLS) {
    for (const p of entry.patterns) {
      if (!matches(p.pattern, n)) continue;
      const score = p.pattern.endsWith('*') ? p.pattern.length : 10_000;
      if (!best || score > best.score) best = { m: { entry, pattern: p }, score };
    }
  }
  if (!best) return null;
  if (gfpOverride && n in gfpOverride) {
    const g = gfpOverride[n];
    return { entry: best.m.entry, pattern: g === null ? { pattern: best.m.pattern.pattern } : { ...best.m.pattern, gfpArg: g } };
  }
  return best.m;
}

/** True for calls that are compiler/ABI plumbing (see IGNORED_CALLEES). */
export function isIgnoredCallee(name: string): boolean {
  return IGNORED_CALLEES.some((p) => matches(p, name)) || name.startsWith('__x86_indirect_thunk_') || name.startsWith('__x86_indirect_call_thunk');
}

// gfp_t bits as of Linux 6.1 (include/linux/gfp_types.h); __GFP_ATOMIC was removed in 6.3 but the
// reclaim bits, which decide whether an allocation may sleep, have kept these values since 4.x.
const GFP_DIRECT_RECLAIM = 0x400;

/** Name a gfp value the way the source probably spelled it, e.g. 0xa20 -> "GFP_ATOMIC". */
export function gfpName(v: number): string {
  const known: [number, string][] = [
    [0xcc0, 'GFP_KERNEL'], [0xdc0, 'GFP_KERNEL|__GFP_ZERO'], [0xa20, 'GFP_ATOMIC'], [0xb20, 'GFP_ATOMIC|__GFP_ZERO'], [0x800, 'GFP_NOWAIT'],
    [0x900, 'GFP_NOWAIT|__GFP_ZERO'], [0x820, 'GFP_ATOMIC (6.3+, no __GFP_ATOMIC)'], [0x920, 'GFP_ATOMIC|__GFP_ZERO (6.3+)'], [0xc00, 'GFP_NOIO'], [0xc40, 'GFP_NOFS'], [0x400cc0, 'GFP_KERNEL_ACCOUNT'], [0x100cca, 'GFP_HIGHUSER_MOVABLE'],
  ];
  const k = known.find(([x]) => x === v);
  return k ? `${k[1]} (0x${v.toString(16)})` : `0x${v.toString(16)}`;
}

/** Whether an allocation with these flags may sleep (direct reclaim), from the 6.1 bit layout. */
export function gfpMaySleep(v: number): boolean {
  return (v & GFP_DIRECT_RECLAIM) !== 0;
}

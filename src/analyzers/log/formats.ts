// The oops format table: one entry per kind of kernel crash report. Data, not code scattered
// around: the parser walks this table in order and takes the first entry whose `header` matches a
// log line. The idea of a table of report formats (header, title template, where the guilty frame
// is found, which frames to skip) comes from syzkaller's pkg/report; the table itself is written
// for ktriage.
//
// Title templates: `{1}`..`{9}` are the header's capture groups, `{R1}`.. the `report` regexp's
// groups, `{FUNC}` the guilty function (found through `frame`; `corrupted` when none is found).
import type { ReportKind } from '../report-model.js';

/** One step of the search for the guilty frame, run over the report's lines in order. */
export type FrameStep =
  /** Move past the first line (at or after the cursor) matching; fail the recipe if none does. */
  | { at: RegExp }
  /** Like `at` but optional. */
  | { maybe: RegExp }
  /**
   * Candidate function from capture group 1 of the first line matching (optional). `any`: taken
   * even when it is library code that stacks skip (a lock site names where the lock is taken,
   * `sysfs_remove_dir`, `flush_work`), unless it is reporting or tracing code.
   */
  | { fn: RegExp; any?: boolean }
  /** Candidate function from the architecture's crash-address line (arch.ts). */
  | { crash: true }
  /** Candidate function from the header's capture group `n`. */
  | { hdr: number }
  /** Parse a backtrace from the cursor: the first frame that is not skipped. */
  | { stack: true }
  /** Stall heuristic: the syscall (or the handler before a multiplexing syscall) in the trace. */
  | { stall: true }
  /** Hung-task heuristic: a known waiting point (rtnl_lock, synchronize_rcu) or the first frame that does not wait. */
  | { hang: true };

export type SkipSet = 'always' | 'stall' | 'hang';

export interface OopsFormat {
  id: string;
  kind: ReportKind;
  /** Matched against one normalised line (anywhere in it). */
  header: RegExp;
  /** Optional check over the report's first lines joined with `\n`; its groups feed `{R1}`... */
  report?: RegExp;
  /** The format applies only when `report` matches; otherwise the next matching format is used. */
  needsReport?: boolean;
  /** Title template. */
  title: string;
  /** Recipes tried in order; absent: the title has no function. */
  frame?: FrameStep[][];
  /** Header capture group that names the guilty function when there is no `frame` recipe. */
  guilty?: number;
  /** Extra skip sets (`always` is always applied). */
  skip?: SkipSet[];
  /** Extra frames to skip for this format (regex sources). */
  skipExtra?: string[];
  /** Ids (prefixes) of the formats whose reports print this line as part of themselves. */
  partOf?: string[];
  /** `partOf` holds only this many lines after that report's header (default: the whole body). */
  partOfWithin?: number;
  /** A line that looks like a report but is not one (ignored). */
  suppress?: boolean;
  /**
   * A line printed after a report's own header (panic()'s reason, the second half of a split
   * header, slub's object history): a report that starts with it lost its header, so it is damaged.
   */
  tail?: boolean;
}

const PC_IS_AT = /^\s*PC is at ([A-Za-z_$][\w.$]*)\+0x/;
const CALL_TRACE = /^\s*(?:Call Trace:|Call trace:|Backtrace:|stack backtrace:|\[<[0-9a-f]+>\] )/;

// What arm64 runs between the exception and the report: the SError and unhandled-exception
// paths (arch/arm64/kernel/traps.c arm64_serror_panic(), do_serror(); entry-common.c
// __panic_unhandled()), and the noreturn calls whose return address falls on the next symbol
// (`add_taint+0x0/..`, `abort+0x0/..` after vpanic(); %pS, not %pB, in dump_backtrace_entry()).
const SERROR_PATH = ['arm64_serror_panic', 'arm64_is_fatal_ras_serror', 'do_serror', 'vpanic', 'nmi_panic', 'add_taint', 'abort', '__panic_unhandled', 'local_daif_.*', 'el0t_.*'];

const RIP_STACK: FrameStep[][] = [
  [{ crash: true }, { fn: PC_IS_AT }, { stack: true }],
];
const STACK: FrameStep[][] = [[{ stack: true }]];
const KASAN_STACK: FrameStep[][] = [[{ at: CALL_TRACE }, { stack: true }], [{ stack: true }], [{ hdr: 2 }]];
// Lockdep's reports print older stacks (`{SOFTIRQ-ON-W} state was registered at:`, `-> #1 (...):`)
// as indented `[<addr>] func` lines before the current one: only these headers start the stack
// the report was raised from (kernel/locking/lockdep.c print_*_bug() end in dump_stack()).
const TRACE_HEADER = /^\s*(?:Call Trace:|Call trace:|Backtrace:|stack backtrace:)/;
const LOCKDEP_AT = /\bat: (?:\[<[0-9a-f]+>\]\s*)?([A-Za-z_$][\w.$]*)\+0x/;

// Syzkaller-style title shapes are kept; kinds follow ktriage's ReportKind.
export const OOPS_FORMATS: readonly OopsFormat[] = [
  // ---- not crashes (suppressed) ----
  { id: 'nmi-handler-slow', kind: 'other', header: /INFO: NMI handler \(.*\) took too long to run/, title: '', suppress: true },
  { id: 'lockdep-off', kind: 'other', header: /INFO: lockdep is turned off/, title: '', suppress: true },
  { id: 'stall-ended', kind: 'other', header: /INFO: Stall ended before state dump start/, title: '', suppress: true },
  { id: 'warn-ssh', kind: 'other', header: /WARNING: \/etc\/ssh/, title: '', suppress: true },
  { id: 'bug-not-tainted', kind: 'other', header: /BUG \S+ \((?:Not tainted|Tainted: [A-Z ]+)\): kasan: bad access detected/, title: '', suppress: true },

  // ---- sanitizers ----
  // KASAN before 4.11 (mm/kasan/report.c kasan_report_error()): "BUG: KASAN: %s in %pS at addr %p",
  // then "%s of size %zu by task %s/%d" on the next line. A report cut before that line is known
  // by its header alone.
  { id: 'kasan-old-addr', kind: 'KASAN', header: /BUG: KASAN: ([a-z-]+) in (\S+) at addr (\S*)/, report: /\b(Read|Write) of size \d+/, needsReport: true, title: 'KASAN: {1} {R1} in {FUNC}', frame: KASAN_STACK },
  { id: 'kasan-old-addr-norw', kind: 'KASAN', header: /BUG: KASAN: ([a-z-]+) in (\S+) at addr (\S*)/, title: 'KASAN: {1} in {2} at addr ADDR' },
  { id: 'kasan-on-address', kind: 'KASAN', header: /BUG: KASAN: ([a-z-]+) on address/, report: /\b(Read|Write) of size \d+/, title: 'KASAN: {1} {R1}', frame: KASAN_STACK },
  { id: 'kasan-double-free', kind: 'KASAN', header: /BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in/, title: 'KASAN: invalid-free in {FUNC}', frame: KASAN_STACK, skipExtra: ['kfree.*', 'kmem_cache_free.*', 'slab_free.*', 'free_.*'] },
  { id: 'kasan-rw', kind: 'KASAN', header: /BUG: KASAN: ([a-z-]+) in ([A-Za-z_$][\w.$]*?)(?:\+0x|\s|$)/, report: /\b(Read|Write) (?:of size|at addr)/, title: 'KASAN: {1} {R1} in {FUNC}', frame: KASAN_STACK },
  { id: 'kasan-other', kind: 'KASAN', header: /BUG: KASAN: ([a-z-]+)(?: in ([A-Za-z_$][\w.$]*?)(?:\+0x|\s|$))?/, title: 'KASAN: {1} in {FUNC}', frame: KASAN_STACK },
  { id: 'kmsan', kind: 'KMSAN', header: /BUG: KMSAN: ([a-z-]+)(?: in ([A-Za-z_$][\w.$]*?)(?:\+0x|\s|$))?/, title: 'KMSAN: {1} in {FUNC}', frame: KASAN_STACK, skipExtra: ['usb_submit_urb', 'copy_page_to_iter', '_?copy_to_iter', 'aes\\w*', 'copyout\\w*', 'instrument_\\w+'] },
  { id: 'kcsan-pair', kind: 'KCSAN', header: /BUG: KCSAN: ([a-z-]+) in ([\w.$]+?)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)? \/ ([\w.$]+?)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)?\s*$/, title: 'KCSAN: {1} in {2} / {3}', guilty: 2 },
  { id: 'kcsan-assert', kind: 'KCSAN', header: /BUG: KCSAN: assert: ([a-z-]+) in ([\w.$]+)/, title: 'KCSAN: assert: {1} in {2}', guilty: 2 },
  { id: 'kcsan', kind: 'KCSAN', header: /BUG: KCSAN: ([a-z-]+) in ([\w.$]+)/, title: 'KCSAN: {1} in {2}', guilty: 2 },
  // An access report names the accessing function in its header; a corruption is found on free.
  { id: 'kfence-access', kind: 'KASAN', header: /BUG: KFENCE: ((?:use-after-free|out-of-bounds|invalid) (?:read|write)) in ([A-Za-z_$][\w.$]*)/, title: 'KFENCE: {1} in {FUNC}', frame: [[{ hdr: 2 }], ...KASAN_STACK] },
  { id: 'kfence', kind: 'KASAN', header: /BUG: KFENCE: ([a-z -]+?) in /, title: 'KFENCE: {1} in {FUNC}', frame: KASAN_STACK },
  { id: 'ubsan-old', kind: 'UBSAN', header: /UBSAN: Undefined behaviour in/, title: 'UBSAN: undefined-behaviour in {FUNC}', frame: KASAN_STACK, skipExtra: ['ubsan.*'] },
  { id: 'ubsan', kind: 'UBSAN', header: /UBSAN: ([a-z-]+) in /, title: 'UBSAN: {1} in {FUNC}', frame: KASAN_STACK },
  { id: 'memleak', kind: 'BUG', header: /BUG: memory leak/, title: 'memory leak in {FUNC}', frame: [[{ at: /^\s*backtrace(?: \(crc [0-9a-f]+\))?:/ }, { stack: true }]], skipExtra: ['.*alloc.*', 'kmem.*', 'create_object', 'kmemdup.*', 'kstrdup.*', 'pcpu_.*', 'idr_.*', 'ida_.*'] },

  // ---- BUG: ... ----
  { id: 'bug-paging-request', kind: 'BUG', header: /BUG: unable to handle kernel paging request/, title: 'BUG: unable to handle kernel paging request in {FUNC}', frame: RIP_STACK },
  { id: 'bug-null-old', kind: 'BUG', header: /BUG: unable to handle kernel NULL pointer dereference/, title: 'BUG: unable to handle kernel NULL pointer dereference in {FUNC}', frame: RIP_STACK },
  { id: 'bug-null', kind: 'BUG', header: /BUG: kernel NULL pointer dereference/, title: 'BUG: unable to handle kernel NULL pointer dereference in {FUNC}', frame: RIP_STACK },
  { id: 'bug-page-fault', kind: 'BUG', header: /BUG: unable to handle page fault for address/, title: 'BUG: unable to handle kernel paging request in {FUNC}', frame: RIP_STACK },
  { id: 'bug-unable-other', kind: 'BUG', header: /BUG: unable to handle kernel ([a-z ]+)/, title: 'BUG: unable to handle kernel {1} in {FUNC}', frame: RIP_STACK },
  // arch/x86/mm/fault.c printed "BUG: unable to handle kernel " and the reason in two printk()s.
  { id: 'bug-unable-cut', kind: 'BUG', header: /BUG: unable to handle kernel\s*$/, title: 'BUG: unable to handle kernel', tail: true },
  // kernel/locking/spinlock_debug.c: "BUG: spinlock lockup on CPU#%d" before 3.x, "lockup suspected" after.
  { id: 'bug-spinlock', kind: 'BUG', header: /BUG: spinlock (lockup suspected|lockup(?= on CPU#)|already unlocked|recursion|bad magic|wrong owner|wrong CPU|cpu recursion)/, title: 'BUG: spinlock {1} in {FUNC}', frame: STACK },
  { id: 'bug-rwlock', kind: 'BUG', header: /BUG: rwlock (lockup suspected|already unlocked|recursion|bad magic|wrong owner|wrong CPU|cpu recursion)/, title: 'BUG: rwlock {1} in {FUNC}', frame: STACK },
  { id: 'bug-soft-lockup', kind: 'soft lockup', header: /BUG: soft lockup - CPU#\d+ stuck for/, title: 'BUG: soft lockup in {FUNC}', frame: [[{ stall: true }]], skip: ['stall'] },
  { id: 'bug-soft-lockup-new', kind: 'soft lockup', header: /watchdog: BUG: soft lockup/, title: 'BUG: soft lockup in {FUNC}', frame: [[{ stall: true }]], skip: ['stall'] },
  // kernel/sched/core.c __might_sleep(): the header, the held locks, "Preemption disabled at:" and
  // that site (print_ip_sym(), a site and not the stack), then dump_stack().
  { id: 'bug-sleeping', kind: 'BUG', header: /BUG: sleeping function called from invalid context/, title: 'BUG: sleeping function called from invalid context in {FUNC}', frame: [[{ at: TRACE_HEADER }, { stack: true }], [{ stack: true }]], skipExtra: ['might_.*', '__might_.*', 'lock_.*', 'mutex_.*', 'down_.*'] },
  { id: 'bug-sched-atomic', kind: 'BUG', header: /BUG: scheduling while atomic/, title: 'BUG: scheduling while atomic in {FUNC}', frame: STACK, skip: ['hang'] },
  { id: 'bug-this-cpu', kind: 'BUG', header: /BUG: using (__this_cpu_\w+|smp_processor_id)\(\) in preemptible/, title: 'BUG: using {1}() in preemptible code in {FUNC}', frame: STACK, skipExtra: ['check_preemption_disabled', 'debug_smp_processor_id', '__this_cpu_preempt_check'] },
  { id: 'bug-locks-held', kind: 'lockdep', header: /BUG: still has locks held!/, title: 'BUG: still has locks held in {FUNC}', frame: STACK },
  { id: 'bug-lock-held-user', kind: 'lockdep', header: /BUG: lock held when returning to user space/, title: 'BUG: lock held when returning to user space in {FUNC}', frame: [[{ fn: LOCKDEP_AT }]] },
  { id: 'bad-unlock', kind: 'lockdep', header: /(BUG|WARNING): bad unlock balance detected!/, title: '{1}: bad unlock balance in {FUNC}', frame: [[{ at: /is trying to release lock/ }, { stack: true }], [{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'held-freed', kind: 'lockdep', header: /(BUG|WARNING): held lock freed!/, title: '{1}: held lock freed in {FUNC}', frame: [[{ fn: LOCKDEP_AT }, { at: CALL_TRACE }, { stack: true }]] },
  { id: 'invalid-wait', kind: 'lockdep', header: /(?:BUG|WARNING): Invalid wait context/, title: 'WARNING: locking bug in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]], skipExtra: ['lock_sock.*', 'release_sock', '__release_sock'] },
  { id: 'bug-rss-counter', kind: 'BUG', header: /BUG: Bad rss-counter state/, title: 'BUG: Bad rss-counter state' },
  { id: 'bug-nr-ptes', kind: 'BUG', header: /BUG: non-zero (nr_ptes|pgtables_bytes|nr_pmds) on freeing mm/, title: 'BUG: non-zero {1} on freeing mm' },
  // fs/dcache.c umount_check(): "BUG: Dentry %p{i=%lx,n=%pd}  still in use (%d) [unmount of %s %s]"
  // (file system type and device); older kernels printed no bracket and are titled from the stack.
  { id: 'bug-dentry-unmount', kind: 'BUG', header: /BUG: Dentry .* still in use \(-?\d+\) \[unmount of ([^\]]+)\]/, title: 'BUG: Dentry still in use [unmount of {1}]' },
  { id: 'bug-dentry', kind: 'BUG', header: /BUG: Dentry .* still in use/, title: 'BUG: Dentry still in use in {FUNC}', frame: STACK, skipExtra: ['umount_check', 'd_walk', 'shrink_dcache_for_umount', 'do_one_tree'] },
  { id: 'bug-bad-page-state', kind: 'BUG', header: /BUG: Bad page state/, title: 'BUG: Bad page state in {FUNC}', frame: STACK, skipExtra: ['bad_page', 'free_.*page.*', '__free_.*', 'check_new_page.*', 'prep_new_page', 'get_page_from_freelist', 'free_unref_page.*', 'release_pages', 'put_page', '__put_page', 'folio_put', '__folio_put.*', 'free_pcp.*', 'free_pages.*', 'check_free_page.*'] },
  // mm/filemap.c unaccount_page_cache_page(): "BUG: Bad page cache in process %s  pfn:%05lx".
  { id: 'bug-bad-page-cache', kind: 'BUG', header: /BUG: Bad page cache in process/, title: 'BUG: Bad page cache in {FUNC}', frame: [[{ at: TRACE_HEADER }, { stack: true }]], skipExtra: ['unaccount_page_cache_page', '__delete_from_page_cache', 'delete_from_page_cache.*', '__filemap_remove_folio', 'filemap_remove_folio'] },
  // mm/memory.c print_bad_pte(): "BUG: Bad page map in process %s  pte:%08llx pmd:%08llx" names a
  // process, not a function; the stack is the unmapping path that found the pte.
  { id: 'bug-bad-page-map', kind: 'BUG', header: /BUG: Bad page map/, title: 'BUG: Bad page map' },
  { id: 'bug-workqueue-lockup', kind: 'BUG', header: /BUG: workqueue lockup/, title: 'BUG: workqueue lockup' },
  // kernel/workqueue.c process_one_work(): "BUG: workqueue leaked lock or atomic: %s/0x%08x/%d\n
  // last function: %ps": the work function that returned with the lock or atomic section held.
  { id: 'bug-workqueue-leaked', kind: 'BUG', header: /BUG: workqueue leaked lock or atomic/, title: 'BUG: workqueue leaked lock or atomic in {FUNC}', frame: [[{ fn: /^\s*last function: ([A-Za-z_$][\w.$]*)/, any: true }]] },
  // A stack overflow is runaway recursion or a deep call chain: the frames at the top are wherever
  // the stack ran out, so the report is named like a stall, by the entry point the chain came
  // through (arch/x86/kernel/traps.c handle_stack_overflow(); arm64 traps.c panic_bad_stack()).
  { id: 'bug-stack-guard', kind: 'BUG', header: /BUG: (?:TASK |IRQ )?stack guard page was hit/, title: 'BUG: stack guard page was hit in {FUNC}', frame: [[{ at: TRACE_HEADER }, { stall: true }]], skip: ['stall'] },
  { id: 'bug-corrupted-list', kind: 'BUG', header: /BUG: corrupted list in/, title: 'BUG: corrupted list in {FUNC}', frame: RIP_STACK },
  { id: 'bug-max-lockdep', kind: 'lockdep', header: /BUG: (MAX_[A-Z_]+ too low!)/, title: 'BUG: {1}' },
  { id: 'bug-kmalloc-size', kind: 'BUG', header: /BUG: (?:looking up invalid subclass|key \S+ has not been registered!|unable to allocate)/, title: 'BUG: {0}', },
  // mm/slub.c slab_bug() printed "BUG %s: %s" before the taint went in parentheses;
  // list_slab_objects(): "Objects remaining on kmem_cache_close()" (later "... in %s on __kmem_cache_shutdown()").
  { id: 'bug-objects-remaining', kind: 'BUG', header: /^\s*=*\s*BUG (\S+?)(?: \([^)]*\))?: (Objects remaining\b.*)$/, title: 'BUG: Objects remaining in {FUNC}', frame: [[{ at: TRACE_HEADER }, { stack: true }]], skipExtra: ['kmem_cache_destroy', 'kmem_cache_close', '__kmem_cache_shutdown', 'shutdown_cache', 'list_slab_objects', 'slab_err'] },
  { id: 'bug-object-free', kind: 'BUG', header: /^\s*=*\s*BUG (\S+?)(?: \([^)]*\))?: (Object already free|Poison overwritten|Redzone overwritten|Padding overwritten|Freepointer corrupt|Invalid object pointer)/, title: 'BUG: {2}' },

  // ---- lockdep ----
  // lockdep.c print_circular_bug_header() (and print_deadlock_bug() for recursion): "%s/%d is
  // trying to acquire lock:" then print_lock() of the lock being taken and its site ("at: %pS"),
  // where the report is raised. Cut before that line, the report is known by its header.
  { id: 'lockdep-circular', kind: 'lockdep', header: /(?:WARNING|INFO): possible circular locking dependency detected/, report: /is trying to acquire/, needsReport: true, title: 'possible deadlock in {FUNC}', frame: [[{ at: /is trying to acquire/ }, { fn: LOCKDEP_AT, any: true }, { fn: LOCKDEP_AT, any: true }], [{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'lockdep-circular-cut', kind: 'lockdep', header: /(?:WARNING|INFO): possible circular locking dependency detected/, title: 'WARNING: possible circular locking dependency detected' },
  { id: 'lockdep-recursive', kind: 'lockdep', header: /(?:WARNING|INFO): possible recursive locking detected/, title: 'possible deadlock in {FUNC}', frame: [[{ at: /is trying to acquire/ }, { fn: LOCKDEP_AT, any: true }], [{ at: TRACE_HEADER }, { stack: true }]] },
  // lockdep.c print_irq_inversion_bug(): "%s/%d just changed the state of lock:" then print_lock()
  // ("..., at: %pS"): the site of that lock names the report. print_bad_irq_dependency(): the stack
  // saved when the irq-safe lock was taken in interrupt context ("... which became %s-irq-safe
  // at:") names the report, else the lock being acquired ("is trying to acquire:", print_lock()).
  { id: 'lockdep-irq-inversion', kind: 'lockdep', header: /(?:WARNING|INFO): possible irq lock inversion dependency detected/, title: 'possible deadlock in {FUNC}', frame: [[{ at: /just changed the state of lock/ }, { fn: LOCKDEP_AT }], [{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'lockdep-safe-unsafe', kind: 'lockdep', header: /(?:WARNING|INFO): [A-Z]+-(?:safe|irq-safe) -> [A-Z]+-(?:unsafe|irq-unsafe) lock order detected/, title: 'possible deadlock in {FUNC}', frame: [[{ at: /\.\.\. which became [A-Z]+-irq-safe at:/ }, { stack: true }], [{ at: /is trying to acquire/ }, { fn: LOCKDEP_AT }], [{ at: CALL_TRACE }, { stack: true }]] },
  // print_usage_bug(): "<task> [HC0[0]:SC1[1]:HE1:SE0] takes:" then the lock and the site taking it.
  { id: 'lockdep-inconsistent', kind: 'lockdep', header: /(?:WARNING|INFO): inconsistent lock state/, title: 'inconsistent lock state in {FUNC}', frame: [[{ at: /\] takes:/ }, { fn: LOCKDEP_AT }, { at: TRACE_HEADER }, { stack: true }], [{ at: TRACE_HEADER }, { stack: true }]] },
  // lockdep.c lockdep_rcu_suspicious(): the header, the release line, dashes, then "%s:%d %s!" (the
  // file and line of the check). A report cut before that line is known by its header alone.
  { id: 'lockdep-suspicious-rcu', kind: 'lockdep', header: /(WARNING|INFO): suspicious (?:RCU usage|rcu_dereference_check\(\) usage)/, report: /^\s*\S+\.[ch]:\d+ /m, needsReport: true, title: '{1}: suspicious RCU usage in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]], skipExtra: ['rcu_.*', '__rcu_.*', 'lockdep_rcu_suspicious'] },
  { id: 'lockdep-suspicious-rcu-cut', kind: 'lockdep', header: /(WARNING|INFO): suspicious (?:RCU usage|rcu_dereference_check\(\) usage)/, title: '{1}: suspicious RCU usage' },
  // lockdep.c print_held_locks_bug() lists the held locks (print_lock(): "#%d: ... at: %pS") before
  // the stack: the site that took the lock left held names the report.
  { id: 'lockdep-still-held', kind: 'lockdep', header: /WARNING: (?:still has locks held!|.* still has locks held!)/, title: 'WARNING: still has locks held in {FUNC}', frame: [[{ fn: LOCKDEP_AT }], [{ at: CALL_TRACE }, { stack: true }]] },
  // lockdep.c print_lock_nested_lock_not_held(): the lock being taken (print_lock(): "at: %pS") first.
  { id: 'lockdep-nested', kind: 'lockdep', header: /WARNING: [Nn]ested lock was not taken/, title: 'WARNING: nested lock was not taken in {FUNC}', frame: [[{ fn: LOCKDEP_AT, any: true }], [{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'lockdep-user', kind: 'lockdep', header: /WARNING: lock held when returning to user space/, title: 'WARNING: lock held when returning to user space in {FUNC}', frame: [[{ fn: LOCKDEP_AT }]] },
  { id: 'lockdep-register-key', kind: 'lockdep', header: /INFO: trying to register non-static key/, title: 'INFO: trying to register non-static key in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'lockdep-bad-magic', kind: 'lockdep', header: /(?:WARNING|BUG): (?:lock|bad) (?:held|contention)/, title: 'WARNING: locking bug in {FUNC}', frame: STACK },

  // ---- WARNING ----
  // With hashed pointers (`(ptrval)`) both checks report under one title, as syzkaller files them.
  { id: 'warn-stack-ptrval', kind: 'WARNING', header: /WARNING: kernel stack (?:regs|frame pointer) at\s+\(ptrval\) in \S+ has bad/, title: 'WARNING: kernel stack regs has bad value' },
  { id: 'warn-bp', kind: 'WARNING', header: /WARNING: kernel stack regs at\s+(?:[0-9a-f]+|\(ptrval\)) in \S+ has bad '(\w+)' value/, title: "WARNING: kernel stack regs has bad '{1}' value" },
  { id: 'warn-fp', kind: 'WARNING', header: /WARNING: kernel stack frame pointer at\s+(?:[0-9a-f]+|\(ptrval\)) in \S+ has bad value/, title: 'WARNING: kernel stack frame pointer has bad value' },
  { id: 'warn-refcount', kind: 'WARNING', header: /WARNING: .* (?:at|PID: \d+ at) (?:lib\/refcount\.c|include\/linux\/refcount\.h):\d+/, title: 'WARNING: refcount bug in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'warn-odebug', kind: 'WARNING', header: /WARNING: .* at lib\/debugobjects\.c:\d+/, title: 'WARNING: ODEBUG bug in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'warn-lockdep', kind: 'lockdep', header: /WARNING: .* at kernel\/locking\/(?:lockdep|mutex|rwsem|spinlock_debug|lockdep_internals)[\w.]*:\d+/, title: 'WARNING: locking bug in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]], skipExtra: ['lock_sock.*', 'release_sock', '__release_sock'] },
  { id: 'warn-usercopy', kind: 'WARNING', header: /WARNING: .* at mm\/usercopy\.c:\d+/, title: 'WARNING: bad usercopy in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'warn-proc-reg', kind: 'WARNING', header: /WARNING: .* at fs\/proc\/generic\.c:\d+/, title: 'WARNING: proc registration bug in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]], skipExtra: ['proc_.*', '__proc_.*'] },
  { id: 'warn-kobject', kind: 'WARNING', header: /WARNING: .* at lib\/kobject\.c:\d+/, title: 'WARNING: kobject bug in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'warn-zero-vmalloc', kind: 'WARNING', header: /WARNING: .* at mm\/vmalloc\.c:\d+/, report: /(zero-size) vmalloc|(vmalloc)/, title: 'WARNING: zero-size vmalloc in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'warn-kmalloc', kind: 'WARNING', header: /WARNING: .* at mm\/(?:util|slab_common|slab|slub)\.c:\d+ (?:kvmalloc\w*|__kmalloc\w*|kmalloc\w*|__kvmalloc\w*|krealloc\w*)\+/, title: 'WARNING: kmalloc bug in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]] },
  { id: 'warn-usb-urb', kind: 'WARNING', header: /WARNING: .* at drivers\/usb\/core\/urb\.c:\d+ (usb_submit_urb)/, title: 'WARNING in {FUNC}/{1}', frame: [[{ at: CALL_TRACE }, { stack: true }]], skipExtra: ['usb_submit_urb', 'usb_start_wait_urb', 'usb_bulk_msg', 'usb_interrupt_msg', 'usb_control_msg', 'usb_internal_control_msg'] },
  // The title names the function from the report's own registers or stack, not the header: a
  // WARNING cut off before either is a damaged report (kernel/panic.c __warn() prints the header,
  // then print_modules(), then show_regs() or dump_stack(); syzkaller titles it "in corrupted").
  { id: 'warn-cpu', kind: 'WARNING', header: /WARNING: CPU: \d+ PID: -?\d+ at \S+\s+([A-Za-z_$][\w.$]*?)\+?0x[0-9a-f]+\/0x/, title: 'WARNING in {FUNC}', frame: RIP_STACK },
  { id: 'warn-cpu-nofunc', kind: 'WARNING', header: /WARNING: (?:CPU: \d+ PID: \d+ )?at \S+/, title: 'WARNING in {FUNC}', frame: RIP_STACK },
  { id: 'warn-old', kind: 'WARNING', header: /WARNING: at \S+ ([A-Za-z_$][\w.$]*)\(\)/, title: 'WARNING in {1}' },
  { id: 'warn-new-refcount', kind: 'WARNING', header: /WARNING: (?:lib\/refcount\.c|include\/linux\/refcount\.h):\d+ at /, title: 'WARNING: refcount bug in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }]] },
  // The WARN format of 6.17+ ("WARNING: [cond] file:line at func+off/size, CPU#N: comm/pid"): named,
  // like the older one, from the registers, else the stack.
  { id: 'warn-new', kind: 'WARNING', header: /WARNING: (?:\[[^\]]*\] )?\S+:\d+ at ([A-Za-z_$][\w.$]*)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)?, CPU#\d+/, title: 'WARNING in {FUNC}', frame: RIP_STACK },
  { id: 'warn-new-noname', kind: 'WARNING', header: /WARNING: (?:\[[^\]]*\] )?\S+:\d+ at \S+, CPU#\d+/, title: 'WARNING in {FUNC}', frame: RIP_STACK },

  // ---- INFO: stalls and hangs ----
  { id: 'rcu-stall', kind: 'RCU stall', header: /INFO: rcu_(?:preempt|sched|bh) (?:self-)?detected (?:expedited )?stalls?/, title: 'INFO: rcu detected stall in {FUNC}', frame: [[{ at: /(?:apic_timer_interrupt|Exception stack|el1h?_64_irq|el1_irq|gic_handle_irq|handle_irq|irq_exit|__irq_svc|sysvec_apic_timer)/ }, { stall: true }]], skip: ['stall'] },
  // kernel/rcu/tasks.h (kernel/rcu/update.c before 5.8): "INFO: rcu_tasks detected stalls on tasks:", each
  // holdout task with sched_show_task(): the stack of the task holding the grace period up.
  { id: 'rcu-stall-tasks', kind: 'RCU stall', header: /INFO: rcu_tasks(?:_trace|_rude)? detected stalls/, title: 'INFO: rcu detected stall in {FUNC}', frame: [[{ at: TRACE_HEADER }, { stall: true }]], skip: ['stall'] },
  { id: 'hung-task', kind: 'hung task', header: /INFO: task \S+ blocked for more than \d+ seconds/, title: 'INFO: task hung in {FUNC}', frame: [[{ at: CALL_TRACE }, { hang: true }]], skip: ['hang'] },
  { id: 'task-cant-die', kind: 'hung task', header: /INFO: task .* can't die for more than \d+ seconds/, title: "INFO: task can't die in {FUNC}", frame: [[{ at: CALL_TRACE }, { stack: true }]], skip: ['hang'] },
  // mm/slub.c print_track() prints "INFO: Allocated in"/"INFO: Freed in" inside a slab object report
  // (Poison overwritten, Objects remaining, ...): part of that report, never one of its own.
  { id: 'info-freed', kind: 'other', header: /INFO: (Freed|Allocated) in (.*)/, title: 'INFO: {1} in {2}', partOf: ['bug-object', 'bug-objects-remaining', 'kasan'], tail: true },

  // ---- faults ----
  { id: 'gpf', kind: 'general protection fault', header: /general protection fault(?:,? (?:probably |maybe )?for (?:non-canonical )?address \S+?)?: [0-9a-f]{4}/, title: 'general protection fault in {FUNC}', frame: RIP_STACK },
  { id: 'stack-segment', kind: 'general protection fault', header: /stack segment: [0-9a-f]{4}/, title: 'stack segment fault in {FUNC}', frame: RIP_STACK },
  { id: 'divide-error', kind: 'Oops', header: /divide[ _]error: [0-9a-f]{4}/, title: 'divide error in {FUNC}', frame: RIP_STACK },
  { id: 'invalid-opcode', kind: 'Oops', header: /invalid opcode: [0-9a-f]{4}/, title: 'invalid opcode in {FUNC}', frame: RIP_STACK },
  { id: 'double-fault', kind: 'Oops', header: /PANIC: double fault/, title: 'PANIC: double fault in {FUNC}', frame: RIP_STACK },
  { id: 'stack-overflow', kind: 'Oops', header: /kernel stack overflow \(/, title: 'kernel stack overflow in {FUNC}', frame: RIP_STACK },
  { id: 'bad-usercopy', kind: 'BUG', header: /kernel BUG at mm\/usercopy\.c:\d+|usercopy: Kernel memory (?:overwrite|exposure) attempt detected/, title: 'BUG: bad usercopy in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }], RIP_STACK[0]], skipExtra: ['usercopy_.*', '__check_.*', 'check_.*_object', 'check_object_size'] },
  { id: 'corrupted-list', kind: 'BUG', header: /kernel BUG at lib\/list_debug\.c:\d+|list_(?:add|del) corruption/, title: 'BUG: corrupted list in {FUNC}', frame: [[{ at: CALL_TRACE }, { stack: true }], RIP_STACK[0]], skipExtra: ['__list_.*', 'list_.*'] },
  { id: 'kernel-bug', kind: 'BUG', header: /kernel BUG at (\S+?):?(\d+)!?/, title: 'kernel BUG in {FUNC}', frame: RIP_STACK },
  { id: 'ppc-data-access', kind: 'BUG', header: /BUG: Unable to handle kernel (?:data|instruction) access/, title: 'BUG: unable to handle kernel paging request in {FUNC}', frame: RIP_STACK },
  { id: 'kernel-bug-ppc', kind: 'BUG', header: /Kernel BUG at ([0-9a-f]+)/, title: 'kernel BUG in {FUNC}', frame: RIP_STACK },
  { id: 'unhandled-fault', kind: 'Oops', header: /Unhandled fault: /, title: 'Unhandled fault in {FUNC}', frame: [[{ fn: PC_IS_AT }, { crash: true }, { stack: true }]] },
  // arm64 (arch/arm64/mm/fault.c __do_kernel_fault() -> die_kernel_fault(): "Unable to handle
  // kernel %s at virtual address %016lx", %s one of the messages below; arm's __do_kernel_fault()
  // prints the first two). The `Internal error: Oops:` line die() prints next is part of it.
  { id: 'unable-to-handle', kind: 'Oops', header: /Unable to handle kernel (paging request|NULL pointer dereference|access to user memory|execute from non-executable memory|read from unreadable memory|write to read-only memory)/, title: 'BUG: unable to handle kernel {1} in {FUNC}', frame: [[{ crash: true }, { fn: PC_IS_AT }, { stack: true }]] },
  // die("Oops") after die_kernel_fault() prints the fault's "Mem abort info:", ESR fields and
  // show_pte() first (arch/arm64/mm/fault.c): up to ~20 lines after "Unable to handle".
  { id: 'internal-error', kind: 'Oops', header: /Internal error: /, title: 'Internal error in {FUNC}', frame: [[{ crash: true }, { fn: PC_IS_AT }, { stack: true }]], partOf: ['unable-to-handle'], partOfWithin: 40 },
  { id: 'oops', kind: 'Oops', header: /^\s*Oops(?: - [a-z ]+)?: [0-9a-f]{4}/, title: 'Oops in {FUNC}', frame: RIP_STACK },
  // arm64 arch/arm64/kernel/traps.c arm64_serror_panic(): "SError Interrupt on CPU%d, code 0x%016lx
  // -- %s", then __show_regs() (the `pc :` where the SError was taken) and nmi_panic("Asynchronous
  // SError Interrupt"), whose stack passes through the SError vector. 4.x-5.x printed the same
  // line; bad_mode() printed "Bad mode in %s handler detected on CPU%d, code 0x%08x -- %s".
  { id: 'arm64-serror', kind: 'Oops', header: /SError Interrupt on CPU\d+, code (?:0x)?[0-9a-f]+/, title: 'SError Interrupt in {FUNC}', frame: [[{ crash: true }], [{ at: TRACE_HEADER }, { stack: true }]], skipExtra: SERROR_PATH },
  // arch/arm64/kernel/entry-common.c __panic_unhandled(): "Unhandled %s exception on CPU%d, ESR
  // 0x%016lx -- %s", __show_regs(), panic("Unhandled exception"); bad_mode() before 5.x.
  { id: 'arm64-unhandled', kind: 'Oops', header: /Unhandled (?:\d+-bit )?(?:el[0-3][ht]?|EL[0-3]) (?:sync|irq|fiq|error|SError) exception on CPU\d+|Bad mode in (?:Synchronous Abort|IRQ|FIQ|Error) handler detected/, title: 'Unhandled exception in {FUNC}', frame: [[{ crash: true }], [{ at: TRACE_HEADER }, { stack: true }]], skipExtra: SERROR_PATH },

  // ---- kprobes, watchdogs ----
  { id: 'kprobe-unrecoverable', kind: 'kprobe', header: /Unrecoverable kprobe detected/, title: 'Unrecoverable kprobe detected in {FUNC}', frame: RIP_STACK },
  { id: 'kprobe-recursion', kind: 'kprobe', header: /kprobe: (?:Unrecoverable kprobe|reentered) .*|kprobes: (?:Failed to recover|Unexpected recursion)/, title: 'kprobe recursion in {FUNC}', frame: RIP_STACK },
  { id: 'hard-lockup', kind: 'hard lockup', header: /(?:Watchdog detected hard LOCKUP on cpu \d+|NMI watchdog: Watchdog detected hard LOCKUP)/, title: 'hard lockup in {FUNC}', frame: [[{ crash: true }, { stall: true }]], skip: ['stall'] },
  { id: 'unregister-netdevice', kind: 'other', header: /unregister_netdevice: waiting for (\S+) to become free/, title: 'unregister_netdevice: waiting for DEV to become free' },
  { id: 'vfs-close', kind: 'other', header: /VFS: Close: file count is 0/, title: 'VFS: Close: file count is zero (use-after-free)' },
  { id: 'vfs-busy', kind: 'other', header: /VFS: Busy inodes after unmount/, title: 'VFS: Busy inodes after unmount (use-after-free)' },
  { id: 'reboot', kind: 'other', header: /^(?:Booting the kernel\.|Decompressing Linux\.\.\.|Linux version \d+\.\d+\S* .*#\d+)/, title: 'unexpected kernel reboot', suppress: true },

  // ---- panics ----
  // kernel/panic.c __stack_chk_fail(): the canary check's caller is the damaged function.
  { id: 'panic-stack-corrupted', kind: 'panic', header: /Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: (?:(?![0-9a-f]{8,}\b)([A-Za-z_$][\w.$]*)|[0-9a-f]+)/, title: 'kernel panic: stack is corrupted in {FUNC}', frame: [[{ hdr: 1 }, { stack: true }]], skipExtra: ['__stack_chk_fail'] },
  // kernel/sched/core.c schedule_debug(): the stack's end marker was overwritten, by an overflow or
  // a stray write: like a stack overflow, named by the entry point of the chain.
  { id: 'panic-stack-end', kind: 'panic', header: /Kernel panic - not syncing: corrupted stack end detected inside scheduler/, title: 'kernel panic: corrupted stack end in {FUNC}', frame: [[{ at: TRACE_HEADER }, { stall: true }], STACK[0]], skip: ['hang', 'stall'], skipExtra: ['retint_.*', '_cond_resched', '__cond_resched', 'preempt_schedule.*', 'schedule_tail', 'ret_from_fork'] },
  { id: 'panic-stack-overflow', kind: 'panic', header: /Kernel panic - not syncing: kernel stack overflow/, title: 'kernel stack overflow in {FUNC}', frame: [[{ at: TRACE_HEADER }, { stall: true }]], skip: ['stall'] },
  { id: 'panic-kill-init', kind: 'panic', header: /Kernel panic - not syncing: Attempted to kill init!/, title: 'kernel panic: Attempted to kill init!' },
  { id: 'panic-on-warn', kind: 'panic', header: /Kernel panic - not syncing: (?:kernel: )?panic_on_warn set/, title: 'kernel panic: panic_on_warn set', tail: true },
  { id: 'panic-n-tty', kind: 'panic', header: /Kernel panic - not syncing: Couldn't open N_TTY ldisc/, title: "kernel panic: Couldn't open N_TTY ldisc" },
  { id: 'panic-fatal-exc', kind: 'panic', header: /Kernel panic - not syncing: (?:.*: )?Fatal exception/, title: 'kernel panic: Fatal exception', tail: true },
  // kernel/hung_task.c check_hung_task(): the panic after the "INFO: task ... blocked" report.
  // The panics of the two arm64 reports above, printed after their header and registers: a log
  // that starts at one lost them.
  { id: 'panic-serror', kind: 'panic', header: /Kernel panic - not syncing: Asynchronous SError Interrupt/, title: 'SError Interrupt in {FUNC}', frame: [[{ at: TRACE_HEADER }, { stack: true }]], skipExtra: SERROR_PATH, tail: true },
  { id: 'panic-unhandled', kind: 'panic', header: /Kernel panic - not syncing: Unhandled exception$/, title: 'Unhandled exception in {FUNC}', frame: [[{ at: TRACE_HEADER }, { stack: true }]], skipExtra: SERROR_PATH, tail: true },
  { id: 'panic-hung-task', kind: 'panic', header: /Kernel panic - not syncing: hung_task: blocked tasks/, title: 'kernel panic: hung_task: blocked tasks', tail: true },
  { id: 'panic', kind: 'panic', header: /Kernel panic - not syncing: (.*?)(?:\s*\.\.\.)?\s*$/, title: 'kernel panic: {1}' },
];

/** Cheap pre-filter: a line that can start a report contains one of these. */
export const HEADER_HINT = /BUG|WARNING|INFO:|KASAN|KMSAN|KCSAN|UBSAN|panic|PANIC|fault|error:|Oops|kprobe|LOCKUP|unregister_netdevice|VFS:|Internal error|Unable to handle|SError Interrupt|Unhandled |Bad mode in |stack segment|stack overflow|Booting the kernel|Decompressing Linux/;

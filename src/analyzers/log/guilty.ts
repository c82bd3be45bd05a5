// Finding the guilty frame: run a format's frame recipes over the report's lines, skipping the
// frames listed in skip.ts.
import { SKIP_ALWAYS, SKIP_HANG, SKIP_LOCKS, SKIP_STALL, SKIP_SUBSTRING } from './skip.js';
import type { FrameStep, OopsFormat, SkipSet } from './formats.js';
import { matchCrashAddress } from './arch.js';
import { baseFunctionName, parseFrameLine, stripDot } from './frames.js';

interface Matcher { test(name: string): boolean }

/**
 * A skip list as a matcher of whole names, the same as `^(?:entry|entry|...)$`: plain names go in
 * a Set, `name.*` entries become prefixes, and only the real patterns are left to one regular
 * expression. V8 compiles a regular expression on its first use, and the ~540-alternative one of
 * SKIP_ALWAYS cost ~4 ms there: every console log and dump analysis paid it.
 */
function compileSkip(list: readonly string[]): Matcher {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const patterns: string[] = [];
  for (const e of list) {
    if (/^\w+$/.test(e)) exact.add(e);
    else if (/^\w+\.\*$/.test(e)) prefixes.push(e.slice(0, -2));
    else patterns.push(e);
  }
  const re = patterns.length ? new RegExp(`^(?:${patterns.join('|')})$`) : null;
  // `.` does not match line terminators: a prefix entry never matched a name holding one.
  const LINE_END = /[\n\r\u2028\u2029]/;
  return {
    test: (name) => exact.has(name) || (prefixes.some((p) => name.startsWith(p)) && !LINE_END.test(name)) || (re !== null && re.test(name)),
  };
}

const SKIP_RE: Record<SkipSet, Matcher> = {
  always: compileSkip(SKIP_ALWAYS),
  stall: compileSkip(SKIP_STALL),
  hang: compileSkip(SKIP_HANG),
};
const SKIP_SUB = new RegExp(SKIP_SUBSTRING.join('|'));
const SKIP_LOCKS_RE = compileSkip(SKIP_LOCKS);
const extraCache = new Map<string, Matcher>();

class Skipper {
  private readonly res: Matcher[];
  constructor(fmt: OopsFormat) {
    this.res = [SKIP_RE.always, SKIP_SUB];
    for (const s of fmt.skip ?? []) this.res.push(SKIP_RE[s]);
    if (fmt.skipExtra?.length) {
      let re = extraCache.get(fmt.id);
      if (!re) { re = compileSkip(fmt.skipExtra); extraCache.set(fmt.id, re); }
      this.res.push(re);
    }
  }
  /**
   * Not a lock site worth naming: reporting, tracing and sanitizer code (the substring list) and
   * the lock primitives themselves (`down_trylock` takes a lock for its caller); library helpers
   * that take their own locks (`sysfs_remove_dir`, `flush_work`) are.
   */
  notLockSite(name: string): boolean {
    const b = baseFunctionName(name);
    return SKIP_SUB.test(b) || SKIP_LOCKS_RE.test(b);
  }
  skip(name: string): boolean {
    const b = baseFunctionName(name);
    return this.res.some((r) => r.test(b));
  }
}

/** A line that ends a backtrace. */
export const STACK_END = /^\s*(?:Allocated by task|Freed by task|The buggy address|Memory state around|Last potentially related|Uninit was (?:created|stored)|Local variable|Bytes b4|Object at [0-9a-f]|Redzone|Padding|Disabling lock debugging|---\[ end|Kernel Offset|Modules linked in|={20,}|-{20,}|Showing all locks|\d+ locks? held by|no locks held by|NMI backtrace for cpu|Sending NMI|Kernel panic - not syncing|irq event stamp|other info that might help|Reported by Kernel Concurrency|Dumping ftrace|CPU: \d+ PID: \d+|Hardware name:|hardirqs last|softirqs last|The task is|Mem-Info|Task dump for CPU|rcu: |INFO: |BUG: |WARNING: )/;

/** A stack frame with a function name that counts (reliable). */
function frameFunc(line: string): string | null {
  const f = parseFrameLine(line);
  if (!f || !f.function || f.unreliable) return null;
  return f.function;
}

// x86 show_ip()/show_fault_oops() with an address kallsyms does not know: `RIP: 0010:0xffff...`, `IP: 0xffff...`
// (the `IP:` line printed by `BUG: unable to handle` is followed by the RIP line of the same fault).
// Only a kernel-mode one (`0010:` or no segment): `RIP: 0033:0x459129` is the user registers a
// syscall's trace ends with.
const ADDR_ONLY_CRASH = /^\s*(?:RIP|EIP|NIP|pc|epc)\s*:\s*(?:0010:|0060:)?(?:0x)?[0-9a-f]+\s*$/;

const RIP_ANY = /^\s*(?:RIP|IP|EIP|NIP|pc|PC|epc)\s*(?::|is at)\s*(?:[0-9a-f]{4}:)?(?:\s*\[<[0-9a-f]+>\])*\s*([A-Za-z_$][\w.$]*)\+0x[0-9a-f]+/;

// Frames that dispatch work (syscall entry, softirq, workqueue, timers, file and socket
// operations, ...): in a stall the representative function is the one just above the first of
// these. Matched anywhere in the name (`kvm_vm_compat_ioctl` is a `compat_ioctl` dispatcher), so
// a syscall is named by its `sys_` entry and an ioctl by the device's handler.
const STALL_ANCHORS = new RegExp([
  'process_one_work', 'do_syscall_', 'do_fast_syscall_', 'sysenter_dispatch', 'tracesys_phase2', 'el0_svc_handler',
  'invoke_syscall', 'ret_fast_syscall', 'netif_receive_skb', 'do_softirq', 'call_timer_fn', '_run_timers', 'run_timer_softirq',
  'hrtimer_run', 'run_ksoftirqd', 'smpboot_thread_fn', '^kthread$', 'start_secondary', 'cpu_startup_entry', 'ret_from_fork',
  'vfs_write', 'vfs_read', 'vfs_iter_read', 'vfs_iter_write', 'do_iter_read', 'do_iter_write', 'call_read_iter', 'call_write_iter',
  'new_sync_read', 'new_sync_write', 'vfs_ioctl', 'ksys_ioctl', 'compat_ioctl', 'compat_sys_ioctl', 'blkdev_driver_ioctl',
  'blkdev_ioctl', 'do_iter_readv_writev', '^call_mmap', 'mmap_region', 'do_mmap', 'do_dentry_open', 'vfs_open',
  '^sock_sendmsg', '^sock_recvmsg', '^sock_release', '^__sock_release', '^setsockopt$', 'kernel_setsockopt', 'sock_common_setsockopt',
  '^listen$', 'kernel_listen', '^__sys_(?:setsockopt|listen|accept4?)$', 'sk_common_release', '^sock_mmap', '^accept$', 'kernel_accept', '^sock_do_ioctl', '^sock_ioctl',
  '^compat_sock_ioctl', '^nfnetlink_rcv_msg', '^rtnetlink_rcv_msg', '^netlink_dump', '^(?:sys_)?(?:socketpair|connect|ioctl)',
  '__do_fault', 'do_page_fault', '^page_fault$', '__fput', 'task_work_run', 'exit_to_usermode', 'smp_call_function',
  'tasklet_action', 'tasklet_hi_action', 'entry_SYSCALL', 'entry_SYSENTER', 'system_call_fastpath', 'el0_svc',
].join('|'));

function stallPick(names: string[], skipper: Skipper): string | null {
  let prev: string | null = null;
  for (const n of names) {
    const b = baseFunctionName(n);
    if (/^smp_call_function/.test(b)) return 'smp_call_function';
    if (STALL_ANCHORS.test(b)) {
      // The first frame is itself a dispatcher: it names the stall.
      return prev ?? n;
    }
    if (skipper.skip(n)) continue;
    prev = n;
  }
  return null;
}

// Hung tasks: a task waiting for rtnl_lock or an RCU grace period is a victim of whoever holds
// it, so those waiting points name the hang themselves (all grace-period waits as one).
const HANG_ANCHORS: readonly [RegExp, string | null][] = [
  [/rtnl_lock/, null],
  [/synchronize_(?:rcu|srcu|net|sched)/, 'synchronize_rcu'],
];
// Past the anchors, frames whose name says they wait, sleep or lock are not the hang's cause.
const HANG_WAITS = /sched|_lock|_slowlock|down|rwsem|completion|kthread|wait|synchronize|context_switch|__switch_to|cancel_delayed_work|rcu_barrier/;

function hangPick(names: string[], skipper: Skipper): string | null {
  for (const n of names) {
    const b = baseFunctionName(n);
    for (const [re, as] of HANG_ANCHORS) if (re.test(b)) return as ?? n;
  }
  for (const n of names) {
    if (skipper.skip(n) || HANG_WAITS.test(baseFunctionName(n))) continue;
    return n;
  }
  return null;
}

/** Reliable frame names of the backtrace that starts at `from` (up to where it ends). */
function stackNames(lines: string[], from: number): string[] {
  const names: string[] = [];
  let started = false;
  let junk = 0;
  for (let i = from; i < lines.length && names.length < 200; i++) {
    const t = lines[i];
    const f = parseFrameLine(t);
    if (f) {
      started = true;
      junk = 0;
      if (f.function && !f.unreliable) names.push(f.function);
      continue;
    }
    if (started && (STACK_END.test(t) || ++junk > 40)) break;
  }
  return names;
}

export interface GuiltyInput {
  fmt: OopsFormat;
  header: RegExpExecArray;
  /** Normalised lines of the report (header first). */
  lines: string[];
}

/** Run the format's recipes; returns the raw function name (not yet normalised) or null. */
export function findGuilty(inp: GuiltyInput): string | null {
  const { fmt, header, lines } = inp;
  if (!fmt.frame) return null;
  const skipper = new Skipper(fmt);
  for (const recipe of fmt.frame) {
    const r = runRecipe(recipe, header, lines, skipper);
    if (r) return r;
  }
  return null;
}

const SECTION_END = /^\s*(?:NMI backtrace for cpu|Sending NMI|Kernel panic - not syncing|Showing all locks|---\[ end trace)/;

function findLine(lines: string[], from: number, re: RegExp, bounded = false): { idx: number; m: RegExpExecArray } | null {
  for (let i = from; i < lines.length; i++) {
    if (bounded && i > from && SECTION_END.test(lines[i])) return null;
    const m = re.exec(lines[i]);
    if (m) return { idx: i, m };
  }
  return null;
}

function runRecipe(steps: FrameStep[], header: RegExpExecArray, lines: string[], skipper: Skipper): string | null {
  let cur = 1; // lines[0] is the header
  for (const st of steps) {
    if ('at' in st) {
      const f = findLine(lines, cur, st.at);
      if (!f) return null;
      cur = f.idx + 1;
    } else if ('maybe' in st) {
      const f = findLine(lines, cur, st.maybe);
      if (f) cur = f.idx + 1;
    } else if ('fn' in st) {
      const f = findLine(lines, cur, st.fn, true);
      if (f) {
        cur = f.idx + 1;
        const name = f.m[1];
        if (name && (st.any ? !skipper.notLockSite(name) : !skipper.skip(name))) return name;
      }
    } else if ('crash' in st) {
      for (let i = cur; i < lines.length; i++) {
        if (i > cur && SECTION_END.test(lines[i])) break;
        // A crash address the kernel could not symbolise (`RIP: 0010:0xffffffffffffffff`, a jump
        // to a bad pointer) is still the report's crash address: the stack after it names the
        // caller, and a later RIP line belongs to another context.
        if (ADDR_ONLY_CRASH.test(lines[i])) { cur = i + 1; break; }
        // fault injection's own stack printed before the report's registers: not this report's
        const fi = parseFrameLine(lines[i]);
        if (fi?.function && FAULT_INJECTION_FRAME.test(fi.function)) return null;
        const ca = matchCrashAddress(lines[i]);
        if (!ca || ca.row.summary) continue;
        cur = i + 1;
        const name = stripDot(ca.symbol.replace(/\+?0x[0-9a-f]+\/0x[0-9a-f]+.*$/, ''));
        if (name && !skipper.skip(name)) return name;
        break;
      }
    } else if ('hdr' in st) {
      const name = header[st.hdr];
      if (name && !skipper.skip(name)) return name;
    } else if ('stack' in st) {
      const r = scanStack(lines, cur, skipper);
      if (r) return r;
      return null;
    } else if ('hang' in st) {
      return hangPick(stackNames(lines, cur), skipper);
    } else if ('stall' in st) {
      const names: string[] = [];
      let started = false;
      for (let i = cur; i < lines.length && names.length < 200; i++) {
        const t = lines[i];
        const rip = RIP_ANY.exec(t);
        if (rip) { names.push(rip[1]); started = true; continue; }
        const ca = matchCrashAddress(t);
        if (ca && !ca.row.summary) { names.push(stripDot(ca.symbol.replace(/\+?0x[0-9a-f]+\/0x[0-9a-f]+.*$/, ''))); started = true; continue; }
        const fn = frameFunc(t);
        if (fn) { names.push(fn); started = true; continue; }
        if (started && STACK_END.test(t)) break;
      }
      return stallPick(names, skipper) ?? names.find((n) => !skipper.skip(n)) ?? null;
    }
  }
  return null;
}

// arm: `[<c0101234>] (callee) from [<c0105678>] (caller+0x1/0x2)`: the caller is where the
// return address points, so it is the frame that counts.
const ARM_FROM = /^\s*\[<[0-9a-f]+>\]\s+\([^)]*\)\s+from\s+\[<([0-9a-f]+)>\]\s+\(([A-Za-z_$][\w.$]*?)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)?\)/;

const FAULT_INJECTION_FRAME = /^should_fail(?:slab|_alloc_page|_usercopy|_ex)?(?:\.|$)/;

function scanStack(lines: string[], from: number, skipper: Skipper): string | null {
  let started = false;
  let junk = 0;
  for (let i = from; i < lines.length; i++) {
    const t = lines[i];
    const arm = ARM_FROM.exec(t);
    if (arm) {
      started = true;
      junk = 0;
      if (!skipper.skip(arm[2])) return arm[2];
      continue;
    }
    const f = parseFrameLine(t);
    if (f && f.function) {
      started = true;
      junk = 0;
      if (f.unreliable) continue;
      // lib/fault-inject.c fail_dump() prints "FAULT_INJECTION: forcing a failure." and then its own
      // dump_stack(), through should_fail(): such a stack is the injected failure's, not the report's.
      if (FAULT_INJECTION_FRAME.test(f.function)) return null;
      if (!skipper.skip(f.function)) return f.function;
      continue;
    }
    if (f) { started = true; continue; } // address-only frame
    if (started) {
      if (STACK_END.test(t)) return null;
      if (++junk > 40) return null;
    }
  }
  return null;
}

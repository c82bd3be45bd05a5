// Where each architecture prints the crash address of an oops. One row per line shape, data
// rather than branches in the parser (the shape of drgn's per-architecture records): the parser
// asks the table, never "is this s390?".
//
// `fn` is the capture group holding `name+0xOFF/0xSIZE` (possibly with a ppc64 ELFv1 leading dot
// and a `[module]`); rows without it give an address line only (the function comes from another
// row). `summary` rows repeat the crash address after the trace (die() prints them last), so they
// are never frames of the trace.

import type { Frame, FrameContext } from '../report-model.js';

export interface CrashAddressRow {
  arch: string;
  /** Matched against one normalised line. */
  re: RegExp;
  /** Group of `re` holding the symbol token; absent: an address-only line. */
  fn?: number;
  /** Printed after the trace as a one-line summary of the crash address. */
  summary?: boolean;
  /** The kernel source that prints the line. */
  source: string;
}

const SYM = String.raw`(\.?[A-Za-z_$][\w.$]*?\+?0x[0-9a-f]+\/0x[0-9a-f]+(?:\s+\[[\w.-]+\])?)`;

const CRASH_ADDRESS: readonly CrashAddressRow[] = [
  // x86_64 since 4.x: `RIP: 0010:func+0x39/0x50`; before: `RIP: 0010:[<ffffffff81>]  [<ffffffff81>] func+0x..`.
  { arch: 'x86_64', re: new RegExp(String.raw`^\s*RIP:\s*(?:[0-9a-f]{4}:)?(?:\s*\[<[0-9a-f]+>\])*\s*` + SYM), fn: 1, source: 'arch/x86/kernel/dumpstack.c show_ip(); arch/x86/kernel/process_64.c __show_regs() before 4.9' },
  // Old x86_64 die(): `RIP  [<ffffffff81>] func+0x../0x..` then ` RSP <...>`.
  { arch: 'x86_64', re: new RegExp(String.raw`^\s*RIP\s+\[<[0-9a-f]+>\]\s*` + SYM), fn: 1, summary: true, source: 'arch/x86/kernel/dumpstack_64.c die() (2.6.x-3.x): "RIP " printk_address() " RSP <%016lx>"' },
  // i686 4.x: `EIP: func+0x../0x..`; older `EIP is at func+0x..` after `EIP: 0060:[<c04ac80f>] EFLAGS: ... CPU: 1`.
  { arch: 'i686', re: new RegExp(String.raw`^\s*EIP: \[<[0-9a-f]+>\]\s*` + SYM + String.raw`.*\bSS:ESP\b`), fn: 1, summary: true, source: 'arch/x86/kernel/dumpstack_32.c die(): "EIP: [<%08lx>] " print_symbol() " SS:ESP %04x:%08lx"' },
  { arch: 'i686', re: new RegExp(String.raw`^\s*EIP(?::| is at)\s*(?:[0-9a-f]{4}:)?(?:\[<[0-9a-f]+>\]\s*)?` + SYM), fn: 1, source: 'arch/x86/kernel/process_32.c __show_regs(): "EIP is at %pS" (before 4.9), show_ip() "EIP: %pS" after' },
  // x86 page fault: `IP: [<ffffffff81>] func+0x..` (before 4.14) or `IP: func+0x..`.
  { arch: 'x86', re: new RegExp(String.raw`^\s*IP:\s*(?:\[<[0-9a-f]+>\]\s*)?` + SYM), fn: 1, source: 'arch/x86/mm/fault.c show_fault_oops(): "IP:" printk_address()' },
  // arm (and arm64 before 4.16): `PC is at func+0x../0x..`.
  { arch: 'arm', re: new RegExp(String.raw`^\s*PC is at\s+` + SYM), fn: 1, source: 'arch/arm/kernel/process.c __show_regs(): "PC is at %pS"' },
  // arm64 since 4.16: `pc : func+0x../0x..`. arm's `pc : [<c0333330>]    lr : [<...>]` is a register line (no symbol).
  { arch: 'arm64', re: new RegExp(String.raw`^\s*pc\s*:\s*` + SYM), fn: 1, source: 'arch/arm64/kernel/process.c __show_regs(): "pc : %pS"' },
  // powerpc: `NIP [c000000000048f74] .func+0x../0x..` (ELFv1 dot symbols on ppc64 big endian).
  { arch: 'powerpc', re: new RegExp(String.raw`^\s*NIP\s*\[[0-9a-f]+\]\s*` + SYM), fn: 1, source: 'arch/powerpc/kernel/process.c show_regs(): "NIP [%016lx] %pS"' },
  // s390: `Krnl PSW : 0704c00180000000 00000000735d720c (__alloc_pages_nodemask+0x25c/0x320)`.
  { arch: 's390', re: new RegExp(String.raw`^\s*Krnl PSW\s*:\s*[0-9a-f]+\s+[0-9a-f]+\s*\(` + SYM + String.raw`\)`), fn: 1, source: 'arch/s390/kernel/dumpstack.c show_registers() (traps.c before 4.x): "%s PSW : %px %px" " (%pSR)"' },
  // riscv: `epc : func+0x../0x..`; the following `epc : ffffffff80004922 ra : ...` line is a register line.
  { arch: 'riscv', re: new RegExp(String.raw`^\s*epc\s*:\s*` + SYM), fn: 1, source: 'arch/riscv/kernel/process.c show_regs(): "epc : %pS"' },
];

/** A crash address found on a line: its symbol token and whether it is die()'s summary line. */
export function matchCrashAddress(line: string): { row: CrashAddressRow; symbol: string } | null {
  for (const row of CRASH_ADDRESS) {
    const m = row.re.exec(line);
    if (m && row.fn !== undefined && m[row.fn]) return { row, symbol: m[row.fn] };
  }
  return null;
}

/**
 * Lines that hold registers only: `pc : [<c0333330>]    lr : [<c0333200>]    psr: 80070113` (arm
 * __show_regs), `epc : ffffffff80004922 ra : ffffffff8000496a sp : ...` (riscv), `NIP: c0000000...
 * LR: ...` (powerpc), `Krnl GPRS:` and its continuation lines (s390). They look like frames to a
 * frame regexp (an address, then a word), so they are recognised first.
 */
const REG_ONLY = /^\s*(?:(?:[A-Za-z][\w]{0,7}|Krnl GPRS|User PSW|Krnl PSW)\s*:\s*(?:\[<)?[0-9a-f]{4,16}(?:>\])?(?:\s+[0-9a-f]{8,16})*\s*)+$/;
export function isRegisterOnlyLine(line: string): boolean {
  return REG_ONLY.test(line);
}

// ---- arm64: the context of each frame, from the frames themselves ----
//
// arm64 prints no `<IRQ>`/`<NMI>` markers (arch/arm64/kernel/stacktrace.c dump_backtrace() prints
// one `%pS` per frame, innermost first; since 6.13 dump_backtrace_entry() adds `(C)`, `(P)` for
// where the unwinder found it). What tells the context is the entry code the trace passes
// through, printed like any other frame. Reading the trace from its outermost frame inwards, each
// row below sets the context of its own frame and of every frame printed above it, until another
// row changes it again (an interrupt taken in a softirq, an SError taken in an interrupt).
//
// A synchronous exception (el1h_64_sync: a fault, a BRK for BUG()/WARN() or a kprobe, el1_dbg)
// does not change the context: the handler runs in the context it interrupted, so it has no row.
// (arch/arm64/kernel/entry-common.c arm64_enter_el1_dbg() enters RCU's NMI mode, ct_nmi_enter(),
// but not __nmi_enter(): in_nmi() stays false there.)

export type Arm64ContextRole = 'task' | 'IRQ' | 'SOFTIRQ' | 'NMI' | 'irq-stack';

export interface Arm64ContextRow {
  role: Arm64ContextRole;
  /** Matched against the whole base function name (no `.constprop.0`/`.isra.0` suffix). */
  re: RegExp;
  /** The kernel source that makes the frame mean this. */
  source: string;
}

export const ARM64_CONTEXT: readonly Arm64ContextRow[] = [
  // Where a task's stack starts: a syscall or exception from user space, a kernel thread, the
  // idle task (the boot CPU's from start_kernel(), the others' from secondary_start_kernel()).
  { role: 'task', re: /^(?:el0t_(?:64|32)_(?:sync|error)(?:_handler)?|el0_(?:sync|svc|da|ia|undef|fpsimd_acc|sve_acc|sys|sp|pc|bti|dbg|brk64|inv|svc_compat|sync_compat)\w*|do_el0_svc\w*|ret_from_fork|kthread|__primary_switched|start_kernel|rest_init|secondary_start_kernel|cpu_startup_entry|do_idle)$/, source: 'arch/arm64/kernel/entry-common.c el0t_64_sync_handler(); entry.S ret_from_fork; head.S __primary_switched; smp.c secondary_start_kernel()' },
  // Hard interrupts: the IRQ/FIQ vectors from EL1 and EL0, their C handlers, the root irqchip
  // handler, and IPIs. irq_enter_rcu() runs in __el1_irq()/__el0_irq_common() before
  // do_interrupt_handler(); older kernels (before 5.14) entered through entry.S el1_irq/el0_irq
  // (el0_irq_naked) and kernel/irq/irqdesc.c __handle_domain_irq(), which called irq_enter().
  { role: 'IRQ', re: /^(?:el1h_64_(?:irq|fiq)(?:_handler)?|el0t_(?:64|32)_(?:irq|fiq)(?:_handler)?|el1_interrupt|el0_interrupt|__el1_irq|__el0_irq_common|el1_irq|el0_irq|el0_irq_naked|el1_fiq|el0_fiq|irq_handler|__handle_domain_irq|handle_domain_irq|do_interrupt_handler|handle_arch_irq|generic_handle_arch_irq|gic_handle_irq|handle_IPI|do_handle_IPI|ipi_handler)$/, source: 'arch/arm64/kernel/entry-common.c el1_interrupt(), __el1_irq() irq_enter_rcu(); arch/arm64/kernel/irq.c do_interrupt_handler(); drivers/irqchip/irq-gic*.c gic_handle_irq(); arch/arm64/kernel/smp.c ipi_handler()' },
  // call_on_irq_stack() switches to the per-CPU IRQ stack for do_interrupt_handler() and for
  // do_softirq_own_stack(): the frames above it are hard IRQ unless a softirq entry follows.
  { role: 'irq-stack', re: /^call_on_irq_stack$/, source: 'arch/arm64/kernel/entry.S call_on_irq_stack; arch/arm64/kernel/irq.c do_softirq_own_stack()' },
  // Softirqs: __do_softirq()/handle_softirqs() (6.9+) and arm64's ____do_softirq() trampoline.
  { role: 'SOFTIRQ', re: /^(?:handle_softirqs|__do_softirq|____do_softirq)$/, source: 'kernel/softirq.c handle_softirqs(); arch/arm64/kernel/irq.c ____do_softirq()' },
  // NMI-like entries: an SError from EL1 or EL0 runs its handler inside arm64_enter_nmi() /
  // irqentry_nmi_enter() (in_nmi() true), as do SDEI events (__sdei_handler(): nmi_enter()).
  { role: 'NMI', re: /^(?:el1h_64_error(?:_handler)?|el0t_(?:64|32)_error(?:_handler)?|el1_error|el0_error|__sdei_handler|do_sdei_event|__sdei_asm_handler)$/, source: 'arch/arm64/kernel/entry-common.c el1h_64_error_handler() arm64_enter_nmi(); arch/arm64/kernel/sdei.c __sdei_handler() nmi_enter()' },
];

/** Frames only arm64 kernels have: a report without a `pc :` line is still known to be arm64. */
export const ARM64_FRAME = /^(?:el[01]t?h?_64_\w+|el1h_\w+|el0t_\w+|el1_interrupt|el0_svc\w*|do_el0_svc\w*|__arm64_sys_\w+|__primary_switched|call_on_irq_stack|arm64_serror_panic|el1_abort|el1_dbg|el1_undef)$/;

function arm64Role(name: string): Arm64ContextRole | null {
  for (const row of ARM64_CONTEXT) if (row.re.test(name)) return row.role;
  return null;
}

/**
 * preempt_count as a report prints it (kernel/sched/core.c __might_resched() "preempt_count: %x",
 * __schedule_bug() "scheduling while atomic: %s/%d/0x%08x"): the context of the frames nearest the
 * report (include/linux/preempt.h: SOFTIRQ_OFFSET 0x100 is set while a softirq is served, the
 * HARDIRQ bits are 16-19, the NMI bits 20-23).
 */
export function contextFromPreemptCount(count: number): FrameContext {
  if ((count >> 20) & 0xf) return 'NMI';
  if ((count >> 16) & 0xf) return 'IRQ';
  if ((count >> 8) & 1) return 'SOFTIRQ';
  return 'TASK';
}

/**
 * Assign each frame of one arm64 trace (innermost first, as printed) its context: read from the
 * outermost frame inwards through ARM64_CONTEXT. Frames nothing speaks for stay "unknown", except
 * the innermost run, which `hint` (from the report's header, e.g. its preempt_count) may name.
 */
export function assignArm64Contexts(frames: Frame[], base: (name: string) => string, hint: FrameContext | null): void {
  let cur: FrameContext = 'unknown';
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i];
    const role = f.function ? arm64Role(base(f.function)) : null;
    if (role === 'task') {
      if (cur === 'unknown') cur = 'TASK';
    } else if (role === 'irq-stack') {
      const inner = frames[i - 1]?.function;
      cur = inner && arm64Role(base(inner)) === 'SOFTIRQ' ? 'SOFTIRQ' : 'IRQ';
    } else if (role) {
      cur = role;
    }
    f.context = cur;
  }
  if (hint) {
    for (const f of frames) {
      if (f.context !== 'unknown') break;
      f.context = hint;
    }
  }
}

// The crash-report model shared by the console-log parser, the vmcore analysis and the hazard
// rules. Field names here are the JSON output's field names: keep them stable.

/** Where a frame was executing, from the trace's `<NMI>`/`<IRQ>`/`<SOFTIRQ>`/`<TASK>` markers. */
export type FrameContext = 'NMI' | 'IRQ' | 'SOFTIRQ' | 'TASK' | 'EOE' | 'unknown';

export interface Frame {
  /** Function name, e.g. `kmem_cache_alloc`; null for an address-only frame (`? 0xffffffffc0572011`). */
  function: string | null;
  /** Offset into the function (bytes), when printed. */
  offset: number | null;
  /** Size of the function (bytes), when printed. */
  size: number | null;
  /** Module in brackets after the symbol, e.g. `hazard`; null for core kernel. */
  module: string | null;
  /** Printed with a leading `?`: the unwinder was not sure this is a real return address. */
  unreliable: boolean;
  /** Raw address for address-only frames or vmcore frames (hex string `0x...`). */
  address: string | null;
  /** Trace section this frame sits in. */
  context: FrameContext;
  /** Set on the first frame after an exception `RIP:` block inside the trace: the interrupted RIP. */
  exceptionRip?: boolean;
}

export interface Registers {
  [name: string]: string; // e.g. RAX: "ffffffffa30c6794" (hex, no 0x)
}

export interface DecodedInstruction {
  address: number; // byte offset within the Code: bytes
  bytes: string; // hex
  text: string; // e.g. "ud2"
  faulting: boolean; // the byte marked <..> in the Code: line
}

export interface CodeDecode {
  raw: string; // the Code: line as printed
  instructions: DecodedInstruction[];
  faultingInstruction: string | null;
  /** true when the faulting instruction is `ud2` (0f 0b): BUG()/WARN(). */
  isUd2: boolean;
  note?: string;
}

/** An exception RIP block inside a trace (the interrupted context, e.g. the int3 site). */
export interface ExceptionBlock {
  rip: Frame | null;
  ripRaw: string;
  registers: Registers;
  code: CodeDecode | null;
  /** index in `frames` where the interrupted context's frames begin. */
  frameIndex: number;
}

export type ReportKind =
  | 'WARNING'
  | 'BUG'
  | 'Oops'
  | 'general protection fault'
  | 'KASAN'
  | 'KMSAN'
  | 'KCSAN'
  | 'UBSAN'
  | 'lockdep'
  | 'panic'
  | 'RCU stall'
  | 'hung task'
  | 'soft lockup'
  | 'hard lockup'
  | 'kprobe'
  | 'other';

export interface CrashReport {
  kind: ReportKind;
  /** syzkaller-style title: `WARNING in irq_fpu_usable`. */
  title: string;
  /** The first frame that is not reporting/allocator/plumbing. */
  guiltyFrame: string | null;
  /** First line of the report as printed (sanitised). */
  headline: string;
  cpu: number | null;
  pid: number | null;
  comm: string | null;
  tainted: string | null;
  kernelRelease: string | null;
  hardware: string | null;
  /** `arch/x86/kernel/fpu/core.c:60` for WARN/BUG. */
  location: string | null;
  rip: Frame | null;
  ripRaw: string | null;
  registers: Registers;
  code: CodeDecode | null;
  frames: Frame[];
  exceptions: ExceptionBlock[];
  modules: string[];
  panic: string | null;
  panicOnWarn: boolean;
  /** Line range in the (normalised) input. */
  startLine: number;
  endLine: number;
  /**
   * The report cannot be trusted as printed (syzkaller's notion): no guilty frame could be found,
   * lines of another report or CPU are interleaved into its trace, or the trace is cut short.
   */
  corrupted: boolean;
  /** Why `corrupted` is set, e.g. `no guilty frame in the call trace`; absent when not corrupted. */
  corruptedReason?: string;
  /** Architecture whose crash-address line was read (`x86_64`, `i686`, `arm`, `arm64`, `powerpc`, `s390`, `riscv`). */
  arch?: string;
  /**
   * Every stack printed in the report, in order, with its label (`call trace`, `state was
   * registered at`, `dependency #1`, `allocated`, `freed`, ...). `frames` is the one marked primary.
   */
  stacks?: LabelledStack[];
  /** A `crash` utility backtrace (`crash> bt`) found in the log and attached to this report. */
  crashBacktrace?: CrashBacktrace;
}

/** One stack of a report that prints several (lockdep, KASAN, SLUB object tracking). */
export interface LabelledStack {
  label: string;
  /** The stack the title and `frames` come from. */
  primary: boolean;
  frames: Frame[];
}

/** A backtrace printed by the `crash` utility's `bt` command. */
export interface CrashBacktrace {
  pid: number | null;
  cpu: number | null;
  comm: string | null;
  frames: Frame[];
  exceptions: ExceptionBlock[];
}

export interface LogAnalysis {
  reports: CrashReport[];
  /** `Kernel panic - not syncing: ...` lines seen anywhere in the log. */
  panics: string[];
  kernelRelease: string | null;
  lines: number;
  /** Something the parser wants the user to know (truncated input, mangled log repaired, ...). */
  notes: string[];
}

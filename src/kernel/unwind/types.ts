// The small interfaces the unwinder needs from the rest of the kernel layer. They are kept here so
// the unwinder can be tested on synthetic memory and plugged into src/kernel's reader, symbols,
// BTF and per-CPU code through one adapter (see kernel-adapter.ts).

/** Kernel virtual memory. Both methods throw a DumpReadError when the address is not readable in
 * the dump; readers of holes catch that class only, so any other error is a bug that goes up. */
export interface UnwindMemory {
  readU64(vaddr: bigint): bigint;
  read(vaddr: bigint, len: number): Buffer;
}

export interface SymbolInfo {
  name: string;
  /** Start address of the symbol. */
  address: bigint;
  /** addr - address */
  offset: bigint;
  /** Size of the symbol (distance to the next symbol when the table has no sizes); 0n if unknown. */
  size: bigint;
  /** Module name for module symbols; undefined for vmlinux. */
  module?: string;
}

/** Kernel (vmlinux) symbols, e.g. kallsyms read from the dump. */
export interface UnwindSymbols {
  /** Address of a global or static symbol (KASLR applied); undefined when unknown. */
  lookup(name: string): bigint | undefined;
  /** Nearest preceding text/data symbol; null when the address is not in vmlinux. */
  symbolize(addr: bigint): SymbolInfo | null;
}

/** Struct layouts (from BTF). `member` may be a dotted path through embedded structs. */
export interface UnwindTypes {
  offsetOf(struct: string, member: string): number | undefined;
  sizeOf(struct: string): number | undefined;
}

/** NT_PRSTATUS-style registers by name (either `ip` or `rip` spellings are accepted). */
export type RegisterSet = Record<string, bigint>;

export interface UnwindCpuInput {
  cpu: number;
  /** Registers from the CPU's NT_PRSTATUS note (kdump: crash_save_cpu; QEMU: live state). */
  regs: RegisterSet;
  /** Address of the CPU's current task_struct (per-CPU current_task), when known. */
  task?: bigint;
  /** Per-CPU area base (__per_cpu_offset[cpu]) for reading hardirq_stack_ptr etc. */
  perCpuOffset?: bigint;
}

export type StackKind =
  | 'task'
  | 'irq'
  | 'nmi'
  | 'exception:#DF'
  | 'exception:#DB'
  | 'exception:#MC'
  | 'exception:#VC'
  | 'exception:#VC2'
  | 'exception:overflow'
  | 'exception:sdei-normal'
  | 'exception:sdei-critical'
  | 'entry'
  | 'unknown';

export interface StackRegion {
  kind: StackKind;
  /** [begin, end) */
  begin: bigint;
  end: bigint;
}

export interface ExceptionInfo {
  /** Symbolised interrupted RIP as crash prints it: `irq_fpu_usable+57`, or `user` style hex. */
  rip: string;
  ripAddress: bigint;
  /** The saved pt_regs (only ip/cs/flags/sp/ss for a partial iret frame), by crash's names. */
  registers: Record<string, bigint>;
  /** Address of the pt_regs on the stack. */
  regsAddress: bigint;
  /** The interrupted context was user mode (cs & 3). */
  userMode: boolean;
  /** Only the hardware iret frame is valid (ORC_TYPE_REGS_PARTIAL). */
  partial: boolean;
  /** e.g. the RIP is in a kprobe's single-step slot. */
  note?: string;
}

export interface Frame {
  index: number;
  /** Stack address as crash prints it in `#N [sp]`: where the frame's return address is stored. */
  sp: bigint;
  pc: bigint;
  function: string;
  offset: bigint;
  size: bigint;
  module?: string;
  /** Exception frame (pt_regs) found just above this frame, printed after the line as crash does. */
  exception?: ExceptionInfo;
  stack: StackKind;
  /** false when the frame came from stack scanning rather than ORC data (or a validated prologue). */
  reliable: boolean;
  /** How the frame was found when not plain ORC ('prologue of X', 'stack scan'), or what the pc is. */
  note?: string;
  /**
   * The function interrupted by the exception printed on the previous frame, listed as a frame of
   * its own the way crash does (after a stack switch, or under asm_exc_int3). The kernel's own
   * oops trace shows it only on its `RIP:` line.
   */
  interrupted?: boolean;
}

/** Which unwinder produced the traces, and why not ORC when it did not. */
export interface UnwinderStatus {
  /**
   * 'orc': vmlinux's ORC tables; 'frame-pointer': a kernel built without ORC; 'stack-scan': ORC
   * unusable; 'frame-record': arm64's AAPCS64 frame records (x29/x30), the way the kernel's own
   * arm64 unwinder walks.
   */
  method: 'orc' | 'frame-pointer' | 'stack-scan' | 'frame-record';
  /** The ORC format applied (ORC_FORMATS), null when none could be chosen. */
  orcFormat: string | null;
  /** What the format was chosen from. */
  formatEvidence: string | null;
  /** Chosen without a known .orc_header hash on a kernel that should have one (6.4+, or a header present). */
  formatFallback: boolean;
  /** Why vmlinux's ORC tables were not used; null when they were. */
  orcUnusable: string | null;
  /** Everything the unwinder could not read or had to guess (ORC format, modules, kprobes, pt_regs). */
  problems: string[];
}

export interface Backtrace {
  /** First, so a reader (and the JSON's first lines) sees which unwinder before the frames. */
  unwinder: UnwinderStatus;
  cpu: number;
  task?: bigint;
  pid?: number;
  comm?: string;
  frames: Frame[];
  /** Why the walk stopped: 'end' (reached the end of the stack / user mode) or an error text. */
  stopped: string;
  /** Set when part of the trace came from the scanning fallback. */
  usedFallback: boolean;
  warnings: string[];
}

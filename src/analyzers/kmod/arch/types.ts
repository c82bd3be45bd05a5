// One record per instruction set lint-kmod reads (in the manner of src/kernel/arch/): how its
// code decodes (control flow, relocations, the register tracker, conditions, stores) and what its
// kernel does when a probe fires (the context handlers run in, and how that is worded). The rest
// of src/analyzers/kmod only asks the record; parseElfModule() picks it from e_machine.
import type { DisasmMode } from '../../../util/disasm.js';
import type { ElfModule, Relocation } from '../elf.js';
import type { Func, GlobalCond, ModInsn, Program, Ref, TrackedValue } from '../program.js';
import type { HandlerContext, HandlerKind } from '../probes.js';
import type { Severity } from '../../unsafe-calls.js';

export type KmodArchName = 'x86_64' | 'arm64';

export type Flow =
  | { kind: 'call'; rel: number | null }
  | { kind: 'jmp'; rel: number | null }
  | { kind: 'jcc'; rel: number }
  | { kind: 'icall' } | { kind: 'ijmp' } | { kind: 'ret' } | { kind: 'stop' } | { kind: 'seq' };

/** A store the decoder understood: where (module data or the function's stack frame) and what. */
export interface DecodedStore {
  dest: { kind: 'data'; shndx: number; offset: number } | { kind: 'stack'; frame: number };
  value: TrackedValue;
}

export interface DirectContext {
  context: HandlerContext;
  mechanism: string;
  why: string;
}

/** What a kprobe's registration tells about it, for the record to describe its context. */
export interface KprobeFacts {
  /** Probed symbol name(s), `a|b`, or null. */
  sym: string | null;
  /** kprobe.addr is set (address known only at run time). */
  addrSet: boolean;
  /** Constant offsets stored or initialised. */
  offsets: number[];
  /** Where kprobe.offset is computed at run time (store sites), empty when constant. */
  runtimeSites: string[];
  /** The module unregisters the probe when KPROBE_FLAG_FTRACE is set. */
  rejectsFtrace: { test: string; unregister: string } | null;
  hasPost: boolean;
}

export interface KmodArch {
  readonly name: KmodArchName;
  /** ELF e_machine. */
  readonly machine: number;
  readonly disasmMode: DisasmMode;
  /** Bytes one undecodable unit takes (x86: 1, A64: one 4-byte word). */
  readonly badSize: number;
  /** The stack pointer's canonical register name. */
  readonly sp: string;
  /** How many instructions the register tracker looks back (A64 needs more: one operation per instruction). */
  readonly trackSteps: number;

  /** Control-flow class of an instruction (rel: signed displacement from the instruction's end). */
  flowOf(i: ModInsn): Flow;
  /** The relocation that gives a direct call's or jump's target, when the linker fills it in. */
  branchReloc(i: ModInsn): Relocation | undefined;
  /** What a relocation at an instruction points at (as the CPU would see it). */
  relocTarget(r: Relocation, i: { secOff: number; size: number }): Ref;
  /** Register carrying argument n (0-based) of a call. */
  argReg(n: number): string;
  /** Whether an instruction may change a register (calls clobber the caller-saved ones). */
  writesReg(i: ModInsn, reg: string): boolean;
  /** Bytes the instruction pushes (+) or pops (-) from the stack. */
  stackEffect(i: ModInsn): number;
  /**
   * One backwards step of Program.track(): the value `reg` gets at instruction j, or null when
   * instruction j does not write it. May call p.track() for the registers it reads.
   */
  trackStep(p: Program, f: Func, j: number, reg: string, steps: number): TrackedValue | null;
  /** The global compared by the code before the conditional branch at k, if any. */
  condAt(p: Program, f: Func, k: number): GlobalCond | null;
  /** Stores at instruction k whose destination can be named. */
  storesAt(p: Program, f: Func, k: number): DecodedStore[];
  /**
   * Code the kernel patches at load or run time (alternatives, static keys): instruction
   * locations `shndx:offset` -> the other target (section offset), or null for "the next
   * instruction". Such an instruction may go either way.
   */
  patchSites?(elf: ElfModule): Map<string, number | null>;

  // ---- what the kernel does on this architecture ----

  /** Whether a kprobe can be ftrace-based here (CONFIG_KPROBES_ON_FTRACE). */
  readonly kprobesOnFtrace: boolean;
  /** Context of a kprobe handler when kprobes are never ftrace-based (kprobesOnFtrace false). */
  kprobeBreakpoint?(facts: KprobeFacts, target: string | null): { context: HandlerContext; mechanism: string; why: string };
  /** Contexts of handlers whose registration says it all (NMI handler, perf overflow, ...). */
  readonly directContext: Partial<Record<HandlerKind, DirectContext>>;
  /** Struct offsets and gfp bits used, for the result's layoutNote (before the version remark). */
  readonly layoutBase: string;
  /** The debug-exception context (a breakpoint kprobe that is not NMI), when the architecture has it. */
  readonly debugException?: {
    /** One sentence: what the context is. */
    context: string;
    /** An allocation with flags that do not sleep, reached from such a handler. */
    allocation: { id: string; severity: Severity; why: (gfpText: string) => string; fix: string };
  };
  /** The seed-fix workaround (cache_random_seq_destroy) on this architecture. */
  readonly seedFix: { mitigates: string; doesNotMitigate: string; otherCallee: (callee: string) => string };
}

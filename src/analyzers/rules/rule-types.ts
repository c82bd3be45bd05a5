// Shape of a hazard rule. Rules are data (rules/table.ts): one entry per hazard, in the manner of
// syzkaller's pkg/report oops tables. The engine (rules/engine.ts) is the only code that reads them.
import type { ReportKind } from '../report-model.js';

/** A set of function-name patterns; `*` at the end means "prefix". */
export interface FrameGroup {
  label: string;
  any: string[];
}

/**
 * - `int3-kprobe`: an x86 int3 kprobe handler (exc_int3 -> irqentry_nmi_enter: in_nmi() true).
 * - `brk-kprobe`: an arm64 BRK kprobe handler (el1_dbg/el1_brk64 -> arm64_enter_el1_dbg: IRQs
 *   masked, RCU told via ct_nmi_enter(), but no __nmi_enter(): in_nmi() false).
 */
export type ContextNeed = 'nmi' | 'atomic' | 'hardirq' | 'int3-kprobe' | 'brk-kprobe';

/** Architectures as CrashReport.arch (log) and the dump's PreemptDecode.arch name them. */
export type RuleArch = 'x86_64' | 'i686' | 'x86' | 'arm' | 'arm64' | 'powerpc' | 's390' | 'riscv';

export interface HazardRule {
  id: string;
  title: string;
  /** Kernel versions where the hazard exists, in words and as a check. */
  kernels: { text: string; min?: [number, number]; max?: [number, number] };
  /**
   * Architectures the hazard's mechanism exists on (omit: any). A report whose architecture is
   * known (the dump's, else the log's crash-address line or arm64 entry frames) and not listed
   * is not matched. A report of unknown architecture counts as x86 (every report was taken for
   * one before rules had an architecture), so only rules that list x86_64 match it.
   */
  arch?: RuleArch[];
  match: {
    /** Any of these report kinds (omit: any kind). */
    kinds?: ReportKind[];
    /** Any of these must match the report's headline (omit: no constraint). */
    headline?: RegExp[];
    /** WARN/BUG location (file:line) must match. */
    location?: RegExp;
    /** Groups that must each be found in the trace, innermost first, in this order. */
    framesInOrder?: FrameGroup[];
    /** Groups that must each be found somewhere in the trace (any order). */
    framesAnywhere?: FrameGroup[];
    /** The report must show this execution context (from frames, trace sections or memory). */
    context?: ContextNeed;
  };
  /** Do not report this rule when one of these more specific rules matched the same report. */
  supersededBy?: string[];
  /** Causal chain, one step per line. */
  explanation: string[];
  fix: string[];
  references: string[];
}

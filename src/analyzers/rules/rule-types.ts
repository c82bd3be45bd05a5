// Shape of a hazard rule. Rules are data (rules/table.ts): one entry per hazard, in the manner of
// syzkaller's pkg/report oops tables. The engine (rules/engine.ts) is the only code that reads them.
import type { ReportKind } from '../report-model.js';

/** A set of function-name patterns; `*` at the end means "prefix". */
export interface FrameGroup {
  label: string;
  any: string[];
}

export type ContextNeed = 'nmi' | 'atomic' | 'hardirq' | 'int3-kprobe';

export interface HazardRule {
  id: string;
  title: string;
  /** Kernel versions where the hazard exists, in words and as a check. */
  kernels: { text: string; min?: [number, number]; max?: [number, number] };
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

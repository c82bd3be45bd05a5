// Output model of `lint-kmod` (JSON-able: field names are the JSON output's).
import type { Severity, UnsafeCategory } from '../unsafe-calls.js';
import type { Handler, HandlerContext, HandlerKind } from './probes.js';
import type { KmodArchName } from './arch/types.js';

export type { Handler, HandlerContext, HandlerKind };

export type FindingSeverity = Exclude<Severity, 'none'>;

export interface LintFinding {
  /**
   * Rule id shared with the runtime hazard rules (src/analyzers/rules/table.ts), or one of the
   * module's architecture (`arm64-kprobe-brk-alloc`: an allocation in an arm64 BRK kprobe handler).
   */
  ruleId: string;
  category: UnsafeCategory;
  /** One line: what and where. */
  message: string;
  severity: FindingSeverity;
  /** hazard: unsafe in this context. mitigated: unsafe, with a partial workaround in the module. note: allowed here, with a caveat. */
  status: 'hazard' | 'mitigated' | 'note';
  handler: { function: string; kind: HandlerKind; context: HandlerContext; mechanism: string };
  /** Function names from the handler to the unsafe kernel function, e.g. ["post", "kmem_cache_alloc"]. */
  path: string[];
  /**
   * The same path with the functions the compiler inlined at each call site (from the module's
   * DWARF, when it has debug info), e.g. ["post", "account_in_handler (inlined)", "kmem_cache_alloc"].
   */
  sourcePath: string[];
  /** The unsafe kernel function called. */
  callee: string;
  /** The call instruction: function symbol, offset in it, section and offset in the section. */
  callSite: { function: string; offset: number; section: string; sectionOffset: number; fileOffset: number; length: number };
  /** Allocation flags passed, when a constant. */
  gfp: { value: number; name: string; maySleep: boolean } | null;
  /** Conditions on module globals the path needs (`in post: hmode != 2`). */
  conditions: string[];
  why: string;
  fix: string;
  /** What a workaround found in the module covers and what it does not. */
  mitigation: { summary: string; mitigates: string; doesNotMitigate: string } | null;
}

export interface Mitigation {
  kind: 'slab-freelist-random-disabled';
  /** What was found (a kallsyms lookup of cache_random_seq_destroy...). */
  evidence: string;
  site: string;
  /** Conditions on module globals for it to run (from init_module). */
  conditions: string[];
  mitigates: string;
  doesNotMitigate: string;
}

export interface LintVariant {
  /** Module globals assumed, e.g. { hmode: 2 }. */
  assume: Record<string, number>;
  verdict: 'hazard' | 'mitigated' | 'clean';
  /** `post -> kmem_cache_alloc [kprobe-int3-nmi-slab-fpu]` for each hazard in this variant. */
  hazards: string[];
  mitigations: string[];
}

export interface LintResult {
  file: string;
  /** `arch`: the instruction set, from the ELF header (e_machine 62 x86_64, 183 AArch64). */
  module: { name: string | null; vermagic: string | null; kernel: string | null; arch: KmodArchName };
  /** Struct layouts and gfp values used (6.1's, for the module's architecture) and whether they fit the module's kernel. */
  layoutNote: string;
  assumptions: Record<string, number>;
  handlers: Handler[];
  findings: LintFinding[];
  mitigations: Mitigation[];
  /**
   * When findings depend on module globals (a mode parameter), the verdict for each value the code
   * compares them with (plus one other value).
   */
  variants: LintVariant[];
  /** What the analysis could not follow (indirect calls from handlers, unresolved registrations). */
  limits: string[];
  summary: { handlers: number; hazards: number; mitigated: number; notes: number };
}

// The diagnosis of a vmcore: the log diagnosis plus what memory says (per-CPU context, the
// backtrace unwound from the stacks). Field names are the JSON output's: keep them stable.
import type { PreemptDecode } from './preempt-count.js';
import type { ReportDiagnosis } from './diagnosis.js';
import type { UnwinderStatus } from '../kernel/unwind/types.js';

export interface CpuContext {
  cpu: number;
  /** `__preempt_count` as read (hex, 32 bits), null when unreadable. */
  preemptCount: string | null;
  preempt: PreemptDecode | null;
  /** Which variable was read, e.g. "per-CPU __preempt_count" or "pcpu_hot.preempt_count". */
  preemptSource: string | null;
  inKernelFpu: boolean | null;
  fpuSource: string | null;
  task: { address: string; comm: string | null; pid: number | null } | null;
  /** RIP from this CPU's NT_PRSTATUS note. */
  rip: { address: string; symbol: string | null } | null;
  panicked: boolean;
  /** What this CPU was doing when the dump was taken, from its stack (e.g. stopped by panic's IPI). */
  state: string;
  /** This CPU's context explains the crash (the one to look at). */
  explainsCrash: boolean;
  problems: string[];
}

export interface BacktraceFrameOut {
  index: number;
  sp: string;
  pc: string;
  function: string | null;
  offset: number | null;
  module: string | null;
  stack: string;
  reliable: boolean;
  exception?: { rip: string; userMode: boolean; registers: Record<string, string> };
}

export interface BacktraceOut {
  /** Which unwinder produced the frames, and why not ORC when it did not. */
  unwinder: UnwinderStatus;
  cpu: number;
  pid: number | null;
  comm: string | null;
  task: string | null;
  method: string;
  frames: BacktraceFrameOut[];
  /** The same trace as `crash` prints it with `bt`. */
  crashStyle: string;
  problems: string[];
}

/** A dump file that lacks data its headers describe: cut short, or marked incomplete by its writer. */
export interface IncompleteDump {
  /** The first line of the text output: what is missing and what could still be read. */
  summary: string;
  /** Why the dump is incomplete, e.g. "the file ends at 8388608 bytes, its page data runs to 16492116". */
  reason: string;
  /** Pages the dump's headers say the file holds. */
  pages: number;
  /** Of those, pages whose data lies past the end of the file or was never written. */
  missingPages: number;
  fileSize: number;
  /** Size that would hold everything the headers describe; null when the file ends inside the page index. */
  expectedSize: number | null;
  /** Pages this analysis asked for that lie in the missing part. */
  pagesNeededPastEnd: number;
  /** What the analysis could not read, e.g. "kernel log", "symbols (kallsyms)". */
  unreadable: string[];
  /** What it could, e.g. "kernel release <OSRELEASE>", "registers of 2 CPUs". */
  readable: string[];
}

/**
 * How far the analysis got. `complete`: the dump is whole, or its missing part held nothing the
 * analysis needed. `partial`: the dump is incomplete and the analysis needed some of what is
 * missing; what it says may be wrong by omission (exit 4, 5 with a hazard). `unusable`: the dump is
 * incomplete and neither its kernel log, a backtrace nor any CPU's context could be read (exit 2).
 */
export type AnalysisResult = 'complete' | 'partial' | 'unusable';

export interface DumpDiagnosis {
  source: 'vmcore';
  input: string;
  result: AnalysisResult;
  /** Set when the dump file is incomplete (even if nothing the analysis needed was lost); null when whole. */
  incomplete: IncompleteDump | null;
  /**
   * What the backtrace could not rely on, said before anything else: the unwinder that could not
   * be used and why, an ORC format chosen as a fallback, unwinder problems. Empty when none.
   */
  unwinderNotice: string[];
  dump: { format: string; compression: string[]; sizeBytes: number; details: Record<string, string | number | boolean> };
  kernelRelease: string | null;
  buildId: string | null;
  crashTime: string | null;
  uptime: string | null;
  panicMessage: string | null;
  panicCpu: number | null;
  panicCpuEvidence: string;
  symbolSource: string;
  cpus: CpuContext[];
  backtrace: BacktraceOut | null;
  reports: ReportDiagnosis[];
  logLines: number;
  notes: string[];
  verdict: string;
  /** Physical pages the analysis read (cost does not grow with the dump size). */
  pagesRead: number;
}

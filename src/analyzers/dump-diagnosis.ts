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

export interface DumpDiagnosis {
  source: 'vmcore';
  input: string;
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

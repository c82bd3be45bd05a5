// The `ktriage triage --jsonl` contract: one line per input, then one line per group, then one
// summary line. schemas/triage-line.schema.json is generated from these types (test/triage/
// schema.test.ts checks it is current; `UPDATE_SCHEMAS=1 npx vitest run test/triage/schema.test.ts`
// rewrites it). Field names are the output's: keep them stable, and bump SCHEMA_VERSION
// (src/api/schema-version.ts) when one is removed, renamed or retyped.
import type { SCHEMA_VERSION } from '../api/schema-version.js';

export type TriageKind = 'vmcore' | 'log';
export type GroupBy = 'signature' | 'hazard' | 'title' | 'kernel';

/** One input that was analysed. */
export interface TriageResultLine {
  schemaVersion: typeof SCHEMA_VERSION;
  type: 'result';
  /** The path as found (relative when the argument was). */
  input: string;
  kind: TriageKind;
  /** The file format: `elf-core`, `kdump-compressed`, `makedumpfile-flattened` or `log`. */
  format: string;
  /** Kernel release (`uname -r`), null when the input does not say. */
  kernel: string | null;
  /** syzkaller-style title of the first crash report, null when none was found. */
  title: string | null;
  /** Ids of the hazards matched by any report, in report order, without repeats. */
  hazards: string[];
  /** The grouping key: `hazard:<id>`, else `title:<normalised title>|<top frames>`, else `no-report`. */
  signature: string;
  /** The frames that went into the signature: from the guilty frame down, at most 3 (the guilty name alone when the trace lacks it). */
  topFrames: string[];
  /** Crash time from the dump (ISO 8601), null for logs and dumps that do not record it. */
  crashTime: string | null;
  /** UTC day the crash is counted on: from crashTime, else from the file's mtime. */
  day: string;
  /** Crash reports found in the input (a log may hold many; the first one gives the title). */
  reports: number;
  /** Analysis problems that did not stop it (unreadable pages, damaged report), at most 3. */
  problems: string[];
  /**
   * A dump cut short (or marked incomplete by its writer) whose missing part held something the
   * analysis needed: what is missing and what could still be read. Such a result is partial and
   * sets bit 4 of the exit status, like a failed input. null otherwise.
   */
  incomplete: string | null;
  /** Wall time of this input's analysis in its worker, milliseconds. */
  ms: number;
}

/** One input that could not be analysed: the batch went on without it. */
export interface TriageErrorLine {
  schemaVersion: typeof SCHEMA_VERSION;
  type: 'error';
  input: string;
  /** What the input looked like, null when it could not be read at all. */
  kind: TriageKind | null;
  /** One line, sanitised. */
  error: string;
  ms: number;
}

/** One row of the group table, written after every input was analysed. */
export interface TriageGroupLine {
  schemaVersion: typeof SCHEMA_VERSION;
  type: 'group';
  groupBy: GroupBy;
  key: string;
  count: number;
  /** Inputs per kernel release (`unknown` when the input did not say). */
  kernels: Record<string, number>;
  hazards: string[];
  /** Title of the representative input. */
  title: string | null;
  /** Earliest and latest input by day (crash time or mtime), ties broken by arrival. */
  first: { input: string; day: string };
  last: { input: string; day: string };
  /** The representative: the group's first dump to finish, else its first input. */
  example: string;
}

/** The last line. */
export interface TriageSummaryLine {
  schemaVersion: typeof SCHEMA_VERSION;
  type: 'summary';
  inputs: number;
  analysed: number;
  failed: number;
  /** Inputs analysed from an incomplete dump whose missing part the analysis needed (`incomplete` set). */
  partial: number;
  withHazard: number;
  groups: number;
  groupBy: GroupBy;
  /** Wall time of the whole batch, milliseconds. */
  ms: number;
  /** The process exit status (see README: bit 1 hazard matched, bit 4 some inputs failed or gave a partial result). */
  exitCode: number;
}

export type TriageLine = TriageResultLine | TriageErrorLine | TriageGroupLine | TriageSummaryLine;

/** What the HTML report shows of a group's representative; not part of the JSON lines. */
export interface TriageDetail {
  verdict: string;
  headline: string | null;
  /** Backtrace lines as `#N function+0xoff [module] (stack)`, `?` for unreliable frames. */
  backtrace: string[];
  backtraceSource: string;
  cpus: { cpu: number; preemptCount: string | null; context: string; task: string; state: string; panicked: boolean }[];
}

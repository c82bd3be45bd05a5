import type { Comparable } from '../../analyzers/expectations.js';
import type { DumpDiagnosis } from '../../analyzers/dump-diagnosis.js';
import { hazardMatched } from '../../analyzers/diagnosis.js';
import { analyzeDumpFile } from '../../analyzers/vmcore-analysis.js';
import { renderDumpMarkdown, renderDumpText } from '../render/dump-render.js';
import { type AnalyzeOptions } from './analyze.js';
import { toJson } from '../render/json.js';

/**
 * The exit status of `analyze <vmcore>` (main.ts's table): 1 a known hazard matched, 0 none; an
 * incomplete dump adds 4 when the analysis needed some of what is missing (so 4, or 5 with a
 * hazard: the bits `triage` uses for the same facts), and is 2 when nothing usable could be read.
 * A CI gate that tests for 0 never takes a cut-short dump for a healthy one.
 */
function dumpExitCode(d: DumpDiagnosis): number {
  if (d.result === 'unusable') return 2;
  return (hazardMatched(d.reports) ? 1 : 0) | (d.result === 'partial' ? 4 : 0);
}

export async function runAnalyzeDump(input: string, opts: AnalyzeOptions): Promise<{ text: string; code: number }> {
  // The text report does not show the disassembled `Code:` lines (--json and --markdown do): it
  // skips capstone, ~27 MiB and 35-80 ms.
  const decodeCode = opts.json === true || opts.markdown === true;
  const { diagnosis, dump } = await analyzeDumpFile(input, { systemMap: opts.systemMap, vmlinux: opts.vmlinux, decodeCode });
  dump.close();
  const text = opts.json ? toJson(diagnosis) : opts.markdown ? renderDumpMarkdown(diagnosis) : renderDumpText(diagnosis);
  return { text, code: dumpExitCode(diagnosis) };
}

export async function comparableOfDump(input: string): Promise<Comparable> {
  const { diagnosis: d, dump } = await analyzeDumpFile(input, { decodeCode: false });
  dump.close();
  return {
    hazards: [...new Set(d.reports.flatMap((r) => r.hazards.map((h) => h.id)))],
    titles: d.reports.map((r) => r.report.title),
    panicCpu: d.panicCpu,
    cpus: d.cpus.map((c) => ({ cpu: c.cpu, preemptCount: c.preemptCount, inKernelFpu: c.inKernelFpu })),
    backtrace: d.backtrace ? d.backtrace.frames.map((f) => f.function ?? f.pc) : [],
  };
}

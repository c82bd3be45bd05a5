import type { Comparable } from '../../analyzers/expectations.js';
import { hazardMatched } from '../../analyzers/diagnosis.js';
import { analyzeDumpFile } from '../../analyzers/vmcore-analysis.js';
import { renderDumpMarkdown, renderDumpText } from '../render/dump-render.js';
import { type AnalyzeOptions } from './analyze.js';
import { toJson } from '../render/json.js';

export async function runAnalyzeDump(input: string, opts: AnalyzeOptions): Promise<{ text: string; code: number }> {
  const { diagnosis, dump } = await analyzeDumpFile(input, { systemMap: opts.systemMap, vmlinux: opts.vmlinux });
  dump.close();
  const text = opts.json ? toJson(diagnosis) : opts.markdown ? renderDumpMarkdown(diagnosis) : renderDumpText(diagnosis);
  return { text, code: hazardMatched(diagnosis.reports) ? 1 : 0 };
}

export async function comparableOfDump(input: string): Promise<Comparable> {
  const { diagnosis: d, dump } = await analyzeDumpFile(input);
  dump.close();
  return {
    hazards: [...new Set(d.reports.flatMap((r) => r.hazards.map((h) => h.id)))],
    titles: d.reports.map((r) => r.report.title),
    panicCpu: d.panicCpu,
    cpus: d.cpus.map((c) => ({ cpu: c.cpu, preemptCount: c.preemptCount, inKernelFpu: c.inKernelFpu })),
    backtrace: d.backtrace ? d.backtrace.frames.map((f) => f.function ?? f.pc) : [],
  };
}

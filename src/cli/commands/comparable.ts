// Turns any input (log or dump) into the comparable subset used by `regress`.
import type { Comparable } from '../../analyzers/expectations.js';
import { diagnoseLog } from '../../analyzers/diagnosis.js';
import { analyzeLogText } from '../../analyzers/log-analysis.js';
import { readLogFile, sniffFile } from '../input.js';
import { comparableOfDump } from './analyze-dump.js';

export async function comparableOf(input: string): Promise<Comparable> {
  const { kind } = sniffFile(input);
  if (kind !== 'log') return comparableOfDump(input);
  const log = readLogFile(input);
  const d = diagnoseLog(await analyzeLogText(log.text), input);
  const first = d.reports[0];
  return {
    hazards: [...new Set(d.reports.flatMap((r) => r.hazards.map((h) => h.id)))],
    titles: d.reports.map((r) => r.report.title),
    backtrace: first ? first.report.frames.filter((f) => !f.unreliable && f.function).map((f) => f.function as string) : [],
  };
}

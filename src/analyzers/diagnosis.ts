// The diagnosis of a console log: each crash report with the hazards it matches. The vmcore
// analysis extends the same shape with memory evidence.
import type { CrashReport, LogAnalysis } from './report-model.js';
import { matchHazards, type HazardMatch, type MemoryContext } from './rules/engine.js';

export interface ReportDiagnosis {
  report: CrashReport;
  hazards: HazardMatch[];
}

export interface LogDiagnosis {
  source: 'log';
  input: string;
  kernelRelease: string | null;
  reports: ReportDiagnosis[];
  panics: string[];
  notes: string[];
  /** One sentence: the first matched hazard, or "no known hazard matched". */
  verdict: string;
}

export function diagnoseReports(reports: CrashReport[], memoryFor?: (r: CrashReport) => MemoryContext | undefined): ReportDiagnosis[] {
  return reports.map((report) => ({ report, hazards: matchHazards({ report, memory: memoryFor?.(report) }) }));
}

export function verdictOf(reports: ReportDiagnosis[]): string {
  const first = reports.find((r) => r.hazards.length > 0);
  if (first) return `known hazard ${first.hazards[0].id} (${first.hazards[0].confidence} confidence) in "${first.report.title}"`;
  if (reports.length === 0) return 'no crash report found';
  return `no known hazard matched (${reports.length} report${reports.length > 1 ? 's' : ''}; first: "${reports[0].report.title}")`;
}

export function diagnoseLog(analysis: LogAnalysis, input: string): LogDiagnosis {
  const reports = diagnoseReports(analysis.reports);
  return {
    source: 'log',
    input,
    kernelRelease: analysis.kernelRelease,
    reports,
    panics: analysis.panics,
    notes: analysis.notes,
    verdict: verdictOf(reports),
  };
}

export function hazardMatched(reports: ReportDiagnosis[]): boolean {
  return reports.some((r) => r.hazards.length > 0);
}

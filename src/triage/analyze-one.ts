// One input of a batch, analysed to a JSON line plus what the HTML report shows of it. Runs inside
// a worker (worker.ts); never throws: every failure becomes an error line so the batch goes on.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { diagnoseLog, type ReportDiagnosis } from '../analyzers/diagnosis.js';
import type { DumpDiagnosis } from '../analyzers/dump-diagnosis.js';
import { analyzeLogText } from '../analyzers/log-analysis.js';
import { normalizeTitle, titleFunction } from '../analyzers/log/index.js';
import type { CrashReport } from '../analyzers/report-model.js';
import { analyzeDumpFile } from '../analyzers/vmcore-analysis.js';
import { SCHEMA_VERSION } from '../api/schema-version.js';
import { classifyHeader, readLogFile, type InputKind } from '../cli/input.js';
import { errorLine, isInputError } from '../cli/errors.js';
import { sanitizeLine } from '../util/sanitize.js';
import type { TriageDetail, TriageErrorLine, TriageKind, TriageResultLine } from './types.js';

export interface OneResult { line: TriageResultLine | TriageErrorLine; detail?: TriageDetail }

/** Compressed files ktriage cannot read in place: said plainly rather than parsed as a "log". */
const COMPRESSED: [string, Buffer][] = [
  ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  ['gzip', Buffer.from([0x1f, 0x8b])],
  ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
  ['bzip2', Buffer.from('BZh')],
];

const MAX_FRAMES = 64;
const MAX_CPUS = 64;
const SIGNATURE_FRAMES = 3;

function sniff(path: string): { format: InputKind; compressed: string | null } {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    const h = head.subarray(0, n);
    const compressed = COMPRESSED.find(([, magic]) => h.length >= magic.length && h.subarray(0, magic.length).equals(magic));
    return { format: classifyHeader(h), compressed: compressed ? compressed[0] : null };
  } finally {
    closeSync(fd);
  }
}

/** The frames a signature is made of: from the guilty frame down, reliable ones only. */
export function topFrames(report: CrashReport): string[] {
  const names = report.frames.filter((f) => !f.unreliable && f.function).map((f) => titleFunction(f.function as string));
  const guilty = report.guiltyFrame ? titleFunction(report.guiltyFrame) : null;
  const at = guilty ? names.indexOf(guilty) : -1;
  if (at >= 0) return names.slice(at, at + SIGNATURE_FRAMES);
  // The trace lost the guilty frame (cut short, another dump's frames in between): the frames left
  // are plumbing that would split a group, the guilty name alone keeps it.
  if (guilty) return [guilty];
  return names.slice(0, SIGNATURE_FRAMES);
}

function signatureOf(hazards: string[], report: CrashReport | undefined): { signature: string; frames: string[] } {
  if (!report) return { signature: 'no-report', frames: [] };
  const frames = topFrames(report);
  if (hazards.length) return { signature: `hazard:${hazards[0]}`, frames };
  return { signature: `title:${normalizeTitle(report.title)}|${frames.join(',')}`, frames };
}

function dayOf(iso: string | null, mtimeMs: number): string {
  const t = iso ? Date.parse(iso) : NaN;
  return new Date(Number.isFinite(t) ? t : mtimeMs).toISOString().slice(0, 10);
}

function hazardIds(reports: ReportDiagnosis[]): string[] {
  return [...new Set(reports.flatMap((r) => r.hazards.map((h) => h.id)))];
}

const clip = (s: string, n = 300) => (s.length > n ? s.slice(0, n) + '...' : s);

function reportFrameLines(r: CrashReport): string[] {
  return r.frames.slice(0, MAX_FRAMES).map((f, i) => {
    const name = f.function ? `${f.function}${f.offset !== null ? `+0x${f.offset.toString(16)}` : ''}` : (f.address ?? '?');
    return `#${i} ${f.unreliable ? '? ' : ''}${name}${f.module ? ` [${f.module}]` : ''} (${f.context})`;
  });
}

function logDetail(reports: ReportDiagnosis[], verdict: string): TriageDetail {
  const r = reports[0]?.report;
  return {
    verdict,
    headline: r ? r.headline : null,
    backtrace: r ? reportFrameLines(r) : [],
    backtraceSource: r ? 'call trace printed in the log' : 'no crash report',
    cpus: r && r.cpu !== null ? [{ cpu: r.cpu, preemptCount: null, context: r.frames.some((f) => f.context === 'NMI') ? 'NMI frames in the trace' : '', task: `${r.comm ?? '?'} (pid ${r.pid ?? '?'})`, state: `reported ${r.kind}${r.tainted ? `, tainted ${r.tainted}` : ''}`, panicked: r.panic !== null }] : [],
  };
}

function dumpDetail(d: DumpDiagnosis): TriageDetail {
  const bt = d.backtrace;
  const fromLog = d.reports[0]?.report;
  return {
    verdict: d.verdict,
    headline: fromLog ? fromLog.headline : d.panicMessage,
    backtrace: bt
      ? bt.frames.slice(0, MAX_FRAMES).map((f) => `#${f.index} ${f.reliable ? '' : '? '}${f.function ? `${f.function}+0x${(f.offset ?? 0).toString(16)}` : f.pc}${f.module ? ` [${f.module}]` : ''} (${f.stack})${f.exception ? ` [exception RIP: ${f.exception.rip}]` : ''}`)
      : fromLog ? reportFrameLines(fromLog) : [],
    backtraceSource: bt ? `unwound from memory, CPU ${bt.cpu}, ${bt.method}` : fromLog ? 'call trace printed in the dump\'s log' : 'none',
    cpus: d.cpus.slice(0, MAX_CPUS).map((c) => ({
      cpu: c.cpu,
      preemptCount: c.preemptCount,
      context: c.preempt ? clip(c.preempt.summary) : '',
      task: c.task ? `${c.task.comm ?? '?'} (pid ${c.task.pid ?? '?'})` : '',
      state: clip(c.state),
      panicked: c.panicked,
    })),
  };
}

/** A dump whose kernel log could not be read and that yielded no report told us nothing: a failed input. */
function dumpUnusable(d: DumpDiagnosis): string | null {
  if (d.result === 'unusable' && d.incomplete) return d.incomplete.summary;
  if (d.reports.length > 0 || d.backtrace) return null;
  const logNote = d.notes.find((n) => n.startsWith('kernel log:'));
  if (logNote) return `${d.incomplete ? `${d.incomplete.summary}; ` : ''}cannot read the kernel log from the dump (${logNote.slice('kernel log:'.length).trim()})`;
  return null;
}

export async function analyzeOne(input: string): Promise<OneResult> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  let kind: TriageKind | null = null;
  const fail = (msg: string): OneResult => ({ line: { schemaVersion: SCHEMA_VERSION, type: 'error', input, kind, error: sanitizeLine(msg).slice(0, 500), ms: ms() } });
  try {
    const st = statSync(input);
    if (!st.isFile()) return fail('not a regular file');
    const { format, compressed } = sniff(input);
    if (compressed) return fail(`${compressed}-compressed: decompress it first (dumps are read in place, logs as text)`);
    kind = format === 'log' ? 'log' : 'vmcore';
    let reports: ReportDiagnosis[];
    let kernel: string | null;
    let crashTime: string | null = null;
    let problems: string[];
    let incomplete: string | null = null;
    let detail: TriageDetail;
    if (kind === 'log') {
      const text = readLogFile(input);
      const diag = diagnoseLog(await analyzeLogText(text.text), input);
      reports = diag.reports;
      kernel = diag.kernelRelease ?? reports.find((r) => r.report.kernelRelease)?.report.kernelRelease ?? null;
      problems = [...text.notes, ...reports.filter((r) => r.report.corrupted).map((r) => `damaged report: ${r.report.title}`)];
      detail = logDetail(reports, diag.verdict);
    } else {
      // Nothing in a triage line or the HTML report shows the disassembled `Code:` lines.
      const { diagnosis: d, dump } = await analyzeDumpFile(input, { decodeCode: false });
      dump.close();
      const unusable = dumpUnusable(d);
      if (unusable) return fail(unusable);
      reports = d.reports;
      kernel = d.kernelRelease;
      crashTime = d.crashTime;
      if (d.result === 'partial' && d.incomplete) incomplete = d.incomplete.summary;
      // Notes that only say where a value came from are not problems.
      problems = [...d.unwinderNotice, ...d.notes.filter((n) => !/^(?:crash time from|PREEMPT_RT kernel)/.test(n))];
      detail = dumpDetail(d);
    }
    const hazards = hazardIds(reports);
    // The first report with a hazard names the crash; else the first report.
    const lead = reports.find((r) => r.hazards.length > 0) ?? reports[0];
    const { signature, frames } = signatureOf(hazards, lead?.report);
    return {
      line: {
        schemaVersion: SCHEMA_VERSION,
        type: 'result',
        input,
        kind,
        format,
        kernel,
        title: lead ? lead.report.title : null,
        hazards,
        signature,
        topFrames: frames,
        crashTime,
        day: dayOf(crashTime, st.mtimeMs),
        reports: reports.length,
        problems: problems.slice(0, 3).map((p) => clip(sanitizeLine(p))),
        incomplete: incomplete !== null ? clip(sanitizeLine(incomplete), 500) : null,
        ms: ms(),
      },
      detail,
    };
  } catch (e) {
    // A bug must not read as a bad dump in a fleet report either: the line says which it is.
    return fail(isInputError(e) ? e.message : errorLine(e));
  }
}

// Terminal and Markdown renderings of a vmcore diagnosis, in the order an engineer asks:
// what happened, in which context (per-CPU), along which path (backtrace), which hazard.
import type { CpuContext, DumpDiagnosis } from '../../analyzers/dump-diagnosis.js';
import { sanitize, sanitizeLine as s } from '../../util/sanitize.js';
import { paint, table } from '../style.js';
import { cell, codeBlock, prose } from './markdown.js';
import { renderHazardsText, renderReportMarkdown, reportSummaryLine } from './report-render.js';

function decoded(c: CpuContext): string {
  if (!c.preempt) return c.preemptCount ?? 'unreadable';
  return c.preempt.summary;
}

function taskText(c: CpuContext): string {
  if (!c.task) return '-';
  return s(`${c.task.comm ?? '?'}${c.task.pid !== null ? ` (pid ${c.task.pid})` : ''}`);
}

export function renderDumpText(d: DumpDiagnosis): string {
  const out: string[] = [];
  if (d.incomplete) out.push(paint(`ktriage: ${s(d.incomplete.summary)}`, 'red'));
  else if (d.result === 'unusable') out.push(paint('ktriage: NOTHING USABLE for a diagnosis: kernel log, backtrace and per-CPU context all unreadable (see the notes)', 'red'));
  out.push(paint(`ktriage: ${s(d.verdict)}`, 'bold'));
  for (const n of d.unwinderNotice) out.push(paint(`backtrace: ${s(n)}`, 'red'));
  out.push('');
  out.push(paint('1. What happened', 'bold'));
  const t = table(['', ''], { colWidths: [18, 94] });
  const row = (k: string, v: string | number | null | undefined) => {
    if (v !== null && v !== undefined && v !== '') t.push([k, s(String(v))]);
  };
  row('dump', `${d.input} (${d.dump.format}${d.dump.compression.length ? `, ${d.dump.compression.join('/')}` : ''}, ${(d.dump.sizeBytes / 1048576).toFixed(1)} MiB)`);
  row('kernel', d.kernelRelease);
  row('crash time', d.crashTime);
  row('uptime', d.uptime);
  row('panic', d.panicMessage);
  row('panic CPU', d.panicCpu !== null ? `${d.panicCpu} (${d.panicCpuEvidence})` : d.panicCpuEvidence);
  row('symbols', d.symbolSource);
  d.reports.forEach((r, i) => row(i === 0 ? 'report' : '', `${reportSummaryLine(r.report)}${r.report.tainted ? `, tainted ${r.report.tainted}` : ''}${r.report.modules.length ? `, modules: ${r.report.modules.join(' ')}` : ''}`));
  out.push(t.toString());

  out.push('');
  out.push(paint('2. Per-CPU context', 'bold'));
  // A 64-bit count is arm64's thread_info.preempt_count; x86 keeps a 32-bit per-CPU __preempt_count.
  const wide = d.cpus.some((c) => (c.preemptCount?.length ?? 0) > 10);
  const ct = wide
    ? table(['CPU', 'preempt_count', 'decoded', 'SIMD busy', 'current task', 'PC (NT_PRSTATUS)', 'state'], { colWidths: [6, 21, 30, 11, 18, 26, 30] })
    : table(['CPU', '__preempt_count', 'decoded', 'in_kernel_fpu', 'current task', 'RIP (NT_PRSTATUS)', 'state'], { colWidths: [6, 17, 30, 15, 18, 26, 30] });
  for (const c of d.cpus) {
    const mark = (c.explainsCrash ? '>' : '') + (c.panicked ? '*' : '') || ' ';
    const cells = [
      `${mark}${c.cpu}`,
      c.preemptCount ?? '?',
      decoded(c),
      c.inKernelFpu === null ? '?' : c.inKernelFpu ? '1' : '0',
      taskText(c),
      c.rip ? s(c.rip.symbol ?? c.rip.address) : '-',
      s(c.state),
    ];
    ct.push(c.explainsCrash ? cells.map((x) => paint(x, 'red')) : cells);
  }
  out.push(ct.toString());
  out.push("'>' marks the CPU whose context explains the crash, '*' the CPU that called panic().");
  const src = d.cpus.find((c) => c.preemptSource)?.preemptSource;
  if (src) out.push(`preempt count read from: ${s(src)}${d.cpus.find((c) => c.fpuSource)?.fpuSource ? `; FPU state from: ${s(d.cpus.find((c) => c.fpuSource)?.fpuSource ?? '')}` : ''}`);
  for (const c of d.cpus) for (const p of c.problems) out.push(`note (CPU ${c.cpu}): ${s(p)}`);

  out.push('');
  out.push(paint('3. Backtrace of the panicking task (unwound from memory)', 'bold'));
  if (d.backtrace) {
    out.push(`CPU ${d.backtrace.cpu}, ${s(d.backtrace.comm ?? '?')} pid ${d.backtrace.pid ?? '?'}, ${d.backtrace.method}`);
    out.push(sanitize(d.backtrace.crashStyle));
    for (const p of d.backtrace.problems) out.push(`note: ${s(p)}`);
  } else {
    out.push('not available (see notes)');
  }

  out.push('');
  out.push(paint('4. Hazards', 'bold'));
  if (d.reports.length === 0) out.push('No crash report in the dump\'s kernel log.');
  for (const r of d.reports) {
    out.push(`${reportSummaryLine(r.report)}:`);
    out.push(renderHazardsText(r.hazards));
  }
  if (d.notes.length) {
    out.push('');
    for (const n of d.notes) out.push(`note: ${s(n)}`);
  }
  out.push('');
  out.push(`(${d.pagesRead} pages read from the dump)`);
  return out.join('\n') + '\n';
}

export function renderDumpMarkdown(d: DumpDiagnosis): string {
  const out: string[] = [];
  if (d.incomplete) out.push(`> **ktriage: ${prose(d.incomplete.summary)}**`, '');
  else if (d.result === 'unusable') out.push('> **ktriage: NOTHING USABLE for a diagnosis: kernel log, backtrace and per-CPU context all unreadable (see the notes)**', '');
  out.push(`## ktriage: ${prose(d.verdict)}`);
  for (const n of d.unwinderNotice) out.push('', `**backtrace:** ${prose(n)}`);
  out.push('');
  out.push('### What happened');
  out.push('| field | value |');
  out.push('| --- | --- |');
  const row = (k: string, v: string | number | null | undefined) => {
    if (v !== null && v !== undefined && v !== '') out.push(`| ${k} | ${cell(String(v))} |`);
  };
  row('dump', `${d.input} (${d.dump.format})`);
  row('kernel', d.kernelRelease);
  row('crash time', d.crashTime);
  row('panic', d.panicMessage);
  row('panic CPU', d.panicCpu !== null ? `${d.panicCpu} (${d.panicCpuEvidence})` : d.panicCpuEvidence);
  row('symbols', d.symbolSource);
  out.push('');
  out.push('### Per-CPU context');
  out.push((d.cpus.some((c) => (c.preemptCount?.length ?? 0) > 10) ? '| CPU | preempt_count | decoded | SIMD busy | task | PC | state |' : '| CPU | __preempt_count | decoded | in_kernel_fpu | task | RIP | state |'));
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const c of d.cpus) {
    const b = (x: string) => (c.explainsCrash ? `**${x}**` : x);
    out.push(`| ${b(String(c.cpu))} | ${b(c.preemptCount ?? '?')} | ${cell(decoded(c))} | ${c.inKernelFpu === null ? '?' : c.inKernelFpu ? '1' : '0'} | ${cell(taskText(c))} | ${cell(c.rip?.symbol ?? c.rip?.address ?? '-')} | ${cell(c.state)} |`);
  }
  out.push('');
  out.push('### Backtrace (from memory)');
  out.push(d.backtrace ? codeBlock(d.backtrace.crashStyle) : 'not available');
  out.push('');
  out.push('### Reports and hazards');
  d.reports.forEach((r, i) => out.push(renderReportMarkdown(r, i, d.reports.length), ''));
  for (const n of d.notes) out.push(`- note: ${prose(n)}`);
  return out.join('\n') + '\n';
}

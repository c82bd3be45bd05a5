import type { LogDiagnosis } from '../../analyzers/diagnosis.js';
import { sanitizeLine as s } from '../../util/sanitize.js';
import { paint } from '../style.js';
import { prose } from './markdown.js';
import { renderReportMarkdown, renderReportText } from './report-render.js';

export function renderLogDiagnosis(d: LogDiagnosis, format: 'text' | 'markdown'): string {
  const out: string[] = [];
  const n = d.reports.length;
  if (format === 'markdown') {
    out.push(`## ktriage: ${prose(d.verdict)}`);
    out.push('');
    out.push(`Input: ${prose(d.input)} (console log). Kernel: ${prose(d.kernelRelease ?? 'unknown')}. Reports: ${n}.`);
    for (const p of d.panics) out.push(`- panic: ${prose(p)}`);
    for (const note of d.notes) out.push(`- note: ${prose(note)}`);
    out.push('');
    d.reports.forEach((r, i) => out.push(renderReportMarkdown(r, i, n), ''));
    return out.join('\n') + '\n';
  }
  out.push(paint(`ktriage: ${s(d.verdict)}`, 'bold'));
  out.push(`input: ${s(d.input)} (console log), kernel ${s(d.kernelRelease ?? 'unknown')}, ${n} crash report${n === 1 ? '' : 's'}`);
  for (const p of d.panics) out.push(`panic: ${s(p)}`);
  for (const note of d.notes) out.push(`note: ${s(note)}`);
  d.reports.forEach((r, i) => out.push('', renderReportText(r, i, n)));
  if (n === 0) out.push('', 'No crash report (WARNING, BUG, Oops, panic, ...) was found in the input.');
  return out.join('\n') + '\n';
}

// Terminal and Markdown renderings of crash reports and hazard matches. Every string that came
// from the input goes through sanitizeLine (terminal) or the Markdown escapers.
import type { CodeDecode, CrashReport, Frame } from '../../analyzers/report-model.js';
import type { ReportDiagnosis } from '../../analyzers/diagnosis.js';
import type { HazardMatch } from '../../analyzers/rules/engine.js';
import { sanitizeLine as s } from '../../util/sanitize.js';
import { paint, table } from '../style.js';
import { cell, codeBlock, codeSpan, prose } from './markdown.js';

function frameText(f: Frame): string {
  const fn = f.function ?? f.address ?? '?';
  const off = f.offset !== null ? `+0x${f.offset.toString(16)}${f.size !== null ? `/0x${f.size.toString(16)}` : ''}` : '';
  return s(`${fn}${off}${f.module ? ` [${f.module}]` : ''}`);
}

function codeLines(c: CodeDecode): string[] {
  return c.instructions.map((i) => `${i.faulting ? '=>' : '  '} ${i.address.toString(16).padStart(3, ' ')}: ${i.bytes.padEnd(24)} ${s(i.text)}`);
}

const MAX_FRAMES_SHOWN = 200;

/** The report's scalar fields, labelled, in display order; empty ones left out. */
function reportFields(r: CrashReport): [string, string][] {
  const rows: [string, string | number | null][] = [
    ['headline', r.headline],
    ['guilty frame', r.guiltyFrame],
    ['CPU', r.cpu],
    ['PID', r.pid],
    ['Comm', r.comm],
    ['Tainted', r.tainted],
    ['kernel', r.kernelRelease],
    ['hardware', r.hardware],
    ['location', r.location],
    ['RIP', r.rip ? frameText(r.rip) : r.ripRaw],
    ['modules', r.modules.length ? r.modules.join(' ') : null],
    ['panic', r.panic],
    ['panic_on_warn', r.panicOnWarn ? 'set: the WARN brought the machine down' : null],
  ];
  return rows.filter((x): x is [string, string | number] => x[1] !== null && x[1] !== '').map(([k, v]) => [k, String(v)]);
}

export function renderReportText(d: ReportDiagnosis, index: number, total: number): string {
  const r = d.report;
  const out: string[] = [];
  out.push(paint(`Report ${index + 1} of ${total}: ${s(r.title)}`, 'bold') + `  (${r.kind}${r.corrupted ? ', damaged' : ''})`);
  const t = table(['', ''], { colWidths: [16, 96] });
  for (const [k, v] of reportFields(r)) t.push([k, s(v)]);
  out.push(t.toString());
  if (Object.keys(r.registers).length) {
    out.push('registers: ' + Object.entries(r.registers).map(([k, v]) => `${s(k)}=${s(v)}`).join(' '));
  }
  if (r.code && r.code.instructions.length) {
    out.push(`Code:${r.code.isUd2 ? ' faulting instruction is ud2 (BUG()/WARN())' : r.code.faultingInstruction ? ` faulting instruction: ${s(r.code.faultingInstruction)}` : ''}`);
    out.push(...codeLines(r.code).map((l) => '  ' + l));
  }
  if (r.frames.length) {
    const ft = table(['#', 'context', 'frame', 'note'], { colWidths: [5, 9, 70, 24] });
    r.frames.slice(0, MAX_FRAMES_SHOWN).forEach((f, i) => {
      const note = [f.unreliable ? '? unreliable' : '', f.exceptionRip ? 'exception RIP' : '', !f.function && f.address ? 'address only' : ''].filter(Boolean).join(', ');
      ft.push([String(i), f.context, frameText(f), note]);
    });
    out.push(`Call trace (${r.frames.length} frames, innermost first):`);
    out.push(ft.toString());
    if (r.frames.length > MAX_FRAMES_SHOWN) out.push(`  ... ${r.frames.length - MAX_FRAMES_SHOWN} more frames (see --json)`);
  }
  out.push(renderHazardsText(d.hazards));
  return out.join('\n');
}

export function renderHazardsText(hazards: HazardMatch[]): string {
  if (hazards.length === 0) return paint('Hazards: no known hazard matched.', 'green');
  const out: string[] = [];
  for (const h of hazards) {
    out.push(paint(`HAZARD ${h.id}`, 'red') + `: ${h.title}`);
    out.push(`  confidence: ${h.confidence} (${h.confidenceWhy.map(s).join('; ')})`);
    out.push(`  kernels: ${h.kernels}`);
    out.push('  evidence:');
    for (const e of h.evidence) out.push(`    - ${s(e)}`);
    out.push('  why it happens:');
    h.explanation.forEach((e, i) => out.push(`    ${i + 1}. ${e}`));
    out.push('  fix:');
    for (const f of h.fix) out.push(`    - ${f}`);
    out.push(`  references: ${h.references.join('; ')}`);
  }
  return out.join('\n');
}

export function renderReportMarkdown(d: ReportDiagnosis, index: number, total: number): string {
  const r = d.report;
  const out: string[] = [];
  out.push(`### Report ${index + 1} of ${total}: ${codeSpan(r.title)} (${r.kind})`);
  out.push('');
  out.push('| field | value |');
  out.push('| --- | --- |');
  for (const [k, v] of reportFields(r)) out.push(`| ${k} | ${cell(v)} |`);
  out.push('');
  if (r.code && r.code.instructions.length) {
    out.push('Code (`=>` marks the faulting instruction):');
    out.push(codeBlock(codeLines(r.code).join('\n')));
  }
  if (r.frames.length) {
    out.push('Call trace, innermost first:');
    out.push(codeBlock(r.frames.slice(0, MAX_FRAMES_SHOWN).map((f) => `${f.context.padEnd(8)} ${f.unreliable ? '? ' : ''}${frameText(f)}${f.exceptionRip ? '   <- exception RIP' : ''}`).join('\n')));
  }
  if (d.hazards.length === 0) out.push('**No known hazard matched.**');
  for (const h of d.hazards) {
    out.push(`#### Hazard \`${h.id}\`: ${h.title}`);
    out.push(`Confidence: **${h.confidence}** (${h.confidenceWhy.map(prose).join('; ')}). Kernels: ${h.kernels}.`);
    out.push('');
    out.push('Evidence:');
    for (const e of h.evidence) out.push(`- ${prose(e)}`);
    out.push('');
    out.push('Why:');
    h.explanation.forEach((e, i) => out.push(`${i + 1}. ${e}`));
    out.push('');
    out.push('Fix:');
    for (const f of h.fix) out.push(`- ${f}`);
    out.push('');
  }
  return out.join('\n');
}

export function reportSummaryLine(r: CrashReport): string {
  return s(`${r.title}${r.cpu !== null ? ` on CPU ${r.cpu}` : ''}${r.comm ? ` (${r.comm}${r.pid !== null ? `, pid ${r.pid}` : ''})` : ''}`);
}

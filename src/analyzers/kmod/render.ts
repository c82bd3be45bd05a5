// Plain-text report of a lint-kmod result (no colour; one finding per block).
import { sanitize } from '../../util/sanitize.js';
import type { LintFinding, LintResult } from './model.js';

const CONTEXT_TEXT: Record<string, string> = {
  nmi: 'NMI context',
  atomic: "caller's context (preemption disabled), not NMI",
  'nmi-or-atomic': 'NMI context if int3-based, caller\'s context if ftrace-based',
  'debug-exception': 'debug exception (IRQs masked, not NMI)',
};

function findingBlock(f: LintFinding): string[] {
  const tag = f.status === 'mitigated' ? ' [mitigated, not fixed]' : f.status === 'note' ? ' [allowed in this context]' : '';
  const cs = f.callSite;
  const lines = [
    `  ${f.severity.toUpperCase()} ${f.ruleId}${tag}`,
    `    ${f.message}`,
    `    path: ${f.path.join(' -> ')}   (call at ${cs.function}+0x${cs.offset.toString(16)}${f.gfp ? `, ${f.gfp.name}` : ''})`,
    ...(f.sourcePath.length > f.path.length ? [`    source path: ${f.sourcePath.join(' -> ')}`] : []),
    `    handler: ${f.handler.function} (${f.handler.kind}), ${CONTEXT_TEXT[f.handler.context]} via ${f.handler.mechanism}`,
  ];
  if (f.conditions.length) lines.push(`    only when: ${f.conditions.join('; ')}`);
  lines.push(`    why: ${f.why}`);
  if (f.mitigation) {
    lines.push(`    mitigation found: ${f.mitigation.summary}`);
    lines.push(`      mitigates: ${f.mitigation.mitigates}`);
    lines.push(`      does not: ${f.mitigation.doesNotMitigate}`);
  }
  lines.push(`    fix: ${f.fix}`);
  return lines;
}

export function renderLintText(r: LintResult): string {
  const out: string[] = [];
  const mod = r.module.name ? `module ${r.module.name}` : 'module';
  out.push(`${r.file}: ${mod}${r.module.kernel ? `, built for ${r.module.kernel}` : ''}`);
  if (Object.keys(r.assumptions).length) out.push(`Assuming ${Object.entries(r.assumptions).map(([k, v]) => `${k} = ${v}`).join(', ')}`);
  out.push('');
  out.push(`Handlers (${r.handlers.length}):`);
  if (!r.handlers.length) out.push('  none recognised');
  for (const h of r.handlers) {
    const target = h.registration.target ? ` on ${h.registration.target}` : '';
    out.push(`  ${h.function}: ${h.kind}${target}, ${CONTEXT_TEXT[h.context]} (${h.mechanism})`);
    out.push(`    registered by ${h.registration.call}() at ${h.registration.site}${h.registration.object ? `, object ${h.registration.object}` : ''}`);
    out.push(`    why: ${h.why}`);
  }
  out.push('');
  const hazards = r.findings.filter((f) => f.status !== 'note');
  const notes = r.findings.filter((f) => f.status === 'note');
  out.push(`Findings (${hazards.length} hazard${hazards.length === 1 ? '' : 's'}, ${notes.length} note${notes.length === 1 ? '' : 's'}):`);
  if (!r.findings.length) out.push('  none: no handler reaches a call the unsafe-call table knows');
  for (const f of [...hazards, ...notes]) out.push(...findingBlock(f));
  if (r.mitigations.length && !r.findings.some((f) => f.mitigation)) {
    out.push('');
    out.push('Mitigations found (no finding they apply to):');
    for (const m of r.mitigations) out.push(`  ${m.evidence} at ${m.site}${m.conditions.length ? ` when ${m.conditions.join(' and ')}` : ''}`);
  }
  if (r.variants.length) {
    out.push('');
    out.push('By value of module globals the paths depend on (e.g. a mode parameter):');
    for (const v of r.variants) {
      const a = Object.entries(v.assume).map(([k, x]) => `${k} = ${x}`).join(', ');
      out.push(`  ${a}: ${v.verdict}${v.hazards.length ? `: ${v.hazards.join('; ')}` : ''}`);
    }
  }
  if (r.limits.length) {
    out.push('');
    out.push('Not followed:');
    for (const l of r.limits) out.push(`  ${l}`);
  }
  out.push('');
  out.push(`Note: ${r.layoutNote}`);
  const s = r.summary;
  out.push(`Result: ${s.hazards + s.mitigated} hazard${s.hazards + s.mitigated === 1 ? '' : 's'} (${s.mitigated} mitigated, not fixed), ${s.notes} note${s.notes === 1 ? '' : 's'}, ${s.handlers} handler${s.handlers === 1 ? '' : 's'}.`);
  // Names, strings and modinfo come from the file: no escape sequence reaches the terminal.
  return sanitize(out.join('\n')) + '\n';
}

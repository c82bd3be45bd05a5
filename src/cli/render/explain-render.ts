import type { PreemptDecode } from '../../analyzers/preempt-count.js';
import { paint, table } from '../style.js';

export function renderPreemptText(d: PreemptDecode): string {
  const out: string[] = [];
  out.push(`${paint('preempt_count', 'bold')} ${d.value} on ${d.arch}${d.kernel ? ` (kernel ${d.kernel})` : ''}`);
  out.push(`layout: ${d.layout}`);
  out.push(`summary: ${d.predicates.inNmi ? paint(d.summary, 'red') : d.summary}`);
  const t = table(['field', 'bits', 'value', 'meaning'], { colWidths: [30, 7, 7, 70] });
  for (const f of d.fields) t.push([f.name, f.bits, String(f.value), f.meaning]);
  out.push(t.toString());
  const p = d.predicates;
  const pt = table(['predicate', 'value'], { colWidths: [52, 14] });
  const yes = (b: boolean) => (b ? 'true' : 'false');
  pt.push(
    ['preempt_count() (resched flag masked off)', d.preemptCount],
    ['in_nmi()', yes(p.inNmi)],
    ['in_hardirq()', yes(p.inHardirq)],
    ['in_serving_softirq()', yes(p.inServingSoftirq)],
    ['softirq_count()', d.softirqCount],
    ['in_interrupt()  (NMI | hardirq | softirq count)', yes(p.inInterrupt)],
    ['in_task()', yes(p.inTask)],
    ['in_atomic()  (preempt_count() != 0)', yes(p.inAtomic)],
    ['preemptible()  (count 0; IRQs must also be on)', yes(p.preemptible)],
    ['need_resched (reschedule pending)', yes(d.needResched)],
  );
  out.push(pt.toString());
  out.push(paint('This context forbids:', 'bold'));
  for (const f of d.forbids) out.push(`  - ${f}`);
  if (d.notes.length) {
    out.push(paint('Notes:', 'bold'));
    for (const n of d.notes) out.push(`  - ${n}`);
  }
  return out.join('\n') + '\n';
}

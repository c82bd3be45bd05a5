// `ktriage triage --html FILE`: one self-contained page for the person who runs a fleet. No external
// asset of any kind (a CSP meta tag forbids loading one), charts as inline SVG, one small inline
// script to sort the table. Every string from a dump, a log or a file name is untrusted: control
// characters stripped, then HTML-escaped, in esc() and nowhere else.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sanitizeLine } from '../util/sanitize.js';
import type { Group, Grouper } from './group.js';

export interface HtmlMeta { generated: Date; ms: number; args: string[] }

export function esc(s: string | number | bigint | boolean | null | undefined): string {
  return sanitizeLine(String(s ?? '')).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fileLink(p: string, text = p): string {
  return `<a href="${esc(pathToFileURL(path.resolve(p)).href)}">${esc(text)}</a>`;
}

const CHART_W = 640;

/** Most bars in the kernel chart; the rest are summed into one. */
const MAX_KERNEL_BARS = 30;
/** A day chart spanning more days than this shows only the days that have inputs. */
const MAX_DAY_SPAN = 400;

/** Horizontal bars, one per label: readable with long kernel release names. */
function barChart(title: string, entries: [string, number][], cls: string): string {
  if (entries.length === 0) return '';
  const max = Math.max(...entries.map(([, v]) => v));
  const row = 20;
  const labelW = 230;
  const h = entries.length * row + 8;
  const bars = entries
    .map(([label, v], i) => {
      const w = Math.max(1, Math.round(((CHART_W - labelW - 60) * v) / max));
      const y = 4 + i * row;
      return `<g class="bar" data-label="${esc(label)}" data-value="${v}"><text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(label.length > 36 ? label.slice(0, 35) + '…' : label)}</text><rect x="${labelW}" y="${y + 3}" width="${w}" height="${row - 6}"></rect><text x="${labelW + w + 4}" y="${y + 14}">${v}</text></g>`;
    })
    .join('');
  return `<figure class="chart ${cls}"><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${CHART_W}" height="${h}" viewBox="0 0 ${CHART_W} ${h}" role="img" aria-label="${esc(title)}">${bars}</svg></figure>`;
}

function kernelEntries(byKernel: Map<string, number>): [string, number][] {
  const all = [...byKernel].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (all.length <= MAX_KERNEL_BARS) return all;
  const rest = all.slice(MAX_KERNEL_BARS - 1);
  return [...all.slice(0, MAX_KERNEL_BARS - 1), [`${rest.length} other kernels`, rest.reduce((n, [, v]) => n + v, 0)]];
}

/** Days in order, the quiet days between them included (a trend needs its gaps) when the span is short. */
function dayEntries(byDay: Map<string, number>): [string, number][] {
  const days = [...byDay].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (days.length < 2) return days;
  const t0 = Date.parse(days[0][0]);
  const t1 = Date.parse(days[days.length - 1][0]);
  const span = Math.round((t1 - t0) / 86_400_000) + 1;
  if (!Number.isFinite(span) || span > MAX_DAY_SPAN) return days;
  const out: [string, number][] = [];
  for (let i = 0; i < span; i++) {
    const d = new Date(t0 + i * 86_400_000).toISOString().slice(0, 10);
    out.push([d, byDay.get(d) ?? 0]);
  }
  return out;
}

/** Vertical columns along time; a label under every few columns. */
function columnChart(title: string, entries: [string, number][], cls: string): string {
  if (entries.length === 0) return '';
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const plotH = 160;
  const colW = Math.max(2, Math.min(40, Math.floor((CHART_W - 40) / entries.length)));
  const w = Math.max(CHART_W, 40 + colW * entries.length);
  const every = Math.max(1, Math.ceil(entries.length / Math.floor(w / 80)));
  const cols = entries
    .map(([label, v], i) => {
      const h = v === 0 ? 0 : Math.max(1, Math.round((plotH * v) / max));
      const x = 30 + i * colW;
      const tick = i % every === 0 ? `<text x="${x}" y="${plotH + 24}">${esc(label)}</text>` : '';
      return `<g class="bar" data-label="${esc(label)}" data-value="${v}"><title>${esc(label)}: ${v}</title><rect x="${x}" y="${plotH + 6 - h}" width="${Math.max(1, colW - 1)}" height="${h}"></rect>${tick}</g>`;
    })
    .join('');
  const h = plotH + 32;
  return `<figure class="chart ${cls}"><figcaption>${esc(title)} (highest: ${max})</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}"><line x1="28" y1="${plotH + 6}" x2="${w}" y2="${plotH + 6}" stroke="#999"></line><text x="0" y="14">${max}</text>${cols}</svg></figure>`;
}

function kernelsCell(g: Group): string {
  return [...g.kernels].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${esc(k)}&nbsp;×${n}`).join('<br>');
}

function groupRow(g: Group, i: number): string {
  const r = g.representative;
  return `<tr class="group" data-key="${esc(g.key)}">
<td class="count" data-sort="${g.count}">${g.count}</td>
<td class="key"><a href="#g${i}">${esc(g.key)}</a></td>
<td class="title">${esc(r.title ?? '(no crash report)')}</td>
<td class="hazards">${[...g.hazards].map(esc).join('<br>') || '—'}</td>
<td class="kernels" data-sort="${g.kernels.size}">${kernelsCell(g)}</td>
<td class="first" data-sort="${esc(g.first.day)}">${esc(g.first.day)}<br>${fileLink(g.first.input, path.basename(g.first.input))}</td>
<td class="last" data-sort="${esc(g.last.day)}">${esc(g.last.day)}<br>${fileLink(g.last.input, path.basename(g.last.input))}</td>
<td class="example">${fileLink(r.input)}</td>
</tr>`;
}

function groupSection(g: Group, i: number): string {
  const d = g.detail;
  const cpus = d && d.cpus.length
    ? `<table class="cpus"><thead><tr><th>CPU</th><th>preempt_count</th><th>context</th><th>task</th><th>state</th></tr></thead><tbody>${d.cpus
        .map((c) => `<tr${c.panicked ? ' class="panicked"' : ''}><td>${c.panicked ? '&gt;' : ''}${c.cpu}</td><td>${esc(c.preemptCount ?? '—')}</td><td>${esc(c.context)}</td><td>${esc(c.task)}</td><td>${esc(c.state)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="none">no per-CPU context (a log names only the reporting CPU, when it does)</p>';
  const more = g.count > g.inputs.length ? `<li>… and ${g.count - g.inputs.length} more (the --jsonl lines list every input)</li>` : '';
  return `<section class="detail" id="g${i}">
<h3>${esc(g.key)} <span class="n">${g.count} input${g.count === 1 ? '' : 's'}</span></h3>
<p class="verdict">${esc(d?.verdict ?? '')}</p>
${d?.headline ? `<p class="headline"><code>${esc(d.headline)}</code></p>` : ''}
<p>Representative: ${fileLink(g.representative.input)} (${esc(g.representative.kind)}, ${esc(g.representative.format)}, kernel ${esc(g.representative.kernel ?? 'unknown')})</p>
<h4>Backtrace <span class="src">${esc(d?.backtraceSource ?? '')}</span></h4>
<pre class="bt">${d && d.backtrace.length ? d.backtrace.map(esc).join('\n') : '(none)'}</pre>
<h4>Per-CPU context</h4>
${cpus}
<details><summary>Inputs</summary><ul class="inputs">${g.inputs.map((p) => `<li>${fileLink(p)}</li>`).join('')}${more}</ul></details>
</section>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
#groups th{cursor:pointer;background:#f0f0f0;user-select:none}#groups th.asc::after{content:" ▲"}#groups th.desc::after{content:" ▼"}
td.count{text-align:right;font-weight:bold}td.first,td.last{white-space:nowrap}td.key{font-family:monospace;max-width:28em;word-break:break-all}
.charts{display:flex;flex-wrap:wrap;gap:2em}.chart svg text{font-size:11px}.chart rect{fill:#4a7ab5}.day rect{fill:#b5704a}
pre.bt{background:#f7f7f7;padding:.5em;overflow-x:auto;font-size:12px}section.detail{border-top:2px solid #ddd;margin-top:1.5em}
tr.panicked{background:#fff3e0}.n,.src{color:#777;font-weight:normal;font-size:.85em}.errors td{font-family:monospace}`;

const SCRIPT = `(function(){var t=document.getElementById('groups');if(!t)return;var ths=t.tHead.rows[0].cells;
for(var i=0;i<ths.length;i++)(function(i){ths[i].addEventListener('click',function(){var th=ths[i],asc=!th.classList.contains('asc');
for(var j=0;j<ths.length;j++)ths[j].classList.remove('asc','desc');th.classList.add(asc?'asc':'desc');
var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);var v=function(r){var c=r.cells[i];return c.dataset.sort!==undefined?c.dataset.sort:c.textContent;};
rows.sort(function(a,c){var x=v(a),y=v(c),nx=Number(x),ny=Number(y);var d=(!isNaN(nx)&&!isNaN(ny)&&x!==''&&y!=='')?nx-ny:String(x).localeCompare(String(y));return asc?d:-d;});
rows.forEach(function(r){b.appendChild(r);});});})(i);})();`;

export function renderHtml(g: Grouper, meta: HtmlMeta): string {
  const groups = g.sorted();
  const errors = g.errors.length
    ? `<h2>Inputs that failed (${g.failed})</h2><table class="errors"><thead><tr><th>input</th><th>error</th></tr></thead><tbody>${g.errors
        .map((e) => `<tr class="error"><td>${fileLink(e.input)}</td><td>${esc(e.error)}</td></tr>`)
        .join('')}</tbody></table>${g.failed > g.errors.length ? `<p>… and ${g.failed - g.errors.length} more in the --jsonl lines</p>` : ''}`
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>ktriage: ${g.inputs} inputs, ${groups.length} groups</title>
<style>${CSS}</style></head><body>
<h1>Kernel crash triage</h1>
<p class="summary" data-inputs="${g.inputs}" data-analysed="${g.analysed}" data-failed="${g.failed}" data-groups="${groups.length}">${g.inputs} inputs: ${g.analysed} analysed (${g.withHazard} with a known hazard), ${g.failed} failed; ${groups.length} groups by ${esc(g.by)}. Generated ${esc(meta.generated.toISOString())} in ${(meta.ms / 1000).toFixed(1)} s.</p>
<div class="charts">${barChart('Inputs by kernel', kernelEntries(g.byKernel), 'kernel')}${columnChart('Inputs by day (crash time, else file mtime; UTC)', dayEntries(g.byDay), 'day')}</div>
<h2>Groups</h2>
<p>Click a column heading to sort. A key links to the group's representative below; dates link to the earliest and latest input.</p>
<table id="groups"><thead><tr><th>count</th><th>${esc(g.by)}</th><th>title</th><th>hazards</th><th>kernels</th><th>first</th><th>last</th><th>example</th></tr></thead>
<tbody>
${groups.map(groupRow).join('\n')}
</tbody></table>
${errors}
<h2>Representatives</h2>
${groups.map(groupSection).join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}

// `ktriage triage <paths or globs...>`: a fleet's dumps and logs in one batch. Inputs are walked
// lazily and analysed in worker threads; each result is written as it arrives (--jsonl) and only
// the group counters stay in memory, so the batch size is bounded by disk, not RAM.
//
// Exit status is a bit set, so one number answers both questions a fleet script asks:
//   0  every input analysed, no known hazard      1  some input matched a known hazard
//   4  some inputs failed (error lines), or came   5  both
//      from incomplete dumps missing what the analysis needed (partial results)
//   2  usage error: nothing was analysed (this one alone, never combined)
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InputError } from '../../util/errors.js';
import { sanitizeLine } from '../../util/sanitize.js';
import { Grouper } from '../../triage/group.js';
import { renderHtml } from '../../triage/html.js';
import { walkInputs } from '../../triage/inputs.js';
import { DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_MS, runPool } from '../../triage/pool.js';
import type { GroupBy, TriageLine, TriageSummaryLine } from '../../triage/types.js';
import { SCHEMA_VERSION } from '../../api/schema-version.js';
import { jsonReplacer } from '../render/json.js';
import { table } from '../style.js';

const TRIAGE_HAZARD = 1;
const TRIAGE_FAILED = 4;

export interface TriageOptions {
  jsonl?: boolean;
  jobs?: string;
  groupBy?: string;
  html?: string;
  exclude?: string[];
  workerMemory?: string;
  timeout?: string;
}

// The same characters render/json.ts escapes: a JSON line may reach a terminal.
const UNSAFE = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
function jsonLine(v: TriageLine): string {
  return JSON.stringify(v, jsonReplacer).replace(UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '\n';
}

function intOption(name: string, v: string | undefined, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`${name} wants an integer from ${min} to ${max}, got ${JSON.stringify(v.slice(0, 20))}`);
  return n;
}

const GROUP_BY: GroupBy[] = ['signature', 'hazard', 'title', 'kernel'];

export async function runTriage(args: string[], opts: TriageOptions): Promise<{ text: string; code: number }> {
  if (args.length === 0) throw new InputError('triage wants at least one file, directory or glob');
  const groupBy = (opts.groupBy ?? 'signature') as GroupBy;
  if (!GROUP_BY.includes(groupBy)) throw new InputError(`--group-by wants one of ${GROUP_BY.join(', ')}`);
  const jobs = intOption('--jobs', opts.jobs, 1, 256, availableParallelism());
  const memoryMb = intOption('--worker-memory', opts.workerMemory, 64, 65536, DEFAULT_MEMORY_MB);
  const timeoutMs = intOption('--timeout', opts.timeout, 1, 86400, DEFAULT_TIMEOUT_MS / 1000) * 1000;

  const started = Date.now();
  const grouper = new Grouper(groupBy);
  const stdout = process.stdout;
  // A reader that goes away (`| head`) ends the batch as SIGPIPE ends a C tool, with the status a
  // shell shows for it (128 + 13), instead of an unhandled EPIPE with a stack trace.
  const brokenPipe = (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(141);
  };
  stdout.on('error', brokenPipe);
  const emit = (l: TriageLine) => {
    if (opts.jsonl) stdout.write(jsonLine(l));
  };

  // Progress only for a person watching: a pipe or a file gets nothing on stderr but errors.
  const tty = Boolean(process.stderr.isTTY);
  let lastDraw = 0;
  const progress = (final = false) => {
    if (!tty) return;
    const now = Date.now();
    if (!final && now - lastDraw < 200) return;
    lastDraw = now;
    const rate = grouper.inputs / Math.max(0.001, (now - started) / 1000);
    process.stderr.write(`\r\x1b[Kktriage triage: ${grouper.inputs} done (${grouper.failed} failed, ${grouper.withHazard} with a hazard), ${grouper.groups.size} groups, ${rate.toFixed(1)} inputs/s${final ? '\n' : ''}`);
  };

  await runPool(walkInputs(args, opts.exclude ?? []), {
    jobs,
    memoryMb,
    timeoutMs,
    // Do not pull the next input while stdout's consumer lags: lines would pile up in memory.
    ready: () => (stdout.writableNeedDrain ? once(stdout, 'drain').then(() => undefined) : Promise.resolve()),
  }, (r) => {
    grouper.add(r.line, r.detail);
    emit(r.line);
    progress();
  });
  progress(true);

  const ms = Date.now() - started;
  const code = (grouper.withHazard > 0 ? TRIAGE_HAZARD : 0) | (grouper.failed + grouper.partial > 0 ? TRIAGE_FAILED : 0);
  const summary: TriageSummaryLine = { schemaVersion: SCHEMA_VERSION, type: 'summary', inputs: grouper.inputs, analysed: grouper.analysed, failed: grouper.failed, partial: grouper.partial, withHazard: grouper.withHazard, groups: grouper.groups.size, groupBy, ms, exitCode: code };
  if (opts.html) writeFileSync(opts.html, renderHtml(grouper, { generated: new Date(), ms, args }));
  if (opts.jsonl) {
    for (const l of grouper.lines()) emit(l);
    emit(summary);
  }
  // Lines still buffered for a slow reader must reach it before the status is final.
  if (stdout.writableNeedDrain) await once(stdout, 'drain');
  if (opts.jsonl) return { text: '', code };
  return { text: renderText(grouper, summary), code };
}

function renderText(g: Grouper, s: TriageSummaryLine): string {
  const clip = (v: string, n: number) => {
    const t = sanitizeLine(v);
    return t.length > n ? t.slice(0, n - 1) + '…' : t;
  };
  const t = table(['count', g.by, 'kernels', 'first', 'last', 'example']);
  for (const l of g.lines()) {
    const ks = Object.entries(l.kernels);
    t.push([
      String(l.count),
      clip(l.key, 60),
      ks.slice(0, 3).map(([k, n]) => `${clip(k, 30)} x${n}`).join('\n') + (ks.length > 3 ? `\n+${ks.length - 3} more` : ''),
      `${l.first.day}\n${clip(l.first.input, 40)}`,
      `${l.last.day}\n${clip(l.last.input, 40)}`,
      clip(l.example, 50),
    ]);
  }
  const lines = [g.groups.size ? t.toString() : '(no input was analysed)'];
  for (const e of g.errors.slice(0, 20)) lines.push(`failed: ${clip(e.input, 80)}: ${clip(e.error, 160)}`);
  if (g.failed > 20) lines.push(`failed: ... and ${g.failed - 20} more (--jsonl lists them all)`);
  const rate = s.inputs / Math.max(0.001, s.ms / 1000);
  lines.push(`${s.inputs} inputs: ${s.analysed} analysed (${s.withHazard} with a known hazard${s.partial ? `, ${s.partial} partial: incomplete dumps` : ''}), ${s.failed} failed; ${s.groups} groups by ${s.groupBy}; ${(s.ms / 1000).toFixed(1)} s, ${rate.toFixed(1)} inputs/s`);
  return lines.join('\n') + '\n';
}

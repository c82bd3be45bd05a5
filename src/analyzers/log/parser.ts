// The console-log crash-report parser. See index.ts for the API.
import type { CrashReport, ExceptionBlock, Frame, FrameContext, LogAnalysis, Registers } from '../report-model.js';
import { sanitizeLine } from '../../util/sanitize.js';
import { HEADER_HINT, OOPS_FORMATS, type OopsFormat } from './formats.js';
import { parseCrashExceptionRip, parseCrashFrameLine, parseFrameLine, parseRipValue } from './frames.js';
import { findGuilty, STACK_END } from './guilty.js';
import { normalizeLog, type LogLine } from './normalize.js';
import { normalizeTitle, titleFunction } from './title.js';

export interface ParseOptions {
  /** Reports kept (the rest are counted in a note). Default 1000. */
  maxReports?: number;
  /** Input lines looked at. Default 5,000,000. */
  maxLines?: number;
}

interface Hit { i: number; fmt: OopsFormat; m: RegExpExecArray }

interface Segment {
  hit: Hit;
  start: number;
  /** Exclusive end of the report's own body. */
  bodyEnd: number;
  panic: Hit | null;
  /** Exclusive end of the panic tail (lines printed by panic()). */
  panicEnd: number;
}

/** Lines after a header in which a further header belongs to the same report. */
const ABSORB = 10;
/** Lines of a report body looked at. */
const MAX_BODY = 1500;

function matchHeader(text: string): { fmt: OopsFormat; m: RegExpExecArray } | null {
  if (!HEADER_HINT.test(text)) return null;
  for (const fmt of OOPS_FORMATS) {
    const m = fmt.header.exec(text);
    if (m) return { fmt, m };
  }
  return null;
}

const END_TRACE = /---\[ end trace [0-9a-f]+ \]---|---\[ end trace \]---/;
const PANIC_END = /---\[ end Kernel panic|^\s*Rebooting in \d+ seconds/;

export function parseLog(text: string, opts: ParseOptions = {}): LogAnalysis {
  const maxReports = opts.maxReports ?? 1000;
  const notes: string[] = [];
  const norm = normalizeLog(text ?? '', opts.maxLines ?? 5_000_000);
  const lines = norm.lines;
  if (norm.repairedGlue) notes.push('records glued onto one line (pasted log) were split again');
  if (norm.longLines) notes.push(`${norm.longLines} over-long line(s) were cut`);
  if (lines.length >= (opts.maxLines ?? 5_000_000)) notes.push('input truncated: too many lines');
  const texts = lines.map((l) => l.text);

  // 1. header hits
  const hits: Hit[] = [];
  for (let i = 0; i < texts.length; i++) {
    const h = matchHeader(texts[i]);
    if (h && !h.fmt.suppress) hits.push({ i, fmt: h.fmt, m: h.m });
  }

  // 2. segments
  const segs: Segment[] = [];
  let dropped = 0;
  let cur: Segment | null = null;
  for (const hit of hits) {
    if (cur) {
      if (cur.panic) {
        if (hit.i < cur.panicEnd) continue; // printed by the dying kernel
      } else if (hit.fmt.kind === 'panic' && cur.hit.fmt.kind !== 'panic') {
        cur.panic = hit;
        cur.bodyEnd = Math.min(cur.bodyEnd, hit.i);
        cur.panicEnd = panicTailEnd(texts, hit.i, hits);
        continue;
      } else if (hit.i - cur.hit.i <= ABSORB && !endsBetween(texts, cur.hit.i, hit.i)) {
        continue;
      }
    }
    const start = reportStart(texts, hit.i);
    if (cur) cur.bodyEnd = Math.min(cur.bodyEnd, start);
    if (segs.length >= maxReports) { dropped++; cur = null; continue; }
    cur = { hit, start, bodyEnd: texts.length, panic: null, panicEnd: 0 };
    if (hit.fmt.kind === 'panic') {
      cur.panic = hit;
      cur.panicEnd = panicTailEnd(texts, hit.i, hits);
      cur.bodyEnd = cur.panicEnd;
    }
    segs.push(cur);
  }
  if (dropped) notes.push(`only the first ${maxReports} reports are kept; ${dropped} more were found`);

  // report body ends at `---[ end trace`
  for (const s of segs) {
    const lim = Math.min(s.bodyEnd, s.hit.i + MAX_BODY);
    for (let i = s.hit.i + 1; i < lim; i++) {
      if (END_TRACE.test(texts[i])) { s.bodyEnd = i + 1; break; }
    }
    s.bodyEnd = Math.min(s.bodyEnd, s.hit.i + MAX_BODY);
  }

  const known = new Set<string>();
  const reports: CrashReport[] = segs.map((s) => buildReport(s, lines, texts, known));

  // 3. `crash` backtraces (`crash> bt`)
  parseCrashBacktraces(lines, texts, reports);

  const panics: string[] = [];
  for (const t of texts) {
    if (!t.includes('Kernel panic')) continue;
    const p = /Kernel panic - not syncing: .*/.exec(t);
    if (p && panics.length < 100 && !/^\s*-+\[ end/.test(t)) panics.push(clean(p[0]));
  }
  let kernelRelease: string | null = null;
  for (const r of reports) if (r.kernelRelease) { kernelRelease = r.kernelRelease; break; }
  if (!kernelRelease) {
    for (const t of texts) {
      if (!t.startsWith('Linux version ')) continue;
      const m = /^Linux version (\S+)/.exec(t);
      if (m) { kernelRelease = clean(m[1]); break; }
    }
  }
  return { reports, panics, kernelRelease, lines: lines.length, notes };
}

function endsBetween(texts: string[], a: number, b: number): boolean {
  for (let i = a + 1; i < b; i++) if (END_TRACE.test(texts[i])) return true;
  return false;
}

function panicTailEnd(texts: string[], from: number, hits: Hit[]): number {
  const lim = Math.min(texts.length, from + 400);
  for (let i = from + 1; i < lim; i++) if (PANIC_END.test(texts[i])) return i + 1;
  // no end marker: up to the next header that is not absorbed
  for (const h of hits) if (h.i > from + ABSORB && h.fmt.kind !== 'panic') return Math.min(h.i, lim);
  return lim;
}

const PRE_HEADER = /^\s*(?:-+\[ cut here \]-+|={10,}|-{10,}|\[ BUG: .*\]|kasan: .*|BUG: KASAN: .*)$/;
function reportStart(texts: string[], i: number): number {
  let s = i;
  for (let k = 0; k < 3 && s > 0 && PRE_HEADER.test(texts[s - 1]); k++) s--;
  return s;
}

function clean(s: string): string {
  return sanitizeLine(s).slice(0, 512);
}

const REG_LINE = /^\s*(?:R[A-Z0-9]{1,3}|E[A-Z]{2}|[FGCDES]S|knlGS|CR\d|DR\d|PKRU|ORIG_RAX|EFLAGS|x\d{1,2}|pc|lr|sp|pstate)\s*:/;
const REG_PAIR = /\b([A-Za-z][A-Za-z0-9_]{0,7})\s?:\s?(?:([0-9a-f]{4}):)?([0-9a-f]{4,16})\b/g;
const CPU_LINE = /\bCPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (.*?)(?: Kdump: \w+)?\s+(Not tainted|Tainted: [A-Z ]+?)\s+((?:[-\d]|\S*\d).*)$/;
const CPU_SHORT = /\bCPU: (\d+) PID: (\d+)\b/;
const RELEASE = /(\d+\.\d+(?:\.\d+)?[\w.+~-]*)\s+#/;

function parseRegisters(t: string, into: Registers): void {
  REG_PAIR.lastIndex = 0;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = REG_PAIR.exec(t)) && n++ < 24) {
    const name = m[1];
    if (name === 'RIP' || name === 'Code') continue;
    into[name] = m[3];
    if (m[2] && (name === 'RSP' || name === 'ESP')) into[name === 'RSP' ? 'SS' : 'SS'] = m[2];
  }
}

const CONTEXT_OPEN = /^\s*<(NMI|IRQ|SOFTIRQ|TASK|#DF|DB|MCE|VC)>\s*$/;
const CONTEXT_CLOSE = /^\s*<\/(NMI|IRQ|SOFTIRQ|TASK|#DF|DB|MCE|VC)>\s*$|^\s*<(EOI|EOE)>\s*$/;

function ctxName(s: string): FrameContext {
  if (s === 'NMI' || s === 'IRQ' || s === 'SOFTIRQ' || s === 'TASK') return s;
  return 'unknown';
}

function buildReport(s: Segment, lines: LogLine[], texts: string[], known: Set<string>): CrashReport {
  const fmt = s.hit.fmt;
  const body = texts.slice(s.hit.i, s.bodyEnd);
  const tail = s.panic && s.panic.i !== s.hit.i ? texts.slice(s.panic.i, s.panicEnd) : [];
  const r: CrashReport = {
    kind: fmt.kind,
    title: '',
    guiltyFrame: null,
    headline: clean(texts[s.hit.i]),
    cpu: null, pid: null, comm: null, tainted: null, kernelRelease: null, hardware: null, location: null,
    rip: null, ripRaw: null, registers: {}, code: null, frames: [], exceptions: [], modules: [],
    panic: s.panic ? clean(/Kernel panic - not syncing: .*/.exec(texts[s.panic.i])?.[0] ?? texts[s.panic.i]) : null,
    panicOnWarn: false,
    startLine: lines[s.start]?.src ?? 0,
    endLine: lines[Math.max(s.hit.i, (s.panic ? s.panicEnd : s.bodyEnd) - 1)]?.src ?? 0,
    corrupted: false,
  };
  if (r.panic && /panic_on_warn set/.test(r.panic)) r.panicOnWarn = true;

  // fields
  const scanFields = (arr: string[]) => {
    for (const t of arr) {
      if (r.cpu === null) {
        const m = CPU_LINE.exec(t);
        if (m) {
          r.cpu = +m[1]; r.pid = +m[2]; r.comm = clean(m[3]).trim();
          r.tainted = m[4] === 'Not tainted' ? 'Not tainted' : clean(m[4].replace(/^Tainted:\s*/, '')).replace(/\s+/g, ' ').trim();
          const rel = RELEASE.exec(m[5] + ' #') ?? /(\d+\.\d+\S*)/.exec(m[5]);
          if (rel) r.kernelRelease = clean(rel[1]);
        }
      }
      if (r.hardware === null) {
        const m = /^\s*Hardware name: (.*)$/.exec(t);
        if (m) r.hardware = clean(m[1]);
      }
      if (!r.modules.length) {
        const m = /^\s*Modules linked in:\s*(.*)$/.exec(t);
        if (m) r.modules = m[1].split(/\s+/).filter((x) => x && !x.startsWith('[')).map((x) => clean(x.replace(/\(.*\)$/, ''))).slice(0, 1000);
      }
    }
  };
  scanFields(body.slice(0, 400));
  if (r.cpu === null && tail.length) scanFields(tail.slice(0, 100));
  if (r.cpu === null) {
    const m = CPU_SHORT.exec(texts[s.hit.i]);
    if (m) { r.cpu = +m[1]; r.pid = +m[2]; }
  }
  const loc = /\bat ((?:[\w.+-]+\/)*[\w.+-]+\.[a-zA-Z]{1,3}:\d+)/.exec(texts[s.hit.i]) ?? /kernel BUG at ((?:[\w.+-]+\/)*[\w.+-]+:\d+)/.exec(texts[s.hit.i]);
  if (loc) r.location = clean(loc[1]);

  // registers, code, frames with context sections and exception blocks
  parseTrace(body, r, known);
  if (!r.frames.length && tail.length) parseTrace(tail, r, known);

  // title and guilty frame: search the body, then what panic() printed
  const searchLines = body.concat(tail).slice(0, MAX_BODY);
  const guilty = findGuilty({ fmt, header: s.hit.m, lines: searchLines });
  let rm: RegExpExecArray | null = null;
  if (fmt.report) rm = fmt.report.exec(searchLines.slice(0, 200).join('\n'));
  const hdrGuilty = fmt.guilty !== undefined ? s.hit.m[fmt.guilty] : undefined;
  const func = guilty ? titleFunction(guilty) : hdrGuilty ? titleFunction(hdrGuilty) : null;
  let title = fmt.title.replace(/\{(R?)(\d)\}/g, (_x, R: string, d: string) => {
    const src = R ? rm : s.hit.m;
    return (src && src[+d]) || '';
  });
  if (title.includes('{FUNC}')) {
    title = title.replace('{FUNC}', func ?? 'corrupted');
    if (!func) r.corrupted = true;
  }
  r.title = clean(normalizeTitle(title.replace(/\s+$/, '')));
  r.guiltyFrame = func ? clean(func) : null;
  return r;
}

function parseTrace(body: string[], r: CrashReport, known: Set<string>): void {
  const ctx: FrameContext[] = [];
  const cur = (): FrameContext => ctx[ctx.length - 1] ?? 'unknown';
  let inTrace = false;
  let exc: ExceptionBlock | null = null;
  for (let k = 0; k < body.length; k++) {
    const t = body[k];
    if (k > 0 && STACK_END.test(t) && !/^\s*(?:Code: |CPU: |Hardware name:|Modules linked in)/.test(t) && inTrace && !/^-{10,}/.test(t)) {
      if (/^\s*(?:Allocated by|Freed by|NMI backtrace|Showing all locks|Kernel panic|---\[ end)/.test(t)) break;
    }
    let m = /^\s*(?:Call Trace:|Call trace:|Backtrace:|stack backtrace:|Exception stack\(|backtrace:)/.exec(t);
    if (m) { inTrace = true; continue; }
    m = CONTEXT_OPEN.exec(t);
    if (m) { ctx.push(ctxName(m[1])); inTrace = true; continue; }
    m = CONTEXT_CLOSE.exec(t);
    if (m) { ctx.pop(); continue; }
    m = /^\s*(?:RIP|IP|EIP|NIP|pc|PC is at)\s*:?\s*(.*)$/.exec(t);
    if (m && /^\s*(?:RIP|IP|EIP|NIP):|^\s*pc\s*:|^\s*PC is at/.test(t)) {
      const { frame } = parseRipValue(m[1]);
      if (frame?.function) known.add(frame.function);
      if (!inTrace && !r.ripRaw) {
        r.ripRaw = clean(m[1]);
        r.rip = frame;
      } else if (inTrace || r.ripRaw) {
        // an exception RIP block inside the trace: the interrupted context
        exc = { rip: frame, ripRaw: clean(m[1]), registers: {}, code: null, frameIndex: r.frames.length };
        if (r.exceptions.length < 100) r.exceptions.push(exc);
        if (frame?.function && r.frames.length < 1000) {
          r.frames.push({ ...frame, context: cur(), exceptionRip: true });
        }
        inTrace = true;
      }
      continue;
    }
    m = /^\s*Code: (.*)$/.exec(t);
    if (m) {
      const code = { raw: clean(m[1]), instructions: [], faultingInstruction: null, isUd2: /<0f> 0b\b/.test(m[1]) };
      if (exc) exc.code = code;
      else if (!r.code) r.code = code;
      continue;
    }
    if (REG_LINE.test(t)) {
      parseRegisters(t, exc ? exc.registers : r.registers);
      continue;
    }
    const f = parseFrameLine(t, cur());
    if (f) {
      if (/^\s*\[<[0-9a-f]+>\]\s*$/.test(t) && !inTrace) continue;
      if (!inTrace && !f.function) continue;
      inTrace = true;
      exc = null;
      if (f.function) known.add(f.function);
      if (f.module) f.module = clean(f.module);
      if (f.function) f.function = clean(f.function);
      if (r.frames.length < 1000) r.frames.push(f);
    }
  }
}

/** `crash` utility backtraces (`PID: 33 TASK: ... CPU: 3 COMMAND: "bash"`, `#0 [sp] func at addr`). */
function parseCrashBacktraces(lines: LogLine[], texts: string[], reports: CrashReport[]): void {
  const known = new Set<string>();
  for (const r of reports) for (const f of r.frames) if (f.function) known.add(f.function);
  for (const r of reports) if (r.rip?.function) known.add(r.rip.function);
  for (let i = 0; i < texts.length; i++) {
    const first = parseCrashFrameLine(texts[i]);
    if (!first || first.index !== 0) continue;
    // header just before
    let pid: number | null = null; let cpu: number | null = null; let comm: string | null = null;
    for (let k = Math.max(0, i - 3); k <= i; k++) {
      const h = /PID: (\d+)\s+TASK: [0-9a-f]+\s+CPU: (\d+)\s+COMMAND: "?([^"]*)"?/.exec(texts[k]);
      if (h) { pid = +h[1]; cpu = +h[2]; comm = clean(h[3]).trim(); }
    }
    const frames: Frame[] = [];
    const exceptions: ExceptionBlock[] = [];
    let j = i;
    let lastIdx = -1;
    for (; j < texts.length && j < i + 2000; j++) {
      const t = texts[j];
      const cf = parseCrashFrameLine(t);
      if (cf) {
        if (cf.index <= lastIdx) break;
        lastIdx = cf.index;
        cf.frame.function = cf.frame.function ? clean(cf.frame.function) : null;
        if (cf.frame.module) cf.frame.module = clean(cf.frame.module);
        if (frames.length < 1000) frames.push(cf.frame);
        continue;
      }
      const ex = /\[exception RIP: ([^\]]+)\]/.exec(t);
      if (ex) {
        const f = parseCrashExceptionRip(ex[1].trim(), known);
        if (f.function) f.function = clean(f.function);
        const regs: Registers = {};
        parseRegisters(t.slice(ex.index + ex[0].length), regs);
        exceptions.push({ rip: f, ripRaw: clean(ex[1]), registers: regs, code: null, frameIndex: frames.length });
        frames.push({ ...f, exceptionRip: true });
        continue;
      }
      if (REG_LINE.test(t) || /^\s*(?:RIP|RSP|R\d+|ORIG_RAX|CS): /.test(t)) {
        if (exceptions.length) parseRegisters(t, exceptions[exceptions.length - 1].registers);
        continue;
      }
      break;
    }
    i = j - 1;
    // Attach to the report it shows (same CPU or the last report before it); else report it alone.
    const before = reports.filter((r) => r.startLine <= lines[Math.min(j, lines.length - 1)].src);
    const host = before.find((r) => cpu !== null && r.cpu === cpu) ?? before[before.length - 1] ?? null;
    const bt = { pid, cpu, comm, frames, exceptions };
    if (host) {
      host.crashBacktrace = bt;
      if (!host.frames.length) host.frames = frames;
      continue;
    }
    const exRip = exceptions[0]?.rip ?? null;
    const names = frames.map((f) => f.function ?? '');
    const isWarn = names.includes('__warn') || names.some((n) => n.startsWith('warn_slowpath'));
    const guilty = exRip?.function ?? null;
    reports.push({
      kind: isWarn ? 'WARNING' : 'panic',
      title: normalizeTitle(isWarn && guilty ? `WARNING in ${titleFunction(guilty)}` : guilty ? `crash in ${titleFunction(guilty)}` : 'crash backtrace'),
      guiltyFrame: guilty ? titleFunction(guilty) : null,
      headline: clean(texts[i]),
      cpu, pid, comm, tainted: null, kernelRelease: null, hardware: null, location: null,
      rip: exRip, ripRaw: exceptions[0]?.ripRaw ?? null, registers: exceptions[0]?.registers ?? {}, code: null,
      frames, exceptions, modules: [], panic: null, panicOnWarn: false,
      startLine: lines[i].src, endLine: lines[Math.min(j, lines.length) - 1].src, corrupted: false,
      crashBacktrace: bt,
    });
  }
}

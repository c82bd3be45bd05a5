// The console-log crash-report parser. See index.ts for the API.
import type { CrashReport, ExceptionBlock, Frame, FrameContext, LogAnalysis, Registers } from '../report-model.js';
import { sanitizeLine } from '../../util/sanitize.js';
import { HEADER_HINT, OOPS_FORMATS, type OopsFormat } from './formats.js';
import { ARM64_FRAME, assignArm64Contexts, contextFromPreemptCount, isRegisterOnlyLine, matchCrashAddress } from './arch.js';
import { baseFunctionName, parseCrashExceptionRip, parseCrashFrameLine, parseFrameLine, parseRipValue } from './frames.js';
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

/** Lines after a header in which a further header can belong to the same report. */
const ABSORB = 10;
/**
 * Headers that a report prints after its own first line: die()'s summary (`Oops: 0002 [#1]`,
 * arm's `Internal error: Oops:`, `invalid opcode: 0000` after `kernel BUG at`; arch/x86/kernel/
 * dumpstack.c __die_header(), arch/arm{,64}/kernel/traps.c die()), `kernel BUG at lib/list_debug.c`
 * after `list_add corruption` (lib/list_debug.c), x86's `kernel stack overflow` and double fault
 * after `BUG: stack guard page was hit` (arch/x86/kernel/traps.c handle_stack_overflow()), and a
 * repeat of the same header. Any other header in the report starts another report, which cuts
 * this one short (a second CPU's report written into it).
 */
/**
 * Messages that are not crash reports but print a stack of their own (dump_stack()): lib/fault-
 * inject.c fail_dump(), mm/page_alloc.c warn_alloc() ("%s: %pV, mode:%#x(%pGg)"), mm/gup.c's
 * "FAULT_FLAG_ALLOW_RETRY missing". Printed by another CPU into a report, their stack is not the
 * report's.
 */
const OWN_STACK = /FAULT_INJECTION: forcing a failure|: vmalloc: allocation failure|^\s*vmalloc: allocation failure|FAULT_FLAG_ALLOW_RETRY missing/;
const CONTINUES = new Set(['oops', 'internal-error', 'invalid-opcode', 'kernel-bug', 'stack-overflow', 'double-fault', 'unregister-netdevice']);
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

  // 1.-2. reports, found in each printk caller's own stream of records (see contextViews())
  const known = new Set<string>();
  const found: { first: number; report: CrashReport }[] = [];
  let dropped = 0;
  for (const view of contextViews(lines)) {
    const vlines = view.map((k) => lines[k]);
    const own = view.map((k) => lines[k].caller === lines[view[0]].caller);
    const got = segmentReports(vlines, own, known, maxReports);
    dropped += got.dropped;
    for (const x of got.reports) found.push({ first: view[x.first], report: x.report });
  }
  found.sort((a, b) => a.first - b.first);
  dropped += Math.max(0, found.length - maxReports);
  if (dropped) notes.push(`only the first ${maxReports} reports are kept; ${dropped} more were found`);
  const reports: CrashReport[] = found.slice(0, maxReports).map((x) => x.report);

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

/**
 * The streams of records a report can be read from. With CONFIG_PRINTK_CALLER every record
 * carries its caller (`[T123]` for a task, `[C1]` for a CPU in interrupt context; kernel/printk/
 * printk.c info_print_prefix()), and records of several callers interleave on the console: a
 * report is the records of the caller that printed its header. After "Sending NMI from CPU"
 * (lib/nmi_backtrace.c nmi_trigger_cpumask_backtrace()) the other CPUs print their backtraces from
 * NMI context (`[C1]`, `[C2]`...) on behalf of the report, so a CPU stream takes them in from there.
 * Without caller ids the log is one stream.
 */
function contextViews(lines: LogLine[]): number[][] {
  if (!lines.some((l) => l.caller)) return [lines.map((_l, k) => k)];
  const keys = new Map<string, number[]>();
  for (let k = 0; k < lines.length; k++) {
    const key = lines[k].caller ?? '';
    let v = keys.get(key);
    if (!v) { v = []; keys.set(key, v); }
    v.push(k);
  }
  const views: number[][] = [];
  for (const [key, own] of keys) {
    if (!key.startsWith('C')) { views.push(own); continue; }
    const nmi = own.find((k) => /Sending NMI from CPU/.test(lines[k].text));
    if (nmi === undefined) { views.push(own); continue; }
    const v = own.filter((k) => k <= nmi);
    for (let k = nmi + 1; k < lines.length; k++) if (lines[k].caller?.startsWith('C')) v.push(k);
    views.push(v);
  }
  return views;
}

/**
 * Reports of one stream of records; `first` is the index (in `lines`) of each report's header
 * (reports are ordered by their headers, as the first header in the log is the first crash).
 * Headers are looked for only on the stream's own lines (`own`), not on those it borrows.
 */
function segmentReports(lines: LogLine[], own: boolean[], known: Set<string>, limit: number): { reports: { first: number; report: CrashReport }[]; dropped: number } {
  const texts = lines.map((l) => l.text);
  const hits: Hit[] = [];
  for (let i = 0; i < texts.length; i++) {
    if (!own[i]) continue;
    const h = matchHeader(texts[i]);
    if (h && !h.fmt.suppress) hits.push({ i, fmt: h.fmt, m: h.m });
  }

  // Records tagged with their caller cannot hold another caller's report: a header close after
  // this report's own belongs to it.
  const tagged = lines.length > 0 && lines[0].caller !== undefined;
  const segs: Segment[] = [];
  let dropped = 0;
  let cur: Segment | null = null;
  for (const hit of hits) {
    if (cur && hit.fmt.partOf && hit.i - cur.hit.i < (hit.fmt.partOfWithin ?? MAX_BODY) && hit.fmt.partOf.some((p) => cur!.hit.fmt.id.startsWith(p)) && !endsBetween(texts, cur.hit.i, hit.i)) continue;
    if (cur) {
      if (cur.panic) {
        // printed by the dying kernel, unless (records without caller ids) it is another CPU's report
        if (hit.i < cur.panicEnd && (tagged || hit.fmt.kind === 'panic' || CONTINUES.has(hit.fmt.id) || hit.fmt.id === cur.hit.fmt.id)) continue;
        if (hit.i < cur.panicEnd) cur.panicEnd = hit.i;
      } else if (hit.fmt.kind === 'panic' && cur.hit.fmt.kind !== 'panic') {
        cur.panic = hit;
        cur.bodyEnd = Math.min(cur.bodyEnd, hit.i);
        cur.panicEnd = panicTailEnd(texts, hit.i, hits);
        continue;
      } else if (hit.i - cur.hit.i <= ABSORB && (tagged || CONTINUES.has(hit.fmt.id) || hit.fmt.id === cur.hit.fmt.id || warnMessage(texts, cur, hit)) && !endsBetween(texts, cur.hit.i, hit.i)) {
        continue;
      }
    }
    const start = reportStart(texts, hit.i);
    if (cur) cur.bodyEnd = Math.min(cur.bodyEnd, start);
    if (segs.length >= limit) { dropped++; cur = null; continue; }
    cur = { hit, start, bodyEnd: texts.length, panic: null, panicEnd: 0 };
    if (hit.fmt.kind === 'panic') {
      cur.panic = hit;
      cur.panicEnd = panicTailEnd(texts, hit.i, hits);
      cur.bodyEnd = cur.panicEnd;
    }
    segs.push(cur);
  }

  // report body ends at `---[ end trace`, and (records without caller ids) where a message that
  // prints a stack of its own starts
  for (const s of segs) {
    const lim = Math.min(s.bodyEnd, s.hit.i + MAX_BODY);
    for (let i = s.hit.i + 1; i < lim; i++) {
      if (END_TRACE.test(texts[i])) { s.bodyEnd = i + 1; break; }
      if (!tagged && OWN_STACK.test(texts[i])) { s.bodyEnd = i; break; }
    }
    if (s.panic && !tagged) {
      for (let i = s.panic.i + 1; i < s.panicEnd; i++) if (OWN_STACK.test(texts[i])) { s.panicEnd = i; break; }
    }
    s.bodyEnd = Math.min(s.bodyEnd, s.hit.i + MAX_BODY);
  }
  return { reports: segs.map((s) => ({ first: s.hit.i, report: buildReport(s, lines, texts, known) })), dropped };
}

/**
 * A header printed as the message of a WARN(): kernel/panic.c __warn() prints "WARNING: ..." and
 * then the WARN's own format (`vprintk(args->fmt, ...)`) before print_modules(), so a report-like
 * message ("Watchdog detected hard LOCKUP on cpu 0") between the header and "Modules linked in:"
 * is the warning's text.
 */
function warnMessage(texts: string[], cur: Segment, hit: Hit): boolean {
  if (cur.hit.fmt.kind !== 'WARNING') return false;
  for (let i = cur.hit.i + 1; i < hit.i; i++) if (/^\s*Modules linked in:|^\s*CPU: \d+ /.test(texts[i])) return false;
  return true;
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
const OLD_PID_LINE = /\bPid: (\d+), comm: (.{1,20}?) (Not tainted|Tainted: [A-Z ]*[A-Z])\s+(\d+\.\d+\S*)/;
const MODULE_CONT = /^\s*[\w-]+(?:\([A-Z+-]+\))?(?:\s+[\w-]+(?:\([A-Z+-]+\))?)*(?:\s+\[last unloaded: [\w-]+\])?\s*$|^\s*\[last unloaded: [\w-]+\]\s*$/;
const WARN_SITE = /WARNING: .*?\bat (?:\S+:\d+\s+)?(\.?[A-Za-z_$][\w.$]*?\+0x[0-9a-f]+\/0x[0-9a-f]+)|WARNING: at \S+ ([A-Za-z_$][\w.$]*)\(\)/;
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


function ctxName(s: string): FrameContext {
  if (s === 'NMI' || s === 'IRQ' || s === 'SOFTIRQ' || s === 'TASK') return s;
  return 'unknown';
}

function buildReport(s: Segment, lines: LogLine[], texts: string[], known: Set<string>): CrashReport {
  let fmt = s.hit.fmt;
  let cut = false;
  if (fmt.needsReport && fmt.report && !fmt.report.test(texts.slice(s.hit.i, Math.min(s.bodyEnd, s.hit.i + 200)).join('\n'))) {
    cut = true;
    // The line this format needs is missing (the report was cut short): the next format whose
    // header matches describes what is there.
    for (const f of OOPS_FORMATS.slice(OOPS_FORMATS.indexOf(fmt) + 1)) {
      const m = f.header.exec(texts[s.hit.i]);
      if (m && !f.suppress) { fmt = f; s.hit = { i: s.hit.i, fmt: f, m }; break; }
    }
  }
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
  if (cut) markCorrupted(r, 'the report was cut short: a line its kind always prints is missing');

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
      if (r.cpu === null) {
        // Before 3.10 x86 show_regs_common() printed "Pid: %d, comm: %.20s %s %s" (taint, release)
        // instead of dump_stack_print_info()'s "CPU: N PID: N Comm:" line.
        const m = OLD_PID_LINE.exec(t);
        if (m) {
          r.pid = +m[1]; r.comm = clean(m[2]).trim();
          r.tainted = m[3] === 'Not tainted' ? 'Not tainted' : clean(m[3].replace(/^Tainted:\s*/, '')).replace(/\s+/g, ' ').trim();
          r.kernelRelease = clean(m[4]);
        }
      }
    }
    for (let i = 0; i < arr.length && !r.modules.length; i++) {
      const m = /^\s*Modules linked in:\s*(.*)$/.exec(arr[i]);
      if (!m) continue;
      // kernel/module.c print_modules() prints every module with pr_cont(): a console or a paste
      // that wraps long lines carries the list on over lines holding module names only.
      let list = m[1];
      for (let j = i + 1; j < arr.length && j < i + 40 && MODULE_CONT.test(arr[j]); j++) list += ' ' + arr[j];
      r.modules = list.split(/\s+/).filter((x) => x && !x.startsWith('[') && !x.endsWith(']')).map((x) => clean(x.replace(/\(.*\)$/, ''))).slice(0, 1000);
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
  // kernel/panic.c __warn() names the WARN site itself ("at %pS"; warn_slowpath_common() printed
  // "WARNING: at %s:%d %pS()" before 3.x): the crash address when no register dump follows.
  if (fmt.kind === 'WARNING' && !r.rip?.function) {
    const w = WARN_SITE.exec(texts[s.hit.i]);
    if (w) {
      const { frame } = parseRipValue(w[1] ?? w[2]);
      if (frame?.function) { r.rip = frame; r.ripRaw = clean(w[1] ?? w[2]); }
    }
  }

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
    if (!func) markCorrupted(r, 'no guilty frame: every frame of the trace is reporting or library code, or there is no trace');
  }
  if (fmt.tail) markCorrupted(r, 'the report starts with a line printed after its header: the header was lost');
  // A kind that prints a call trace, without one: the crash address alone is no stack.
  // (A function the header line itself names first stays reliable without it.)
  const lead = fmt.frame?.[0]?.[0];
  const fromHeader = guilty !== null && lead !== undefined && 'hdr' in lead && s.hit.m[lead.hdr] === guilty;
  if (fmt.frame && !r.frames.length && !fromHeader && fmt.frame.some((rec) => rec.some((st) => 'stack' in st || 'hang' in st || 'stall' in st))) markCorrupted(r, 'no call trace: the report was cut short before its stack');
  const bare = fromHeader ? null : bareStackHeader(body);
  if (bare) markCorrupted(r, bare);
  const mixed = interleaved(body);
  if (mixed) markCorrupted(r, mixed);
  r.title = clean(normalizeTitle(title.replace(/\s+$/, '')));
  r.guiltyFrame = func ? clean(func) : null;
  return r;
}

// Lines that open a stack, with the label it is kept under. `primary` stacks are the report's own
// trace (the one the title comes from); the others are history printed beside it.
const STACK_OPENERS: readonly { re: RegExp; label: string | ((m: RegExpExecArray) => string); primary: boolean }[] = [
  // x86 dumpstack.c show_trace_log_lvl(), arm64/riscv/arm dump_backtrace(), lockdep's
  // print_*_bug() "stack backtrace:", kmemleak "backtrace:".
  { re: /^\s*(?:Call Trace:|Call trace:|Backtrace:|stack backtrace:|Exception stack\(|backtrace(?: \(crc [0-9a-f]+\))?:)/, label: 'call trace', primary: true },
  // kernel/locking/lockdep.c print_usage_bug(): the stack saved when the lock was first used in
  // the other state, not where the report was raised.
  { re: /^\s*\{([A-Z_-]+)\} state was registered at:/, label: (m) => `{${m[1]}} state was registered at`, primary: false },
  // lockdep.c print_circular_bug_entry(): "-> #1 (&lock){+.+.}:" then the stack that took it.
  { re: /^\s*-> #(\d+) /, label: (m) => `dependency #${m[1]}`, primary: false },
  // lockdep.c print_irq_inversion_bug()/print_bad_irq_dependency(): "... acquired at:".
  { re: /^\s*\.\.\. acquired at:/, label: 'acquired at', primary: false },
  // mm/kasan/report.c print_track(); mm/slub.c print_track() ("INFO: Allocated in ... age=").
  { re: /^\s*(?:Allocated by task \d+|INFO: Allocated in )/, label: 'allocated', primary: false },
  { re: /^\s*(?:Freed by task \d+|INFO: Freed in )/, label: 'freed', primary: false },
  { re: /^\s*(?:Last potentially related work creation|Second to last potentially related work creation|Last call_rcu\(\)|Second to last call_rcu\(\))/, label: 'related work', primary: false },
];
// Lockdep prose between its stacks: frames after these belong to no stack. Their `at:` lines name
// lock sites (`#0:  (&rdev->mutex){+.+.+.}, at: [<c036e9e0>] regulator_get_voltage+0x18/0x38`),
// which a frame regexp would otherwise take, clipped, for frames.
const STACK_CLOSERS = /^\s*(?:other info that might help|the existing dependency chain|which lock already depends|but task is already holding|is trying to (?:acquire|release)|\d+ locks? held by|no locks held by|Possible (?:unsafe|interrupt unsafe)|irq event stamp|hardirqs last|softirqs last|\*\*\* DEADLOCK|Chain exists of|the dependencies between|\S+\/\d+ \[HC\d|INFO: Object 0x|INFO: Slab 0x|Redzone |Object [0-9a-f]+: |Padding )/;
// lockdep.c print_lock(): "#%d: " ... "(%s){%s}, at: %pS"; only a held-lock line wraps this way.
// KASAN's description of the buggy address (mm/kasan/report.c print_address_description(),
// print_address_stack_frame(), print_vmalloc_info()): "The buggy address belongs to stack of task
// X / and is located at offset N in frame:" and "... belongs to the virtual mapping at / [a, b)
// created by:" are each followed by one symbolised function that is no frame of any stack. Frames
// are ignored from such a line until the next stack header ("Allocated by task", ...).
const KASAN_DESCRIPTION = /^\s*(?:The buggy address (?:belongs to|is located)|and is located at offset|This frame has \d+ object|\[[0-9a-f]+, [0-9a-f]+\) created by:)/;
const LOCK_SITE_WRAPPED = /\)\{[^}]*\}(?:-\{\d+:\d+\})?, at:(?:\s*\[<[0-9a-f]+>\])?\s*$/;
const LOCK_SITE = /(?:^|\s)at: (?:\[<[0-9a-f]+>\]\s*)?\S+\+0x|\bat \(\d+\): \[<|^\s*#\d+:\s/;
// s390 die() prints "Last Breaking-Event-Address:" and then one address line that is the last
// branch taken, not a frame (arch/s390/kernel/dumpstack.c show_last_breaking_event()).
const BREAKING_EVENT = /^\s*Last Breaking-Event-Address:/;
// powerpc: "--- interrupt: 700 at func" / "--- Exception: 700 at .func" then "    LR = .func+0x.."
// (arch/powerpc/kernel/process.c show_stack()).
const PPC_EXCEPTION = /^\s*--- (?:Exception|interrupt): [0-9a-f]+ at (\.?[A-Za-z_$][\w.$]*?\+0x[0-9a-f]+\/0x[0-9a-f]+)/;
const PPC_LR = /^\s*LR = /;
// The link register printed symbolised beside the crash address, a register and not a frame:
// arm64 "lr : %pS" (arch/arm64/kernel/process.c __show_regs()), riscv " ra : %pS"
// (arch/riscv/kernel/process.c show_regs()), powerpc "LR [%016lx] %pS", arm "LR is at %pS".
const LINK_REGISTER = /^\s*(?:lr\s*:|ra\s*:|LR\s*\[[0-9a-f]+\]|LR is at)\s*\S*\+0x/;
// Old x86_64 dumpstack_64.c print_context_stack() printed " <IRQ> ", " <EOI> ", " <NMI> " and
// "<<EOE>>" without a newline, so the first frame of the next section shares the marker's line.
const MARKER_PREFIX = /^\s*(?:<(NMI|IRQ|SOFTIRQ|TASK|#DF|DB|MCE|VC)>|<\/(NMI|IRQ|SOFTIRQ|TASK|#DF|DB|MCE|VC)>|<(EOI)>|<(<EOE>)>|<(EOE)>)\s*/;

/** The crash-address line as printed, without its label (`0010:irq_fpu_usable+0x39/0x50`). */
function rawValue(t: string): string {
  return clean(t.replace(/^\s*(?:RIP|EIP|IP|NIP|pc|epc|PC is at|Krnl PSW)\s*:?\s*/, '').trim());
}

interface OpenStack { label: string; primary: boolean; frames: Frame[] }

function markCorrupted(r: CrashReport, why: string): void {
  r.corrupted = true;
  r.corruptedReason ??= why;
}

/**
 * Output of several CPUs mixed into one trace: another report's header, or a frame line cut by
 * another record, between the first and the last frame of the trace. printk() records from
 * different CPUs interleave on the console when no lock orders them (syzkaller's "corrupted").
 */
function interleaved(body: string[]): string | null {
  let first = -1;
  let last = -1;
  for (let i = 1; i < body.length && i < 400; i++) {
    const t = body[i];
    if (/^\s*(?:NMI backtrace for cpu|Sending NMI|Kernel panic - not syncing|---\[ end|Showing all locks)/.test(t)) break;
    if (parseFrameLine(t)) { if (first < 0) first = i; last = i; }
  }
  if (first < 0) return null;
  for (let i = first + 1; i < last; i++) {
    const t = body[i];
    const h = matchHeader(t);
    if (h && !h.fmt.suppress && h.fmt.kind !== 'panic') return `another report interleaved into the call trace: "${clean(t.trim()).slice(0, 80)}"`;
    // A frame with a second frame's address glued on: two records written over each other.
    if (/\+0x[0-9a-f]+\/0x[0-9a-f]+.*\[<[0-9a-f]{8,16}>\].*\+0x[0-9a-f]+\/0x[0-9a-f]+/.test(t) && !/\) from \[</.test(t) && !/at: /.test(t)) return 'frames of two traces written over each other';
  }
  return null;
}

// Lines after which a stack follows: x86/arm64 "Call Trace:", KASAN's "Allocated by task %d:" /
// "Freed by task %d:" (mm/kasan/report.c print_track()), kmemleak's "backtrace:".
const STACK_HEADER = /Call Trace:|Call trace:|Allocated by task \d+:|Freed by task \d+:|(?:^|[^k]) backtrace(?: \(crc [0-9a-f]+\))?:/;

/** A stack header with no frame in the lines after it (before the next one): the stack was lost. */
function bareStackHeader(body: string[]): string | null {
  for (let i = 0; i < body.length && i < 400; i++) {
    if (!STACK_HEADER.test(body[i])) continue;
    let found = false;
    for (let k = i + 1; k < body.length && k <= i + 15; k++) {
      if (STACK_HEADER.test(body[k])) break;
      // "<Same stack as pid %d>": a task dump that refers to an identical stack printed before.
      if (parseFrameLine(body[k]) || /\(stack is not available\)|<Same stack as pid \d+>/.test(body[k])) { found = true; break; }
    }
    if (!found && i + 1 < body.length) return `"${clean(body[i].trim()).slice(0, 40)}" with no frame after it: the stack was lost`;
  }
  return null;
}

function parseTrace(body: string[], r: CrashReport, known: Set<string>): void {
  const ctx: FrameContext[] = [];
  const cur = (): FrameContext => ctx[ctx.length - 1] ?? 'unknown';
  let inTrace = false;
  let exc: ExceptionBlock | null = null;
  const stacks: OpenStack[] = [];
  let stack: OpenStack | null = null;
  let skipNext = false;
  let described = false; // inside KASAN's description of the buggy address (KASAN_DESCRIPTION)
  const open = (label: string, primary: boolean): OpenStack => {
    // A second call trace of the same report (panic() re-printing it, another CPU) is kept apart.
    const first = primary && !stacks.some((x) => x.primary);
    const st = { label: first || !primary ? label : `${label} #${stacks.filter((x) => x.label.startsWith(label)).length + 1}`, primary: first, frames: [] };
    stacks.push(st);
    return st;
  };
  const push = (f: Frame) => {
    stack ??= open('call trace', true);
    if (stack.frames.length < 1000) stack.frames.push(f);
  };
  for (let k = 0; k < body.length; k++) {
    let t = body[k];
    if (skipNext) { skipNext = false; continue; }
    if (k > 0 && STACK_END.test(t) && !/^\s*(?:Code: |CPU: |Hardware name:|Modules linked in)/.test(t) && inTrace && !/^-{10,}/.test(t)) {
      if (/^\s*(?:NMI backtrace|Showing all locks|Kernel panic|---\[ end)/.test(t)) break;
    }
    // A header cut by a mailer's line wrap: `WARNING: CPU: 2 PID: 291 at lib/refcount.c:28` then
    // `refcount_warn_saturate+0xf4/0x144`, the rest of __warn()'s "at %pS": not a frame.
    if (k === 1 && /\bat \S+:\d+\s*$/.test(body[0]) && /^\s*[A-Za-z_$][\w.$]*\+0x[0-9a-f]+\/0x[0-9a-f]+\s*$/.test(t)) continue;
    let opened = false;
    for (const o of STACK_OPENERS) {
      const m = o.re.exec(t);
      if (!m) continue;
      const label = typeof o.label === 'string' ? o.label : o.label(m);
      // The first call trace keeps the frames printed before its header (arm's and riscv's
      // unlabelled traces, exception blocks) when no other stack came between.
      if (o.primary && stack && stack.primary && (!stack.frames.length || (stack.label === 'call trace' && !stacks.some((x) => !x.primary)))) {
        // same stack continues (x86 prints "Call Trace:" again after an exception block)
      } else {
        stack = open(label, o.primary);
      }
      inTrace = true;
      opened = true;
      break;
    }
    if (opened) {
      described = false;
      continue;
    }
    if (KASAN_DESCRIPTION.test(t)) {
      stack = null;
      inTrace = false;
      described = true;
      continue;
    }
    if (STACK_CLOSERS.test(t)) {
      stack = null;
      inTrace = false;
      // "is trying to release lock (x) at:" puts the lock site on the next line (lockdep.c print_lock()).
      if (/ at:\s*$/.test(t)) skipNext = true;
      continue;
    }
    if (BREAKING_EVENT.test(t)) { skipNext = true; continue; }
    if (PPC_LR.test(t) || LINK_REGISTER.test(t)) continue;
    // context markers, alone on their line or followed by a frame
    let mk = MARKER_PREFIX.exec(t);
    while (mk) {
      if (mk[1]) ctx.push(ctxName(mk[1]));
      else {
        const closed = ctx.pop();
        // After <EOI> the interrupted task's frames follow (old x86 printed no <TASK>).
        if (mk[3] && !ctx.length && closed) ctx.push('TASK');
      }
      inTrace = true;
      t = t.slice(mk[0].length);
      mk = MARKER_PREFIX.exec(t);
    }
    if (!t.trim()) continue;
    // A lock's site wrapped onto the next line (`#0: (&lock){....}, at: [<ffffffff81327f1a>]` then
    // `get_request_wait+0x19a/0x250`): that line is the site, not a frame.
    if (LOCK_SITE_WRAPPED.test(t)) { skipNext = true; continue; }
    if (LOCK_SITE.test(t)) continue;
    const pe = PPC_EXCEPTION.exec(t);
    if (pe) {
      const { frame } = parseRipValue(pe[1]);
      exc = { rip: frame, ripRaw: clean(pe[1]), registers: {}, code: null, frameIndex: stack?.frames.length ?? 0 };
      if (r.exceptions.length < 100) r.exceptions.push(exc);
      continue;
    }
    const ca = matchCrashAddress(t);
    if (ca) {
      const { frame } = parseRipValue(ca.symbol);
      if (frame?.function) known.add(frame.function);
      if (ca.row.summary) {
        // die()'s one-line summary after the trace repeats the crash address: never a frame.
        if (!r.ripRaw) { r.ripRaw = rawValue(t); r.rip = frame; r.arch ??= ca.row.arch; }
        continue;
      }
      // powerpc prints `NIP: <address> LR: ...` registers first and `NIP [<address>] func` after.
      if (!inTrace && (!r.ripRaw || (!r.rip?.function && frame?.function))) {
        r.ripRaw = rawValue(t);
        r.rip = frame;
        r.arch ??= ca.row.arch;
      } else if (inTrace || r.ripRaw) {
        // an exception RIP block inside the trace: the interrupted context
        exc = { rip: frame, ripRaw: rawValue(t), registers: {}, code: null, frameIndex: stack?.frames.length ?? 0 };
        if (r.exceptions.length < 100) r.exceptions.push(exc);
        if (frame?.function && r.frames.length < 1000) {
          const ef = { ...frame, context: cur(), exceptionRip: true };
          r.frames.push(ef);
          push(ef);
        }
        inTrace = true;
      }
      continue;
    }
    // Address-only crash lines (`RIP: 0033:0x47cf2a`, `EIP: 0060:[<c04ac80f>] EFLAGS: ...`):
    // the registers are read below; the function, if any, comes from another line.
    let m = /^\s*(?:RIP|EIP|NIP|IP)\s*:\s*(.*)$/.exec(t);
    if (m) {
      const v = parseRipValue(m[1]);
      if (!inTrace && !r.ripRaw) {
        if (v.frame && (v.frame.function || v.frame.address)) { r.ripRaw = clean(m[1]); r.rip = v.frame; }
      } else if (/^\s*RIP:/.test(t)) {
        // pt_regs of the interrupted context (a user RIP after the trace): its registers are its own.
        exc = { rip: v.frame, ripRaw: clean(m[1]), registers: {}, code: null, frameIndex: stack?.frames.length ?? 0 };
        if (r.exceptions.length < 100) r.exceptions.push(exc);
      }
      parseRegisters(t, exc ? exc.registers : r.registers);
      continue;
    }
    m = /^\s*Code: (.*)$/.exec(t);
    if (m) {
      const code = { raw: clean(m[1]), instructions: [], faultingInstruction: null, isUd2: /<0f> 0b\b/.test(m[1]) };
      if (exc) exc.code = code;
      else if (!r.code) r.code = code;
      continue;
    }
    if (REG_LINE.test(t) || isRegisterOnlyLine(t)) {
      parseRegisters(t, exc ? exc.registers : r.registers);
      continue;
    }
    const f = described ? null : parseFrameLine(t, cur());
    if (f) {
      if (/^\s*\(?\[<[0-9a-f]+>\]\s*(?:0x[0-9a-f]+\s*\)?)?\s*$/.test(t) && !inTrace) continue;
      if (!inTrace && !f.function) continue;
      inTrace = true;
      exc = null;
      if (f.function) known.add(f.function);
      if (f.module) f.module = clean(f.module);
      if (f.function) f.function = clean(f.function);
      push(f);
    }
  }
  const primary = stacks.find((x) => x.primary && x.frames.length) ?? stacks.find((x) => x.label === 'call trace' && x.frames.length);
  if (primary) {
    for (const x of stacks) x.primary = x === primary;
    if (!r.frames.length || r.frames.every((f) => f.exceptionRip)) r.frames = primary.frames.slice(0, 1000);
  }
  if (stacks.length > 1 || stacks.some((x) => !x.primary)) r.stacks = stacks.filter((x) => x.frames.length).slice(0, 50);
  // arm64 prints no context markers: the entry frames of each trace say it (arch.ts ARM64_CONTEXT).
  if (!r.arch && stacks.some((x) => x.frames.some((f) => f.function && ARM64_FRAME.test(baseFunctionName(f.function))))) r.arch = 'arm64';
  if (r.arch === 'arm64') {
    const hint = preemptCountHint(body);
    for (const x of stacks) assignArm64Contexts(x.frames, baseFunctionName, x.primary ? hint : null);
    if (!r.rip && primary) {
      const pc = arm64ExceptionPc(primary.frames);
      if (pc) { r.rip = { ...pc }; r.ripRaw = clean(`${pc.function}+0x${(pc.offset ?? 0).toString(16)}/0x${(pc.size ?? 0).toString(16)}${pc.module ? ` [${pc.module}]` : ''}`); }
    }
  }
}

// arm64 exception vectors whose pt_regs->pc the unwinder prints as the next frame (arch/arm64/
// kernel/stacktrace.c: the frame after an exception boundary, `(P)` since 6.13): a synchronous
// exception (a fault, BUG()/WARN()'s BRK) or an SError. An interrupt vector is not where the
// report was raised, so it is not one of them.
const ARM64_FAULT_VECTOR = /^(?:el1h_64_sync|el1h_64_error|el1_sync|el1_error)$/;

/** Where the CPU was, from the innermost fault vector of an arm64 trace printed without `pc :`. */
function arm64ExceptionPc(frames: Frame[]): Frame | null {
  for (let i = 0; i + 1 < frames.length; i++) {
    const f = frames[i];
    if (!f.function) continue;
    const b = baseFunctionName(f.function);
    if (/^(?:el1h_64_(?:irq|fiq)|el1_irq|el1_fiq)$/.test(b)) return null;
    // A kprobe's BRK below the report: the report was raised inside the probe handler (KASAN in a
    // trace_kprobe fetch, ...), and the instruction the BRK replaced is not where it went wrong.
    if (/^(?:kprobe_breakpoint(?:_ss)?_handler|kprobe_(?:ss_)?brk_handler|kretprobe_brk_handler|kprobe_handler)$/.test(b)) return null;
    if (ARM64_FAULT_VECTOR.test(b)) {
      const next = frames[i + 1];
      return next.function && next.offset !== null ? next : null;
    }
  }
  return null;
}

/**
 * The context a report's header names through preempt_count: kernel/sched/core.c
 * __might_resched() "preempt_count: %x, expected: %x", __schedule_bug() "BUG: scheduling while
 * atomic: %s/%d/0x%08x".
 */
function preemptCountHint(body: string[]): FrameContext | null {
  for (const t of body.slice(0, 40)) {
    const m = /\bpreempt_count: ([0-9a-f]{1,8}), expected: /.exec(t) ?? /BUG: scheduling while atomic: .*\/0x([0-9a-f]{8})\s*$/.exec(t);
    if (m) return contextFromPreemptCount(parseInt(m[1], 16));
  }
  return null;
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

// Input normalisation for console logs: make every kernel record one clean line.
//
// Handles: CR, ANSI escapes and control characters (via src/util/sanitize.ts), printk timestamps
// `[   33.336366]`, caller ids `[T123]` / `[ C1]`, syslog and journalctl prefixes
// (`Nov 25 10:00:00 host kernel: `, ISO timestamps), `<4>` console levels, and logs pasted through
// web pages that glued every record onto one line (split again at the timestamps) or glued a
// `crash` backtrace together (split at `#N [` frame markers).
import { sanitize } from '../../util/sanitize.js';

export interface LogLine {
  /** Line text with prefixes removed. */
  text: string;
  /** 0-based index of the source line in the sanitised input. */
  src: number;
  /** Had a printk timestamp or caller id (a kernel record rather than some other text). */
  kernel: boolean;
  /**
   * The printk caller id, `T123` (a task's pid) or `C1` (a CPU outside task context), when the
   * kernel was built with CONFIG_PRINTK_CALLER (kernel/printk/printk.c info_print_prefix():
   * `[%5lu.%06lu][%6s]`, the second field from print_caller()).
   */
  caller?: string;
}

/** Longest line we look at; longer lines are cut (1 MB lines must not cost quadratic time). */
const MAX_LINE = 4096;

const TS = /^\[\s*\d{1,8}[.,]\d{1,9}\]/;
const CALLER = /^\[\s*([TC]\d{1,7})\]/;
const LEVEL = /^<\d{1,2}>/;
const DROPPED = /^\*\* \d+ printk messages dropped \*\* ?/;
const LOGIN = /^\S{1,64} login: (?=\[\s*\d{1,8}[.,]\d{1,9}\])/;
const SYSLOG = /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) \S+ kernel: /;
const QUOTE = /^(?:> ?){1,8}(?=\[\s*\d{1,8}[.,]\d{1,9}\]|<\d{1,2}>)/;
// Quoted without timestamps (`>> > pc : func+0x..`, `>>  kernel BUG at`): levels of `>` ending in
// `> `, so a KASAN shadow row marked `>ffff0000c0074e00:` keeps its mark.
const QUOTE_BARE = /^(?:>{1,4} ?){0,7}>{1,4} /;
const JOURNAL_SHORT = /^\S+ kernel: (?=\[)/;
// Records glued onto one line by a paste: split before each timestamp that is not at the start.
const MID_TS = /(?<=\S)\s*(?=\[\s*\d{1,8}\.\d{6}\])/g;
// `crash` backtrace glued onto one line: ` #12 [ffffb6fe00907a48] func at ffff...`.
const MID_CRASH_FRAME = /\s*(?=#\d{1,3} \[[0-9a-f]{8,16}\] )/g;
const MID_EXC_RIP = /\s*(?=\[exception RIP: )/g;
const MID_CRASH_PID = /(?<=\S)\s*(?=PID: \d+\s+TASK: [0-9a-f]+\s+CPU: \d+)/g;

const HAS_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Strip one record's prefixes; returns the text and whether it looked like a kernel record. */
export function stripPrefixes(line: string): { text: string; kernel: boolean; caller?: string } {
  let s = line;
  let kernel = false;
  let caller: string | undefined;
  for (let guard = 0; guard < 6; guard++) {
    const before = s;
    // Cheap tests first: most lines have none of these prefixes, or only a timestamp.
    let m: RegExpExecArray | null;
    if (s.includes(' kernel: ')) {
      m = SYSLOG.exec(s);
      if (m) { s = s.slice(m[0].length); kernel = true; }
      m = JOURNAL_SHORT.exec(s);
      if (m) { s = s.slice(m[0].length); }
    }
    // A log quoted in a mail reply: `> [   10.49] ...` (one `>` per quoting level).
    if (s.charCodeAt(0) === 62 /* > */) {
      m = QUOTE.exec(s) ?? QUOTE_BARE.exec(s);
      if (m) { s = s.slice(m[0].length); }
    }
    // kernel/printk/printk.c (3.x-4.x) console_unlock(): "** %u printk messages dropped ** " is
    // written before the next record, on the same line.
    if (s.charCodeAt(0) === 42 /* * */) {
      m = DROPPED.exec(s);
      if (m) { s = s.slice(m[0].length); continue; }
    }
    if (s.charCodeAt(0) === 60 /* < */) {
      m = LEVEL.exec(s);
      if (m) { s = s.slice(m[0].length); }
    }
    if (s.charCodeAt(0) !== 91 /* [ */) {
      // Text a program wrote on the console without ending its line (getty's `host login: `)
      // runs into the next kernel record: the record starts at its timestamp.
      if (s.includes(' login: [')) {
        m = LOGIN.exec(s);
        if (m) { s = s.slice(m[0].length); continue; }
      }
      if (s === before) break;
      continue;
    }
    m = TS.exec(s);
    if (m) {
      s = s.slice(m[0].length);
      kernel = true;
      // `[  12.345][ T123]` or `[  12.345] [T123]`
      const c = /^\s?\[\s*([TC]\d{1,7})\]/.exec(s);
      if (c) { s = s.slice(c[0].length); caller = c[1]; }
      // printk prints one space after the timestamp; keep the rest of the indentation.
      if (s.startsWith(' ')) s = s.slice(1);
    } else {
      m = CALLER.exec(s);
      if (m) { s = s.slice(m[0].length); kernel = true; caller = m[1]; if (s.startsWith(' ')) s = s.slice(1); }
    }
    if (s === before) break;
  }
  return caller ? { text: s, kernel, caller } : { text: s, kernel };
}

function countMatches(s: string, re: RegExp, cap: number): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(s) && n < cap) {
    n++;
    if (re.lastIndex === 0) break;
  }
  re.lastIndex = 0;
  return n;
}

export interface NormalizeResult {
  lines: LogLine[];
  /** The log had glued records that were split again. */
  repairedGlue: boolean;
  /** Lines that were cut at MAX_LINE. */
  longLines: number;
}

/** Sanitise and split a log into normalised records. */
export function normalizeLog(input: string, maxLines = Infinity): NormalizeResult {
  const lines: LogLine[] = [];
  let repairedGlue = false;
  let longLines = 0;
  let pos = 0;
  let src = 0;
  const n = input.length;
  while (pos <= n && lines.length < maxLines) {
    let nl = input.indexOf('\n', pos);
    if (nl < 0) nl = n;
    let raw = input.slice(pos, Math.min(nl, pos + MAX_LINE * 16));
    if (nl - pos > MAX_LINE * 16) longLines++;
    pos = nl + 1;
    // C1 CSI (0x9b) sequences: drop their parameters too, not just the introducer.
    if (raw.includes('\r')) raw = raw.replace(/\r/g, '');
    if (raw.includes('\x9b')) raw = raw.replace(/\x9b[0-?]*[ -/]*[@-~]?/g, '');
    // sanitize() only changes lines holding a control character (an escape starts with one).
    if (HAS_CONTROL.test(raw)) raw = sanitize(raw);
    const pieces: string[] = [];
    // Glued records: several timestamps on one line.
    if (raw.length > 80 && raw.includes('[', raw.indexOf(']') + 1) && countMatches(raw, /\[\s*\d{1,8}\.\d{6}\]/g, 4) >= 3) {
      repairedGlue = true;
      for (const p of raw.split(MID_TS)) pieces.push(p);
    } else {
      pieces.push(raw);
    }
    for (let p of pieces) {
      // Glued `crash` backtrace.
      let sub: string[] = [p];
      if (p.length > 80 && p.includes('#') && countMatches(p, /#\d{1,3} \[[0-9a-f]{8,16}\] /g, 3) >= 2) {
        repairedGlue = true;
        sub = p.split(MID_CRASH_PID).flatMap((x) => x.split(MID_CRASH_FRAME)).flatMap((x) => x.split(MID_EXC_RIP));
      }
      for (p of sub) {
        if (p.length > MAX_LINE) { p = p.slice(0, MAX_LINE); longLines++; }
        const { text, kernel, caller } = stripPrefixes(p);
        lines.push(caller ? { text: text.trimEnd(), src, kernel, caller } : { text: text.trimEnd(), src, kernel });
      }
    }
    src++;
    if (nl >= n) break;
  }
  return { lines, repairedGlue, longLines };
}

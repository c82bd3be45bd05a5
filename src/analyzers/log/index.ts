// ktriage console-log crash-report parser.
//
// API:
//   parseLog(text, opts?)        synchronous: normalises the log (CR, escapes, timestamps, caller
//                                ids, syslog/journal prefixes, pasted logs glued onto one line or
//                                missing `+`), finds every crash report (kinds and titles from the
//                                oops format table in formats.ts), and returns LogAnalysis. `Code:`
//                                lines are kept raw (`code.raw`, `isUd2` from the marked bytes) but
//                                not disassembled.
//   enrichWithCode(analysis)     async: disassembles every report's and exception block's `Code:`
//                                with capstone (which loads asynchronously), in place; returns it.
//   analyzeLog(text, opts?)      async: parseLog + enrichWithCode.
//   decodeCodeLine(line, arch?)  async: decode one `Code:` line; the `<..>` byte is the faulting
//                                instruction; arm64's words (`(a800ada6)` faulting) when arch is
//                                'arm64'.
//
// Bounded work on hostile input: lines are cut at 4 KiB for parsing, at most `maxReports` (1000)
// reports are kept (a note says how many were dropped), and frames/exceptions per report are capped.
// Every string copied from the log into the result is passed through sanitizeLine().
import type { LogAnalysis } from '../report-model.js';
import { decodeCodeLine } from './code.js';
import { parseLog, type ParseOptions } from './parser.js';

export { parseLog, type ParseOptions } from './parser.js';
export { decodeCodeLine, parseCodeBytes } from './code.js';
export { normalizeLog, stripPrefixes } from './normalize.js';
export { parseFrameLine, splitSymOffset } from './frames.js';
export { normalizeTitle, titleFunction } from './title.js';
export { OOPS_FORMATS } from './formats.js';
export { SKIP_ALWAYS, SKIP_STALL, SKIP_HANG } from './skip.js';

/** Most `Code:` lines decoded per analysis (each costs a few ms). */
const MAX_DECODES = 200;

async function enrichWithCode(analysis: LogAnalysis): Promise<LogAnalysis> {
  let budget = MAX_DECODES;
  for (const r of analysis.reports) {
    if (r.code && budget-- > 0) r.code = await decodeCodeLine(r.code.raw, r.arch);
    for (const e of r.exceptions) {
      if (e.code && budget-- > 0) e.code = await decodeCodeLine(e.code.raw, r.arch);
    }
  }
  return analysis;
}

export async function analyzeLog(text: string, opts?: ParseOptions): Promise<LogAnalysis> {
  return enrichWithCode(parseLog(text, opts));
}

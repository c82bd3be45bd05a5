// The library's questions, each returning the same document the CLI prints with --json (the
// JSON contract in schemas/), so a program and a shell pipeline see the same fields.

import { diagnoseLog, type LogDiagnosis } from '../analyzers/diagnosis.js';
import type { DumpDiagnosis } from '../analyzers/dump-diagnosis.js';
import { lintKmod as lintKmodCore, type LintOptions } from '../analyzers/kmod/index.js';
import type { LintResult } from '../analyzers/kmod/model.js';
import { analyzeLogText } from '../analyzers/log-analysis.js';
import { decodePreemptCount, parsePreemptValue, type Arch, type PreemptDecode } from '../analyzers/preempt-count.js';
import { analyzeDumpFile, analyzeOpenDump } from '../analyzers/vmcore-analysis.js';
import { InputError } from '../util/errors.js';
import type { DumpFile } from '../vmcore/types.js';
import { versioned, type Versioned } from './schema-version.js';

export interface AnalyzeDumpOptions {
  /** System.map of exactly this kernel build, for dumps whose kallsyms cannot be read. */
  systemMap?: string;
  /** vmlinux (with .symtab) of exactly this kernel build. */
  vmlinux?: string;
  /** The `input` field of the result when a DumpFile is passed (default: "<dump>"). */
  input?: string;
}

/**
 * The whole diagnosis of a vmcore, as `ktriage analyze <vmcore> --json` prints it. A path is
 * opened and closed here; a DumpFile from openDump() stays open (the caller closes it).
 */
export async function analyzeDump(dump: string | DumpFile, options: AnalyzeDumpOptions = {}): Promise<Versioned<DumpDiagnosis>> {
  const opts = { systemMap: options.systemMap, vmlinux: options.vmlinux };
  if (typeof dump !== 'string') return versioned(await analyzeOpenDump(dump, options.input ?? '<dump>', opts));
  const { diagnosis, dump: opened } = await analyzeDumpFile(dump, opts);
  opened.close();
  return versioned(diagnosis);
}

/**
 * The diagnosis of a console log's text (serial console, dmesg, journal, a bug report with a log
 * pasted in), as `ktriage analyze <log> --json` prints it.
 */
export async function analyzeLog(text: string, options: { input?: string } = {}): Promise<Versioned<LogDiagnosis>> {
  const analysis = await analyzeLogText(text);
  return versioned(diagnoseLog(analysis, options.input ?? '<text>'));
}

export interface ExplainOptions {
  /** Default x86_64. */
  arch?: Arch;
  /** Kernel release: selects the bit layout (NMI bits changed in 5.8 and 4.2). Default: the newest. */
  kernel?: string | null;
}

/**
 * Every bit of a preempt_count, the predicates the kernel derives from it (in_nmi(), in_atomic(),
 * ...) and what the context forbids, as `ktriage explain preempt-count --json` prints it. Accepts
 * the value as crash prints it: 0x80110003, 2148597763, or the signed -2146369533.
 */
export function explainPreemptCount(value: string | number | bigint, options: ExplainOptions = {}): Versioned<PreemptDecode> {
  const arch = options.arch ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'arm64') throw new InputError(`unknown arch ${JSON.stringify(arch)} (x86_64 or arm64)`);
  return versioned(decodePreemptCount(parsePreemptValue(String(value), arch), arch, options.kernel ?? null));
}

/**
 * Static check of an x86_64 kernel module (.ko): its kprobe/NMI/ftrace handlers, the context each
 * runs in and every path to a call unsafe there, as `ktriage lint-kmod --json` prints it.
 */
export async function lintKmod(path: string, options: LintOptions = {}): Promise<Versioned<LintResult>> {
  return versioned(await lintKmodCore(path, options));
}

/**
 * ktriage as a library: the same diagnosis the `ktriage` command prints, and the kernel in a
 * vmcore as a program to question, with nothing but the dump.
 *
 * ```ts
 * import { openDump, openKernel, explainPreemptCount } from 'ktriage';
 *
 * const dump = await openDump('vmcore');
 * try {
 *   const kernel = openKernel(dump);
 *   for (const cpu of kernel.cpus) {
 *     const task = kernel.currentTask(cpu);
 *     const pc = explainPreemptCount(kernel.preemptCount(cpu), { kernel: kernel.release });
 *     console.log(cpu, task?.comm, task?.pid, pc.value, pc.summary);
 *   }
 *   console.log(kernel.object('init_task').member('comm').string()); // "swapper/0"
 * } finally {
 *   dump.close();
 * }
 * ```
 *
 * Everything exported here is the public, semver-covered surface; the modules under `dist/` are
 * not. Result documents carry `schemaVersion` ({@link SCHEMA_VERSION}); their JSON Schemas are in
 * the package's `schemas/` folder (`ktriage/schemas/<name>.schema.json`).
 *
 * Errors: {@link InputError} for input ktriage cannot use (its message is one line, fit for a
 * user), {@link LookupError} (an InputError) for a symbol, type or member the kernel does not
 * have, {@link DumpReadError} for memory the dump does not hold (pages excluded by makedumpfile,
 * a truncated file).
 *
 * @packageDocumentation
 */

import { openDumpAsync } from './vmcore/index.js';
import type { DumpFile } from './vmcore/types.js';

/**
 * Open a crash dump: an ELF core (kdump's /proc/vmcore, QEMU dump-guest-memory), makedumpfile's
 * kdump-compressed format (zlib, LZO, snappy, zstd) or its flattened form. Close it when done.
 * Throws InputError for a file that is not a dump.
 */
export function openDump(path: string): Promise<DumpFile> {
  return openDumpAsync(path);
}

export type { DumpFile, DumpFormatInfo, DumpNote, PageState, PrStatus } from './vmcore/types.js';
export { DumpReadError } from './vmcore/types.js';
export { InputError } from './util/errors.js';

export { openKernel, Kernel, type OpenKernelOptions, type SymbolInfo, type Task, type StackTraceTarget } from './api/kernel.js';
export { KernelObject, LookupError, KNOWN_GLOBAL_TYPES, type ObjectKind } from './kernel/object.js';
export type { KernelLog, LogRecord } from './kernel/printk.js';
export type { Backtrace, Frame as BacktraceFrame, ExceptionInfo, StackKind, UnwinderStatus } from './kernel/unwind/types.js';

export { analyzeDump, analyzeLog, explainPreemptCount, lintKmod, type AnalyzeDumpOptions, type ExplainOptions } from './api/analyze.js';
export { SCHEMA_VERSION, type Versioned } from './api/schema-version.js';

// The diagnosis documents (schemas/*.schema.json are generated from these).
export type { DumpDiagnosis, CpuContext, BacktraceOut, BacktraceFrameOut } from './analyzers/dump-diagnosis.js';
export type { LogDiagnosis, ReportDiagnosis } from './analyzers/diagnosis.js';
export type { CrashReport, Frame, FrameContext, ReportKind, Registers, CodeDecode, DecodedInstruction, ExceptionBlock, CrashBacktrace } from './analyzers/report-model.js';
export type { HazardMatch, Confidence } from './analyzers/rules/engine.js';
export type { PreemptDecode, PreemptField, Arch } from './analyzers/preempt-count.js';
export type { LintOptions } from './analyzers/kmod/lint.js';
export type { LintResult, LintFinding, LintVariant, Mitigation, Handler, HandlerContext, HandlerKind } from './analyzers/kmod/model.js';
export type { DumpDiagnosisDocument, LogDiagnosisDocument, PreemptDecodeDocument, LintResultDocument } from './api/documents.js';

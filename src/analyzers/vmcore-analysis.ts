// `analyze <vmcore>`: the whole diagnosis from a dump, with nothing but the dump. Reads the
// kernel log out of memory and feeds it to the same log parser and rules as a console log, then
// adds what only memory knows: every CPU's preempt_count and FPU state, the current tasks, and the
// panicking task's backtrace unwound from its stacks.
import { missingText, openDumpAsync, type DumpFile } from '../vmcore/index.js';
import { formatLog, openKernel, type Kernel } from '../kernel/index.js';
import { crashTimeOfKernel } from '../kernel/crash-time.js';
import { crashStyle, unwinderNotice, unwinderSummary, type Backtrace, type UnwinderStatus } from '../kernel/unwind/index.js';
import { sanitizeLine } from '../util/sanitize.js';
import { analyzeLog, parseLog } from './log/index.js';
import { decodePreemptCount } from './preempt-count.js';
import { detectPreemptRt, rtContextFor } from './preempt-rt.js';
import { diagnoseReports, verdictOf } from './diagnosis.js';
import type { AnalysisResult, BacktraceOut, CpuContext, DumpDiagnosis, IncompleteDump } from './dump-diagnosis.js';
import type { CrashReport, Frame, FrameContext } from './report-model.js';
import type { MemoryContext } from './rules/engine.js';
import { onlyDumpData } from '../util/errors.js';

export interface DumpAnalysisOptions {
  systemMap?: string;
  vmlinux?: string;
  /** The per-build cache (src/kernel/build-cache.ts): a folder, or false for none; default from the environment. */
  cache?: string | false;
  /**
   * Disassemble the log's `Code:` lines (`report.code.instructions`, `faultingInstruction`), as a
   * console log's analysis does; default true. Capstone's WebAssembly costs ~27 MiB and 35-80 ms to
   * initialise, so callers whose output never shows the instructions (the CLI's text report,
   * `regress`, `triage`) pass false: `code.raw` and `isUd2` are kept, `instructions` is
   * empty and `faultingInstruction` null. No rule reads the decoded instructions.
   */
  decodeCode?: boolean;
}

const hex = (v: bigint, w = 16) => '0x' + v.toString(16).padStart(w, '0');

function attempt<T>(notes: string[], what: string, f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    onlyDumpData(e);
    notes.push(`${what}: ${sanitizeLine(e.message)}`);
    return undefined;
  }
}

function stackContext(stack: string): FrameContext {
  if (stack === 'nmi') return 'NMI';
  if (stack === 'irq') return 'IRQ';
  if (stack.startsWith('exception')) return 'NMI';
  return 'TASK';
}

/** Backtrace frames as report frames, so the rules read memory and log frames the same way. */
function framesFromBacktrace(bt: Backtrace): Frame[] {
  const out: Frame[] = [];
  for (const f of bt.frames) {
    out.push({ function: f.function, offset: Number(f.offset), size: f.size ? Number(f.size) : null, module: f.module ?? null, unreliable: !f.reliable, address: hex(f.pc), context: stackContext(f.stack) });
    if (f.exception && !f.exception.userMode) {
      const name = f.exception.rip.replace(/\+\d+$/, '');
      out.push({ function: name, offset: null, size: null, module: null, unreliable: false, address: hex(f.exception.ripAddress), context: stackContext(f.stack), exceptionRip: true });
    }
  }
  return out;
}

function methodText(bt: Backtrace): string {
  const u = bt.unwinder;
  if (u.method !== 'orc') return unwinderSummary(u);
  const fmt = `ORC ${u.orcFormat?.split(' ')[0] ?? '?'} tables read from the dump`;
  return bt.usedFallback ? `${fmt}, part stack scanning (unreliable frames marked)` : fmt;
}

function backtraceOut(bt: Backtrace): BacktraceOut {
  return {
    unwinder: bt.unwinder,
    cpu: bt.cpu,
    pid: bt.pid ?? null,
    comm: bt.comm !== undefined ? sanitizeLine(bt.comm) : null,
    task: bt.task !== undefined ? hex(bt.task) : null,
    method: methodText(bt),
    frames: bt.frames.map((f) => ({
      index: f.index,
      sp: hex(f.sp),
      pc: hex(f.pc),
      function: f.function,
      offset: Number(f.offset),
      module: f.module ?? null,
      stack: f.stack,
      reliable: f.reliable,
      ...(f.exception
        ? { exception: { rip: f.exception.rip, userMode: f.exception.userMode, registers: Object.fromEntries(Object.entries(f.exception.registers).map(([k, v]) => [k, hex(v)])) } }
        : {}),
    })),
    crashStyle: crashStyle(bt),
    problems: [...bt.warnings, ...(bt.stopped !== 'end' ? [`walk stopped: ${bt.stopped}`] : [])],
  };
}

function symbolSourceText(k: Kernel): string {
  const ok = k.symbolAttempts.find((a) => a.ok);
  const failed = k.symbolAttempts.filter((a) => !a.ok).map((a) => `${a.source}: ${a.message}`);
  if (ok) return `${ok.source}${ok.source === 'kallsyms' ? ' read from the dump\'s memory' : ''}${ok.message ? ` (${ok.message})` : ''}`;
  return `none usable (${failed.join('; ')}); pass --system-map or --vmlinux`;
}

function cpuStateText(activity: string, markers: string[], preemptNmi: boolean): string {
  const m = markers.slice(0, 3).join(', ');
  if (markers.some((m) => m.startsWith('crash_nmi_callback'))) return `stopped by kdump's NMI shootdown${preemptNmi ? ' (in NMI because of the shootdown)' : ''}`;
  if (activity === 'panic') return `called panic()${m ? ` (${m})` : ''}`;
  if (activity === 'stopped') return `stopped by the panic${m ? ` (${m})` : ''}`;
  if (activity === 'idle') return `idle${m ? ` (${m})` : ''}`;
  return `${activity}${m ? ` (${m})` : ''}`;
}

export async function analyzeDumpFile(path: string, opts: DumpAnalysisOptions = {}): Promise<{ diagnosis: DumpDiagnosis; dump: DumpFile }> {
  const dump = await openDumpAsync(path);
  try {
    const diagnosis = await analyzeOpenDump(dump, path, opts);
    return { diagnosis, dump };
  } catch (e) {
    dump.close();
    throw e;
  }
}

export async function analyzeOpenDump(dump: DumpFile, input: string, opts: DumpAnalysisOptions = {}): Promise<DumpDiagnosis> {
  const notes: string[] = [];
  const k = openKernel(dump, { systemMap: opts.systemMap, vmlinux: opts.vmlinux, cache: opts.cache });
  const release = k.osrelease ?? null;

  // 1. The kernel's own log, through the console-log parser.
  const log = attempt(notes, 'kernel log', () => k.log);
  let reports: CrashReport[] = [];
  let logLines = 0;
  let uptime: string | null = null;
  if (log) {
    for (const w of log.warnings) notes.push(`kernel log: ${w}`);
    const text = formatLog(log);
    logLines = log.records.length;
    const last = log.records[log.records.length - 1];
    if (last) uptime = `${(Number(last.tsNsec / 1000n) / 1e6).toFixed(3)} s (last log record)`;
    const analysis = opts.decodeCode === false ? parseLog(text) : await analyzeLog(text);
    reports = analysis.reports;
    notes.push(...analysis.notes.map((n) => `log parser: ${n}`));
  }

  // 2. Per-CPU context.
  const syms = k.symbolsOrNull();
  if (!syms) notes.push(`no symbols: ${symbolSourceText(k)}`);
  else if (!k.btf) {
    notes.push(`no BTF (${k.btfError ?? 'unknown reason'}): task names and PIDs, task stacks other than the running one, and per-CPU struct members cannot be read; symbols, per-CPU values, the log and the running tasks' backtraces can`);
  }
  const percpu = syms ? attempt(notes, 'per-CPU data', () => k.percpu) : undefined;
  const pc = percpu ? attempt(notes, '__preempt_count', () => percpu.preemptCount()) : undefined;
  const fpu = percpu ? attempt(notes, 'in_kernel_fpu', () => percpu.inKernelFpu()) : undefined;
  const cur = percpu ? attempt(notes, 'current_task', () => percpu.currentTask()) : undefined;
  const panic = attempt(notes, 'panic CPU', () => k.panicCpu);
  const regsByCpu = new Map((attempt(notes, 'NT_PRSTATUS', () => k.cpus) ?? []).map((c) => [c.cpu, c]));
  const cpuList = [...new Set([...(percpu?.possible ?? []), ...regsByCpu.keys()])].sort((a, b) => a - b);

  // PREEMPT_RT keeps softirq state in the current task, not in preempt_count.
  const rt = syms ? (attempt(notes, 'PREEMPT_RT detection', () => detectPreemptRt(k)) ?? null) : null;
  if (rt) notes.push(`PREEMPT_RT kernel (${rt.detectedBy}): softirq state read from each CPU's current task_struct.softirq_disable_cnt`);
  const cpus: CpuContext[] = cpuList.map((cpu) => {
    const problems: string[] = [];
    const pv = pc?.values.find((v) => v.cpu === cpu);
    const fv = fpu?.values.find((v) => v.cpu === cpu);
    const tv = cur?.values.find((v) => v.cpu === cpu);
    if (pv?.error) problems.push(`__preempt_count: ${pv.error}`);
    if (fv?.error) problems.push(`in_kernel_fpu: ${fv.error}`);
    // arm64's count is the 64-bit thread_info.preempt_count (need_resched in the upper word).
    const raw = pv?.wide !== undefined ? pv.wide : pv?.value !== undefined ? BigInt.asUintN(32, BigInt(pv.value)) : null;
    const rtc = rt ? rtContextFor(k, rt, tv?.value, `the current task on CPU ${cpu}`) : null;
    const preempt = raw !== null ? decodePreemptCount(raw, k.arch.name, release, rtc) : null;
    let task: CpuContext['task'] = null;
    if (tv?.value !== undefined) {
      const ti = attempt(problems, 'task_struct', () => k.task(tv.value as bigint));
      task = { address: hex(tv.value), comm: ti?.comm !== undefined ? sanitizeLine(ti.comm) : null, pid: ti?.pid ?? null };
      if (ti?.errors.length) problems.push(...ti.errors);
    }
    const regs = regsByCpu.get(cpu);
    const ripSym = regs && syms ? syms.symbolize(regs.pc) : null;
    const st = panic?.cpus.find((c) => c.cpu === cpu);
    const panicked = panic?.cpu === cpu;
    return {
      cpu,
      preemptCount: raw !== null ? hex(raw, pv?.wide !== undefined ? 16 : 8) : null,
      preempt,
      preemptSource: pc?.source ?? null,
      inKernelFpu: fv?.value ?? null,
      fpuSource: fpu ? `${fpu.source}${fpu.inverted ? ' (kernel_fpu_allowed, inverted)' : ''}` : null,
      task,
      rip: regs ? { address: hex(regs.pc), symbol: ripSym ? `${ripSym.name}+0x${ripSym.offset.toString(16)}${ripSym.module ? ` [${ripSym.module}]` : ''}` : null } : null,
      panicked,
      state: st ? cpuStateText(st.activity, st.markers, Boolean(preempt?.predicates.inNmi)) : regs ? 'unknown' : 'no register note (offline or not saved)',
      explainsCrash: false,
      problems,
    };
  });

  // 3. The panicking task's backtrace, from memory.
  let bt: Backtrace | undefined;
  let unwinderStatus: UnwinderStatus | undefined;
  const panicCpu = panic?.cpu ?? null;
  if (syms && panicCpu !== null) {
    const makeUnwinder = await k.arch.loadUnwinder();
    const unwinder = attempt(notes, 'unwinder', () => makeUnwinder(k));
    if (unwinder) {
      unwinderStatus = unwinder.status();
      try {
        bt = await unwinder.backtrace(panicCpu);
      } catch (e) {
        onlyDumpData(e);
        notes.push(`backtrace: ${sanitizeLine(e.message)}`);
      }
    }
  }

  // 4. Hazards, with memory evidence for the CPU each report names.
  const memoryFor = (r: CrashReport): MemoryContext | undefined => {
    const cpu = r.cpu ?? panicCpu;
    const c = cpus.find((x) => x.cpu === cpu);
    if (!c || !c.preempt) return undefined;
    const frames = bt && bt.cpu === cpu ? framesFromBacktrace(bt) : undefined;
    return { cpu: c.cpu, preempt: c.preempt, inKernelFpu: c.inKernelFpu, frames, source: `${c.preemptSource ?? '__preempt_count'} on CPU ${c.cpu}` };
  };
  const diagnosed = diagnoseReports(reports, memoryFor);
  const explaining = diagnosed.find((d) => d.hazards.length > 0)?.report.cpu ?? diagnosed[0]?.report.cpu ?? panicCpu;
  for (const c of cpus) c.explainsCrash = c.cpu === explaining;

  const panicLine = reports.find((r) => r.panic)?.panic ?? log?.records.map((r) => r.text).find((t) => t.includes('Kernel panic - not syncing')) ?? null;
  const ct = attempt(notes, 'crash time', () => crashTimeOfKernel(k));
  const crashTime = ct?.iso ?? null;
  if (ct && ct.source !== 'vmcoreinfo-crashtime') notes.push(`crash time from ${ct.how}`);

  // 5. What an incomplete dump cost the analysis.
  const c = dump.completeness();
  let incomplete: IncompleteDump | null = null;
  let result: AnalysisResult = 'complete';
  if (!c.complete) {
    const unreadable: string[] = [];
    const readable: string[] = [];
    if (release) readable.push(`kernel release ${release}`);
    if (regsByCpu.size) readable.push(`registers of ${regsByCpu.size} CPU${regsByCpu.size > 1 ? 's' : ''}`);
    if (log) readable.push(`kernel log (${logLines} records)`);
    else unreadable.push('kernel log');
    if (syms) readable.push('symbols');
    else unreadable.push(`symbols (${k.symbolAttempts.map((a) => a.source).join(', ') || 'none found'})`);
    if (syms && !k.btf) unreadable.push('BTF');
    const withContext = cpus.filter((x) => x.preemptCount !== null).length;
    if (withContext) readable.push(`preempt count of ${withContext} of ${cpus.length} CPUs`);
    if (withContext < cpus.length) unreadable.push(withContext ? `preempt count of ${cpus.length - withContext} CPUs` : 'per-CPU context');
    if (bt) readable.push(`backtrace (${bt.frames.length} frames${bt.stopped.startsWith('error') ? ', cut short' : ''})`);
    else unreadable.push('backtrace');
    if (crashTime) readable.push('crash time');
    const usable = log !== undefined || bt !== undefined || withContext > 0;
    const needed = dump.pagesPastEnd.size;
    result = !usable ? 'unusable' : needed > 0 || unreadable.length > 0 ? 'partial' : 'complete';
    const verdict = result === 'unusable' ? 'nothing usable for a diagnosis' : result === 'partial' ? 'partial result' : 'nothing the analysis needed is missing';
    const lost = missingText(c);
    const hit = needed > 0 ? `; the analysis needed ${needed} of them` : '';
    const summary = `INCOMPLETE DUMP (${verdict}): ${lost}${hit}; unreadable: ${unreadable.join(', ') || 'nothing'}; read: ${readable.join(', ') || 'nothing'}`;
    incomplete = { summary, reason: c.reason ?? 'incomplete', pages: c.pages, missingPages: c.missingPages, fileSize: c.fileSize, expectedSize: c.expectedSize, pagesNeededPastEnd: needed, unreadable, readable };
  } else if (log === undefined && bt === undefined && !cpus.some((x) => x.preemptCount !== null)) {
    // A whole file can still lack every page the analysis needs (filtered with the wrong dump
    // level, trimmed for another command, garbled): "no crash report found" would read as a
    // finding, so it is exit 2, as `triage` counts it a failed input.
    result = 'unusable';
    notes.unshift('nothing usable for a diagnosis: the kernel log, the backtrace and every CPU\'s context are unreadable although the file is whole (the pages they live in are absent or garbled; the notes below say which)');
  }
  return {
    source: 'vmcore',
    input,
    result,
    incomplete,
    unwinderNotice: unwinderStatus ? unwinderNotice(unwinderStatus).map(sanitizeLine) : [],
    dump: { format: dump.info.format, compression: dump.info.compression, sizeBytes: dump.info.fileSize, details: dump.info.details },
    kernelRelease: release,
    buildId: k.vmcoreinfo.buildId ?? null,
    crashTime,
    uptime,
    panicMessage: panicLine ? sanitizeLine(panicLine.trim()) : null,
    panicCpu,
    panicCpuEvidence: panic ? `${panic.evidence}${panic.details.length ? `: ${panic.details.slice(0, 2).join('; ')}` : ''}` : 'unknown',
    symbolSource: symbolSourceText(k),
    cpus,
    backtrace: bt ? backtraceOut(bt) : null,
    reports: diagnosed,
    logLines,
    notes,
    verdict: verdictOf(diagnosed),
    pagesRead: dump.pagesTouched.size,
  };
}

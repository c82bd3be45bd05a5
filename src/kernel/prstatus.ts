// NT_PRSTATUS registers per CPU (named by src/vmcore/notes.ts, the pc and sp picked by the
// Arch record), and which CPU panicked.
//
// Evidence for the panic CPU, strongest first:
//  1. the kernel's own `panic_cpu` variable (atomic_t set by panic()/nmi_panic(), -1 = none);
//  2. registers and stack: the CPU whose RIP or stack holds panic / __crash_kexec / crash_kexec /
//     machine_kexec (kdump's crash_setup_regs() runs there; QEMU dumps taken after a panic show
//     that CPU spinning in panic()), as opposed to CPUs stopped in crash_nmi_callback /
//     stop_this_cpu / nmi handlers or idling in native_safe_halt / default_idle;
//  3. the log: the last "CPU: N PID: ..." line (WARN/Oops/panic headers).

import { DumpReadError } from '../vmcore/types.js';
import type { PrStatus } from '../vmcore/types.js';
import type { KernelLog } from './printk.js';
import type { SymbolTable } from './symbols.js';
import { onlyDumpData } from '../util/errors.js';

export interface CpuRegisters {
  /** CPU number (the i-th NT_PRSTATUS note is the i-th online CPU). */
  cpu: number;
  /** pr_pid from the note (QEMU writes the vCPU index + 1; kdump the task's pid). */
  pid: number;
  /** pr_reg by the ABI's names (src/vmcore/notes.ts PRSTATUS_REGISTERS), unsigned. */
  regs: Record<string, bigint>;
  pc: bigint;
  sp: bigint;
}

/** The vmcore layer's register record as CpuRegisters; `names` says which words are the pc and sp (the Arch record's). */
export function decodePrstatus(p: PrStatus, cpu: number, names: { pc: string; sp: string } = { pc: 'rip', sp: 'rsp' }): CpuRegisters {
  const regs: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(p.regs)) regs[k] = BigInt.asUintN(64, v);
  return { cpu, pid: p.pid, regs, pc: regs[names.pc] ?? 0n, sp: regs[names.sp] ?? 0n };
}

export type CpuActivity = 'panic' | 'stopped' | 'idle' | 'running' | 'unknown';

export interface CpuState {
  cpu: number;
  rip: bigint;
  ripSymbol?: string;
  activity: CpuActivity;
  /** The function names that decided `activity` (from RIP or the stack scan). */
  markers: string[];
}

export interface PanicCpuResult {
  cpu?: number;
  /** 'panic_cpu variable' | 'registers/stack' | 'log' | 'none' */
  evidence: 'panic_cpu variable' | 'registers/stack' | 'log' | 'none';
  /** Human-readable supporting facts, also those that disagree. */
  details: string[];
  cpus: CpuState[];
}

const PANIC_FUNCS = new Set(['panic', 'nmi_panic', '__crash_kexec', 'crash_kexec', 'machine_kexec', 'crash_setup_regs', 'vpanic', 'panic_smp_self_stop', 'check_panic_on_warn']);
// arm64: local_cpu_stop (the panic's stop IPI, arch/arm64/kernel/smp.c) and ipi_cpu_crash_stop (kdump's).
const STOP_FUNCS = new Set(['local_cpu_stop', 'ipi_cpu_crash_stop', 'crash_nmi_callback', 'stop_this_cpu', 'smp_stop_nmi_callback', 'nmi_handle', 'sysvec_reboot', '__sysvec_reboot', 'nmi_shootdown_cpus', 'crash_smp_send_stop', 'native_stop_other_cpus']);
const IDLE_FUNCS = new Set(['native_safe_halt', 'default_idle', 'default_idle_call', 'do_idle', 'cpu_startup_entry', 'mwait_idle', 'intel_idle', 'acpi_idle_do_entry', 'arch_cpu_idle', 'cpuidle_enter_state', 'pv_native_safe_halt']);

export interface StackReader {
  tryRead(vaddr: bigint, len: number): Buffer | undefined;
}

/** Names of kernel text symbols found on the stack from `rsp` upward (bounded scan). */
export function scanStackSymbols(mem: StackReader, syms: SymbolTable, rsp: bigint, maxBytes = 16384, withinThreadStack = true, codeAddress: (v: bigint) => bigint = (v) => v): string[] {
  const out: string[] = [];
  const textLo = syms.lookup('_stext') ?? syms.lookup('_text');
  const textHi = syms.lookup('_etext');
  // Stay within the THREAD_SIZE-aligned (16 KiB) stack region holding rsp, unless told the region.
  const end = withinThreadStack ? (rsp | 0x3fffn) + 1n : rsp + BigInt(maxBytes);
  const len = Number(end - rsp < BigInt(maxBytes) ? end - rsp : BigInt(maxBytes));
  if (len <= 0) return out;
  let buf = mem.tryRead(rsp, len);
  if (!buf) {
    // Read page by page until something fails.
    const parts: Buffer[] = [];
    for (let a = rsp; a < rsp + BigInt(len); ) {
      const n = Number(4096n - (a & 0xfffn));
      const b = mem.tryRead(a, Math.min(n, Number(rsp + BigInt(len) - a)));
      if (!b) break;
      parts.push(b);
      a += BigInt(b.length);
    }
    buf = Buffer.concat(parts);
  }
  for (let o = 0; o + 8 <= buf.length; o += 8) {
    const v = codeAddress(buf.readBigUInt64LE(o));
    if (textLo !== undefined && textHi !== undefined) {
      if (v < textLo || v >= textHi) continue;
    } else if (v < 0xffffffff80000000n) continue; // without text bounds: x86_64's kernel image

    const s = syms.symbolize(v);
    if (s && s.offset > 0n) out.push(s.name);
  }
  return out;
}

/**
 * Classify one CPU by its RIP and the text addresses on its stack. `nmiStackNames` (optional, called
 * only when the task stack is not conclusive) gives the text symbols on the CPU's NMI IST stack: with kdump, a CPU stopped by the NMI
 * shootdown saved its *interrupted* registers, so the evidence (crash_nmi_callback) is only there.
 */
export function classifyCpu(mem: StackReader, syms: SymbolTable, r: CpuRegisters, nmiStackNames: () => string[] = () => [], codeAddress?: (v: bigint) => bigint): CpuState {
  const ripSym = syms.symbolize(r.pc);
  const names = [ripSym?.name, ...(r.sp !== 0n ? scanStackSymbols(mem, syms, r.sp, 16384, true, codeAddress) : [])].filter((x): x is string => !!x);
  const hit = (set: Set<string>) => names.filter((n) => set.has(n));
  const p = hit(PANIC_FUNCS);
  const s = hit(STOP_FUNCS);
  const i = hit(IDLE_FUNCS);
  let activity: CpuActivity;
  let markers: string[];
  // A CPU stopped by the panicking one also runs nmi/stop code, never panic() itself; check
  // stop markers first only when panic() is absent.
  if (p.length && !(ripSym && STOP_FUNCS.has(ripSym.name))) {
    activity = 'panic';
    markers = p;
  } else if (s.length) {
    activity = 'stopped';
    markers = s;
  } else if (nmiStackNames().includes('crash_nmi_callback')) {
    activity = 'stopped';
    markers = ['crash_nmi_callback (NMI stack)'];
  } else if (i.length) {
    activity = 'idle';
    markers = i;
  } else {
    activity = names.length ? 'running' : 'unknown';
    markers = [];
  }
  return { cpu: r.cpu, rip: r.pc, ripSymbol: ripSym ? `${ripSym.name}+0x${ripSym.offset.toString(16)}` : undefined, activity, markers: [...new Set(markers)] };
}

export interface PanicCpuInput {
  cpus: CpuRegisters[];
  syms?: SymbolTable;
  mem?: StackReader & { readI32(vaddr: bigint): number };
  /** The log, or a function giving it (called only when panic_cpu and the registers do not decide). */
  log?: KernelLog | (() => KernelLog | undefined);
  /** Text symbols on each CPU's NMI stack (see classifyCpu). */
  nmiStackNames?: (cpu: number) => string[];
  /**
   * A stack word as a code address: arm64 return addresses carry a pointer-authentication code
   * in their upper bits (6.x kernels built with CONFIG_ARM64_PTR_AUTH_KERNEL, on CPUs with PAC),
   * which must be stripped before the word can name a function.
   */
  codeAddress?: (v: bigint) => bigint;
}

/** The last "CPU: N PID: ..." header in the log. */
export function panicCpuFromLog(log: KernelLog): number | undefined {
  for (let i = log.records.length - 1; i >= 0; i--) {
    const m = /\bCPU: (\d+) (?:UID: \d+ )?PID: \d+/.exec(log.records[i].text);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export function identifyPanicCpu(input: PanicCpuInput): PanicCpuResult {
  const details: string[] = [];
  const nmi = (cpu: number) => {
    try {
      return input.nmiStackNames?.(cpu) ?? [];
    } catch (e) {
      onlyDumpData(e);
      return [];
    }
  };
  const states = input.syms && input.mem ? input.cpus.map((c) => classifyCpu(input.mem!, input.syms!, c, () => nmi(c.cpu), input.codeAddress)) : [];
  const cpuIds = new Set(input.cpus.map((c) => c.cpu));
  let varCpu: number | undefined;
  const pcAddr = input.syms?.lookup('panic_cpu');
  if (pcAddr !== undefined && input.mem) {
    try {
      const v = input.mem.readI32(pcAddr);
      // Only a CPU the dump holds registers for can outrank the register evidence; -1
      // (PANIC_CPU_INVALID) means no CPU had entered panic().
      if (v >= 0 && (cpuIds.size === 0 || cpuIds.has(v))) {
        varCpu = v;
        details.push(`panic_cpu = ${v}`);
      } else if (v < 0) details.push(`panic_cpu = ${v} (no CPU recorded)`);
      else details.push(`panic_cpu = ${v}, but the dump has no registers of that CPU: ignored`);
    } catch (e) {
      if (!(e instanceof DumpReadError)) throw e;
      details.push(`panic_cpu unreadable: ${e.message}`);
    }
  }
  const panicking = states.filter((s) => s.activity === 'panic');
  for (const s of states) details.push(`CPU ${s.cpu}: ${s.activity}${s.ripSymbol ? ` at ${s.ripSymbol}` : ''}${s.markers.length ? ` (${s.markers.join(', ')})` : ''}`);
  if (varCpu !== undefined) {
    if (panicking.length === 1 && panicking[0].cpu !== varCpu) details.push(`registers/stack point at CPU ${panicking[0].cpu} instead`);
    return { cpu: varCpu, evidence: 'panic_cpu variable', details, cpus: states };
  }
  if (panicking.length === 1) return { cpu: panicking[0].cpu, evidence: 'registers/stack', details, cpus: states };
  let log: KernelLog | undefined;
  try {
    log = typeof input.log === 'function' ? input.log() : input.log;
  } catch (e) {
    onlyDumpData(e);
    details.push(`log unreadable: ${e.message}`);
  }
  const logCpu = log ? panicCpuFromLog(log) : undefined;
  if (logCpu !== undefined) {
    details.push(`log: last "CPU: ${logCpu} PID:" header`);
    return { cpu: logCpu, evidence: 'log', details, cpus: states };
  }
  return { evidence: 'none', details, cpus: states };
}

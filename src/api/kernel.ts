// The library's view of the kernel in a dump, in the manner of drgn's Program: symbols, memory,
// per-CPU variables, tasks, stack traces, the log and typed reads through BTF. It wraps
// src/kernel's Kernel rather than exporting it, so the kernel layer can change shape without
// breaking programs built on ktriage; only what is here is promised.

import { openKernel as openKernelCore, type Kernel as KernelCore } from '../kernel/kernel.js';
import { KNOWN_GLOBAL_TYPES, KernelObject, LookupError, parseTypeName } from '../kernel/object.js';
import { perCpuVarType } from '../kernel/percpu-path.js';
import { formatLog, type KernelLog } from '../kernel/printk.js';
import type { Backtrace } from '../kernel/unwind/index.js';
import type { KernelUnwinder } from '../kernel/arch/index.js';
import type { DumpFile } from '../vmcore/types.js';

/** Symbol files to use when the dump's own kallsyms cannot be read (kernels before 6.0 may need one). */
export interface OpenKernelOptions {
  /** Path of a System.map of exactly this kernel build. */
  systemMap?: string;
  /** Path of a vmlinux (with .symtab) of exactly this kernel build. */
  vmlinux?: string;
}

/** A kernel symbol, or the symbol an address falls in. */
export interface SymbolInfo {
  name: string;
  /** Start address (KASLR applied); for a per-CPU variable, its offset in the per-CPU area. */
  address: bigint;
  /** Bytes from the symbol's start (0 for a lookup by name). */
  offset: bigint;
  /** Size in bytes; 0n when the symbol source has no sizes. */
  size: bigint;
  /** Module name, for a symbol in a loaded module. */
  module?: string;
}

/** A task_struct, read through BTF. A field the dump does not hold is null, with the reason in `problems`. */
export interface Task {
  /** Address of the task_struct. */
  address: bigint;
  pid: number | null;
  tgid: number | null;
  comm: string | null;
  /** Base of the task's kernel stack. */
  stack: bigint | null;
  problems: string[];
}

/** Stack trace of a CPU, or of a task running on one. */
export type StackTraceTarget = number | bigint | Task | { cpu: number } | { task: bigint };

export class Kernel {
  private unwinder?: KernelUnwinder;

  /** @internal Use openKernel(). */
  constructor(private readonly core: KernelCore) {}

  /** The dump this kernel was read from. */
  get dump(): DumpFile {
    return this.core.dump;
  }

  /** The architecture the dump was taken on ('x86_64' or 'arm64'), as explainPreemptCount()'s `arch` names it. */
  get arch(): 'x86_64' | 'arm64' {
    return this.core.arch.name;
  }

  /** `uname -r` of the crashed kernel (VMCOREINFO OSRELEASE), e.g. Debian's "6.1.0-<abi>-amd64". */
  get release(): string | null {
    return this.core.osrelease ?? null;
  }

  /** KASLR offset, when known. */
  get kaslrOffset(): bigint | null {
    return this.core.kaslrOffset ?? null;
  }

  /** Possible CPUs, ascending. */
  get cpus(): number[] {
    return [...this.core.percpu.possible];
  }

  /** Online CPUs, ascending. */
  get onlineCpus(): number[] {
    return [...this.core.percpu.online];
  }

  /** The CPU that panicked and how that was decided, or null when it could not be told. */
  get panicCpu(): { cpu: number | null; evidence: string } {
    const p = this.core.panicCpu;
    return { cpu: p.cpu ?? null, evidence: p.evidence };
  }

  /**
   * A symbol by name, or the symbol containing an address. Undefined when there is none.
   * Throws when the kernel has no usable symbol table at all (the message says what would help).
   */
  symbol(nameOrAddress: string | bigint): SymbolInfo | undefined {
    const syms = this.core.symbols;
    if (typeof nameOrAddress === 'bigint') {
      const s = syms.symbolize(nameOrAddress);
      return s ? { name: s.name, address: s.address, offset: s.offset, size: s.size, ...(s.module ? { module: s.module } : {}) } : undefined;
    }
    const s = syms.get(nameOrAddress);
    return s ? { name: s.name, address: s.address, offset: 0n, size: s.size ?? 0n } : undefined;
  }

  private addressOf(symbolOrAddress: string | bigint): bigint {
    if (typeof symbolOrAddress === 'bigint') return symbolOrAddress;
    const a = this.core.symbols.lookup(symbolOrAddress);
    if (a === undefined) throw new LookupError(`no symbol ${symbolOrAddress}`);
    return a;
  }

  /** `length` bytes of kernel virtual memory (an address, or a symbol's address). */
  read(address: string | bigint, length: number): Buffer {
    return this.core.memory.readVirtual(this.addressOf(address), length);
  }
  readU8(address: string | bigint): number {
    return this.core.memory.readU8(this.addressOf(address));
  }
  readU16(address: string | bigint): number {
    return this.core.memory.readU16(this.addressOf(address));
  }
  readU32(address: string | bigint): number {
    return this.core.memory.readU32(this.addressOf(address));
  }
  readU64(address: string | bigint): bigint {
    return this.core.memory.readU64(this.addressOf(address));
  }
  /** A NUL-terminated string of at most `max` bytes. */
  readString(address: string | bigint, max = 256): string {
    return this.core.memory.readCString(this.addressOf(address), max);
  }

  private get btf() {
    const b = this.core.btf;
    if (!b) throw new LookupError(`typed reads need the kernel's BTF, which this dump does not give: ${this.core.btfError ?? 'unknown reason'}`);
    return b;
  }

  private symbolizer = (a: bigint): string | undefined => {
    const s = this.core.symbolsOrNull()?.symbolize(a);
    return s ? `${s.name}${s.offset ? `+${s.offset}` : ''}` : undefined;
  };

  /**
   * A typed object through BTF: a global by name (`object('init_task')`), or any address with a
   * type (`object(0xffff888003a1c000n, 'struct task_struct')`). Kernel BTF names the type of
   * per-CPU variables only: for other globals pass the type, except the few ktriage knows
   * (init_task, init_mm, jiffies, ...).
   */
  object(symbolOrAddress: string | bigint, type?: string): KernelObject {
    const btf = this.btf;
    const address = this.addressOf(symbolOrAddress);
    let typeId: number | undefined;
    if (type !== undefined) typeId = parseTypeName(btf, type);
    else if (typeof symbolOrAddress === 'string') {
      const known = KNOWN_GLOBAL_TYPES[symbolOrAddress];
      typeId = known ? parseTypeName(btf, known) : perCpuVarType(btf, symbolOrAddress);
      if (typeId !== undefined && !known && this.core.percpu.isPerCpuSymbol(symbolOrAddress)) {
        throw new LookupError(`${symbolOrAddress} is a per-CPU variable: use perCpu('${symbolOrAddress}', cpu)`);
      }
    }
    if (typeId === undefined) throw new LookupError(`the type of ${String(symbolOrAddress)} is not in BTF: pass it, e.g. object('${String(symbolOrAddress)}', 'struct foo')`);
    return new KernelObject(btf, this.core.memory, address, typeId, undefined, this.symbolizer);
  }

  /** A per-CPU variable on one CPU, typed through BTF: `perCpu('runqueues', 1).member('nr_running')`. */
  perCpu(symbol: string, cpu: number): KernelObject {
    const btf = this.btf;
    if (!this.core.percpu.isPerCpuSymbol(symbol)) throw new LookupError(`${symbol} is not a per-CPU variable`);
    const typeId = perCpuVarType(btf, symbol);
    if (typeId === undefined) throw new LookupError(`BTF has no type for the per-CPU variable ${symbol}`);
    return new KernelObject(btf, this.core.memory, this.core.percpu.address(cpu, symbol), typeId, undefined, this.symbolizer);
  }

  /**
   * preempt_count of a CPU as stored, unsigned, wherever this kernel keeps it: on x86_64 the
   * 32-bit `__preempt_count` (or `pcpu_hot.preempt_count` on 6.2-6.14); on arm64 the current
   * task's 64-bit `thread_info.preempt_count` (need_resched, 0 or 1, in the upper word, so the
   * number is exact). Decode it with explainPreemptCount(value, { arch: kernel.arch }).
   */
  preemptCount(cpu: number): number {
    const v = this.core.percpu.preemptCount()?.values.find((x) => x.cpu === cpu);
    if (!v) throw new LookupError(`no preempt_count for CPU ${cpu} (no __preempt_count or pcpu_hot symbol, or not a possible CPU)`);
    if (v.value === undefined) throw new LookupError(`preempt_count of CPU ${cpu} unreadable: ${v.error ?? 'unknown reason'}`);
    return v.wide !== undefined ? Number(v.wide) : v.value;
  }

  /** The task running on a CPU when the dump was taken (per-CPU current_task), or null if unreadable. */
  currentTask(cpu: number): Task | null {
    const v = this.core.percpu.currentTask()?.values.find((x) => x.cpu === cpu);
    return v?.value === undefined ? null : this.task(v.value);
  }

  /** The task_struct at an address: pid, tgid, comm, stack through BTF. */
  task(address: bigint): Task {
    const t = this.core.task(address);
    return { address, pid: t.pid ?? null, tgid: t.tgid ?? null, comm: t.comm ?? null, stack: t.stack ?? null, problems: [...t.errors] };
  }

  /**
   * The stack unwound from memory (ORC, exception frames, IRQ/NMI stacks, module frames) of a CPU,
   * or of a task that was running on a CPU. Tasks that were not running are not supported yet.
   */
  async stackTrace(target: StackTraceTarget): Promise<Backtrace> {
    let cpu: number | undefined;
    if (typeof target === 'number') cpu = target;
    else if (typeof target === 'object' && 'cpu' in target) cpu = target.cpu;
    else {
      const task = typeof target === 'bigint' ? target : 'task' in target ? target.task : target.address;
      cpu = this.core.cpus.find((c) => this.currentTaskAddress(c.cpu) === task)?.cpu;
      if (cpu === undefined) throw new LookupError(`task 0x${task.toString(16)} was not running on a CPU with registers in the dump; unwinding a sleeping task is not supported yet`);
    }
    if (!this.core.cpus.some((c) => c.cpu === cpu)) throw new LookupError(`CPU ${cpu} has no register note in this dump`);
    this.unwinder ??= (await this.core.arch.loadUnwinder())(this.core);
    return this.unwinder.backtrace(cpu);
  }

  private currentTaskAddress(cpu: number): bigint | undefined {
    return this.core.percpu.currentTask()?.values.find((x) => x.cpu === cpu)?.value;
  }

  /** The kernel log from the printk ring buffer: records, and what could not be read. */
  log(): KernelLog {
    return this.core.log;
  }

  /** The kernel log as `dmesg` prints it. */
  logText(options: { tail?: number } = {}): string {
    return formatLog(this.core.log, options);
  }
}

/**
 * The kernel inside an open dump. Reads only VMCOREINFO now; symbols, BTF, per-CPU data and the log
 * are read on first use. Throws InputError when the dump has no VMCOREINFO, or when a symbol file
 * given in `options` belongs to another kernel build.
 */
export function openKernel(dump: DumpFile, options: OpenKernelOptions = {}): Kernel {
  return new Kernel(openKernelCore(dump, options));
}

// Per-CPU variables: address(cpu) = __per_cpu_offset[cpu] + symbol value (x86_64 and arm64 alike).
// On x86_64 up to 6.14 per-CPU symbols are small offsets (kallsyms type 'A' under KALLSYMS_ABSOLUTE_PERCPU,
// not KASLR-shifted); from 6.15 they are ordinary image addresses and the sum still holds
// (__per_cpu_offset = area - __per_cpu_start). CPUs: the bits of __cpu_possible_mask /
// __cpu_online_mask below nr_cpu_ids, else the NT_PRSTATUS count.
// Where the preempt count, the current task and the FPU state live is the architecture's
// (src/kernel/arch/<arch>/context.ts).

import { InputError, onlyDumpData } from '../util/errors.js';
import type { Btf } from './btf.js';
import type { KernelAddressSpace } from './address-space.js';
import type { PerCpuContext } from './arch/types.js';
import { x86_64Context } from './arch/x86_64/context.js';
import type { SymbolTable } from './symbols.js';

export type CpuSource = 'cpu_possible_mask' | 'cpu_online_mask' | 'prstatus' | 'single';

export interface PerCpuValue<T> {
  cpu: number;
  value?: T;
  /** Why the value is missing. */
  error?: string;
  address?: bigint;
}

export interface PerCpuField {
  /** Where the value was read: "__preempt_count", "pcpu_hot.preempt_count (BTF)", ... */
  source: string;
  /** Symbol value (per-CPU offset) plus member offset. */
  offset: bigint;
  /** 'in_kernel_fpu' vs 'kernel_fpu_allowed' semantics. */
  inverted?: boolean;
}

export const NR_CPUS_MAX = 8192;

export type PerCpuType = 'int' | 'uint' | 'bool' | 'u8' | 'u16' | 'u64' | 's64' | 'ptr';
export const PERCPU_TYPE_SIZE: Record<PerCpuType, number> = { int: 4, uint: 4, bool: 1, u8: 1, u16: 2, u64: 8, s64: 8, ptr: 8 };

export function decodeTyped(b: Buffer, type: PerCpuType): number | bigint | boolean {
  switch (type) {
    case 'int':
      return b.readInt32LE(0);
    case 'uint':
      return b.readUInt32LE(0);
    case 'bool':
      return b[0] !== 0;
    case 'u8':
      return b[0];
    case 'u16':
      return b.readUInt16LE(0);
    case 's64':
      return b.readBigInt64LE(0);
    case 'u64':
    case 'ptr':
      return b.readBigUInt64LE(0);
  }
}

function bitsOf(buf: Buffer, limit: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(limit, buf.length * 8); i++) if (buf[i >> 3] & (1 << (i & 7))) out.push(i);
  return out;
}

export class PerCpu {
  readonly possible: number[];
  readonly online: number[];
  readonly cpuSource: CpuSource;
  readonly nrCpuIds?: number;
  private readonly offsets = new Map<number, bigint>();
  readonly perCpuOffsetSymbol?: bigint;
  readonly warnings: string[] = [];

  constructor(
    readonly mem: KernelAddressSpace,
    readonly syms: SymbolTable,
    prstatusCount: number,
    readonly btf?: () => Btf | undefined,
    /** Where the architecture keeps each CPU's context; x86_64's when not given (synthetic kernels in tests). */
    private readonly context: PerCpuContext = x86_64Context,
  ) {
    this.perCpuOffsetSymbol = syms.lookup('__per_cpu_offset');
    const nrAddr = syms.lookup('nr_cpu_ids');
    let nr: number | undefined;
    if (nrAddr !== undefined) {
      try {
        const v = mem.readU32(nrAddr);
        if (v >= 1 && v <= NR_CPUS_MAX) nr = v;
        else this.warnings.push(`nr_cpu_ids reads ${v}: ignored`);
      } catch (e) {
        onlyDumpData(e);
        this.warnings.push(`nr_cpu_ids unreadable: ${e.message}`);
      }
    }
    this.nrCpuIds = nr;
    const limit = nr ?? NR_CPUS_MAX;
    const readMask = (name: string): number[] | undefined => {
      const a = syms.lookup(name) ?? syms.lookup(name.replace(/^__/, ''));
      if (a === undefined) return undefined;
      try {
        const b = mem.readVirtual(a, Math.ceil(limit / 8));
        const bits = bitsOf(b, limit);
        return bits.length ? bits : undefined;
      } catch (e) {
        onlyDumpData(e);
        this.warnings.push(`${name} unreadable: ${e.message}`);
        return undefined;
      }
    };
    const possible = readMask('__cpu_possible_mask');
    const online = readMask('__cpu_online_mask');
    if (possible) {
      this.possible = possible;
      this.cpuSource = 'cpu_possible_mask';
    } else if (online) {
      this.possible = online;
      this.cpuSource = 'cpu_online_mask';
    } else if (prstatusCount > 0) {
      this.possible = Array.from({ length: prstatusCount }, (_, i) => i);
      this.cpuSource = 'prstatus';
    } else {
      this.possible = [0];
      this.cpuSource = 'single';
    }
    this.online = online ?? this.possible;
    if (prstatusCount > 0 && online && prstatusCount !== online.length) {
      this.warnings.push(`${prstatusCount} NT_PRSTATUS notes but ${online.length} CPUs online`);
    }
  }

  /** __per_cpu_offset[cpu]. */
  cpuOffset(cpu: number): bigint {
    let o = this.offsets.get(cpu);
    if (o === undefined) {
      if (this.perCpuOffsetSymbol === undefined) throw new InputError('no __per_cpu_offset symbol: per-CPU variables cannot be located');
      if (!Number.isInteger(cpu) || cpu < 0 || cpu >= NR_CPUS_MAX) throw new InputError(`bad CPU number ${cpu}`);
      o = this.mem.readU64(this.perCpuOffsetSymbol + BigInt(cpu) * 8n);
      this.offsets.set(cpu, o);
    }
    return o;
  }

  /** Address of a per-CPU variable (symbol name or raw per-CPU offset) on one CPU. */
  address(cpu: number, symbolOrOffset: string | bigint): bigint {
    let off: bigint;
    if (typeof symbolOrOffset === 'string') {
      const v = this.syms.lookup(symbolOrOffset);
      if (v === undefined) throw new InputError(`no symbol ${symbolOrOffset}`);
      off = v;
    } else off = symbolOrOffset;
    return BigInt.asUintN(64, this.cpuOffset(cpu) + off);
  }

  /**
   * Is this symbol a per-CPU variable? Up to 6.14 per-CPU symbols are offsets inside
   * [__per_cpu_start, __per_cpu_end) with __per_cpu_start = 0 (kallsyms type 'A'); from 6.15 they
   * are image addresses inside the same range.
   */
  isPerCpuSymbol(name: string): boolean {
    const v = this.syms.lookup(name);
    if (v === undefined) return false;
    const start = this.syms.lookup('__per_cpu_start');
    const end = this.syms.lookup('__per_cpu_end');
    if (start !== undefined && end !== undefined && end > start) return v >= start && v < end;
    return v < 0xff00000000000000n;
  }

  /**
   * A per-CPU variable on every possible CPU, decoded as `type` ('int' s32, 'uint' u32, 'bool' u8,
   * 'u8', 'u16', 'u64', 's64', 'ptr'). Throws InputError for an unknown or non-per-CPU symbol.
   */
  readTyped(name: string, type: PerCpuType): { symbol: string; offset: bigint; type: PerCpuType; values: PerCpuValue<number | bigint | boolean>[] } {
    const off = this.syms.lookup(name);
    if (off === undefined) throw new InputError(`no symbol ${name}`);
    if (!this.isPerCpuSymbol(name)) throw new InputError(`${name} is not a per-CPU variable (0x${off.toString(16)} is outside __per_cpu_start..__per_cpu_end)`);
    const size = PERCPU_TYPE_SIZE[type];
    return {
      symbol: name,
      offset: off,
      type,
      values: this.readAll(off, size).map((r) => ({ cpu: r.cpu, address: r.address, error: r.error, value: r.value === undefined ? undefined : decodeTyped(r.value, type) })),
    };
  }

  /** Read `len` bytes of a per-CPU location on every possible CPU. */
  readAll(offset: bigint, len: number): PerCpuValue<Buffer>[] {
    return this.possible.map((cpu) => {
      try {
        const address = this.address(cpu, offset);
        return { cpu, address, value: this.mem.readVirtual(address, len) };
      } catch (e) {
        onlyDumpData(e);
        return { cpu, error: e.message };
      }
    });
  }

  /**
   * preempt_count on every CPU, wherever the architecture keeps it: `value` is the unsigned
   * 32-bit count, `wide` the whole word where it is wider (arm64's 64-bit thread_info.preempt_count).
   */
  preemptCount(): { source: string; values: (PerCpuValue<number> & { wide?: bigint })[] } | undefined {
    return this.context.preemptCount(this);
  }

  /** Kernel FPU/SIMD in use, normalised to in_kernel_fpu's meaning (true = in use). `raw` is the stored byte. */
  inKernelFpu(): { source: string; inverted: boolean; values: (PerCpuValue<boolean> & { raw?: number })[] } | undefined {
    return this.context.simdInUse(this);
  }

  currentTask(): { source: string; values: PerCpuValue<bigint>[] } | undefined {
    return this.context.currentTask(this);
  }
}

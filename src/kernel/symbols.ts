// One symbol-table shape for every source (kallsyms from the dump, System.map, a vmlinux's
// .symtab): name -> address, and address -> symbol+offset/size by binary search.
// It satisfies the unwinder's UnwindSymbols interface.

import { firstAtOrBelow } from '../util/search.js';
import type { SymbolInfo, UnwindSymbols } from './unwind/types.js';

export type SymbolSource = 'kallsyms' | 'system-map' | 'vmlinux';

export interface KernelSymbol {
  name: string;
  /** Runtime address (KASLR applied), or the raw per-CPU offset for per-CPU symbols. */
  address: bigint;
  /** nm-style type letter ('T', 't', 'D', 'A', ...); '?' when unknown. */
  type: string;
  /** Size when the source has it (vmlinux); undefined otherwise. */
  size?: bigint;
}

export interface SymbolTable extends UnwindSymbols {
  readonly source: SymbolSource;
  /** Free-form description of how the table was obtained (encoding, file, KASLR shift). */
  readonly description: string;
  readonly count: number;
  lookup(name: string): bigint | undefined;
  /** The symbol record (type letter etc.); global symbols preferred over local ones of the same name. */
  get(name: string): KernelSymbol | undefined;
  /** Nearest symbol at or below addr (absolute/per-CPU symbols excluded); null outside the kernel. */
  symbolize(addr: bigint): SymbolInfo | null;
  /** "name+0xoff/0xsize" or undefined. */
  format(addr: bigint): string | undefined;
  /** All symbols, in source order. */
  all(): readonly KernelSymbol[];
}

/** Kernel virtual addresses start here; anything below (per-CPU offsets, absolute values) is not code/data. */
const KERNEL_SPACE = 0xff00000000000000n;

function isGlobal(t: string): boolean {
  return t >= 'A' && t <= 'Z';
}

export class BasicSymbolTable implements SymbolTable {
  private readonly byName = new Map<string, number>();
  /** Indexes into `syms` of symbolizable entries, sorted by address (stable). */
  private readonly sorted: Uint32Array;
  private readonly sortedAddr: BigUint64Array;

  constructor(
    readonly source: SymbolSource,
    private readonly syms: KernelSymbol[],
    readonly description: string,
  ) {
    for (let i = 0; i < syms.length; i++) {
      const s = syms[i];
      const prev = this.byName.get(s.name);
      if (prev === undefined || (!isGlobal(syms[prev].type) && isGlobal(s.type))) this.byName.set(s.name, i);
    }
    const idx: number[] = [];
    let inOrder = true;
    let last = -1n;
    for (let i = 0; i < syms.length; i++) {
      const s = syms[i];
      if (s.address < KERNEL_SPACE || s.type === 'A' || s.type === 'a' || s.type === 'U' || s.type === 'w') continue;
      if (s.address < last) inOrder = false;
      last = s.address;
      idx.push(i);
    }
    if (!inOrder) idx.sort((a, b) => (syms[a].address < syms[b].address ? -1 : syms[a].address > syms[b].address ? 1 : a - b));
    this.sorted = Uint32Array.from(idx);
    this.sortedAddr = BigUint64Array.from(idx.map((i) => syms[i].address));
  }

  get count(): number {
    return this.syms.length;
  }

  all(): readonly KernelSymbol[] {
    return this.syms;
  }

  lookup(name: string): bigint | undefined {
    const i = this.byName.get(name);
    return i === undefined ? undefined : this.syms[i].address;
  }

  get(name: string): KernelSymbol | undefined {
    const i = this.byName.get(name);
    return i === undefined ? undefined : this.syms[i];
  }

  symbolize(addr: bigint): SymbolInfo | null {
    addr = BigInt.asUintN(64, addr);
    const a = this.sortedAddr;
    const i = firstAtOrBelow(a, addr);
    if (i < 0) return null;
    const sym = this.syms[this.sorted[i]];
    // Size: the symbol's own size when known, else the distance to the next higher address.
    let size = sym.size ?? 0n;
    if (size === 0n) {
      let j = i + 1;
      while (j < a.length && a[j] === a[i]) j++;
      size = j < a.length ? a[j] - a[i] : 0n;
    }
    const offset = addr - sym.address;
    if (size === 0n ? offset !== 0n : offset >= size) {
      // Past the end of a sized symbol (vmlinux), or past the last symbol: fall back to the gap rule
      // only for sized tables where a later symbol exists.
      if (sym.size === undefined) return null;
      let j = i + 1;
      while (j < a.length && a[j] === a[i]) j++;
      if (j >= a.length || offset >= a[j] - a[i]) return null;
      return { name: sym.name, address: sym.address, offset, size: a[j] - a[i] };
    }
    return { name: sym.name, address: sym.address, offset, size };
  }

  format(addr: bigint): string | undefined {
    const s = this.symbolize(addr);
    if (!s) return undefined;
    return `${s.name}+0x${s.offset.toString(16)}/0x${s.size.toString(16)}`;
  }
}

/**
 * A table plus a few symbols found elsewhere (data symbols an arm64 kernel without
 * CONFIG_KALLSYMS_ALL lacks, recovered from code and BTF), without copying the base table: a
 * kallsyms table of 50k names decodes lazily, and rebuilding it as a BasicSymbolTable cost ~30 ms
 * per command. Names resolve in the base first; an address gets the nearer of the two tables'
 * symbols at or below it.
 */
export class OverlaySymbolTable implements SymbolTable {
  private readonly extra: BasicSymbolTable;

  constructor(
    private readonly base: SymbolTable,
    extra: KernelSymbol[],
    readonly description: string,
  ) {
    this.extra = new BasicSymbolTable(base.source, extra, description);
  }

  get source(): SymbolSource {
    return this.base.source;
  }

  get count(): number {
    return this.base.count + this.extra.count;
  }

  all(): readonly KernelSymbol[] {
    return [...this.base.all(), ...this.extra.all()];
  }

  lookup(name: string): bigint | undefined {
    return this.base.lookup(name) ?? this.extra.lookup(name);
  }

  get(name: string): KernelSymbol | undefined {
    return this.base.get(name) ?? this.extra.get(name);
  }

  symbolize(addr: bigint): SymbolInfo | null {
    const a = this.base.symbolize(addr);
    const b = this.extra.symbolize(addr);
    if (!a) return b;
    if (!b) return a;
    return b.address > a.address ? b : a;
  }

  format(addr: bigint): string | undefined {
    const s = this.symbolize(addr);
    return s ? `${s.name}+0x${s.offset.toString(16)}/0x${s.size.toString(16)}` : undefined;
  }
}

// Small synthetic kernels for unit tests: sparse memory, a symbol table and ORC tables built the
// way objtool and unwind_init() lay them out.
import type { SymbolInfo, UnwindMemory, UnwindSymbols } from '../../src/kernel/unwind/types.js';
import { LOOKUP_BLOCK_SIZE, type OrcVersion } from '../../src/kernel/unwind/orc.js';
import { DumpReadError } from '../../src/vmcore/types.js';

export class FakeMemory implements UnwindMemory {
  private readonly chunks: { base: bigint; buf: Buffer }[] = [];
  reads = 0;

  private readonly pages = new Set<bigint>();

  /** Map [base, base+size); whole 4 KiB pages become readable (zero-filled outside chunks). */
  map(base: bigint, size: number): Buffer {
    const buf = Buffer.alloc(size);
    this.chunks.push({ base, buf });
    for (let p = base & ~0xfffn; p < base + BigInt(size); p += 0x1000n) this.pages.add(p);
    return buf;
  }

  writeU64(addr: bigint, v: bigint): void {
    const c = this.chunk(addr, 8);
    c.buf.writeBigUInt64LE(BigInt.asUintN(64, v), Number(addr - c.base));
  }

  write(addr: bigint, data: Buffer): void {
    const c = this.chunk(addr, data.length);
    data.copy(c.buf, Number(addr - c.base));
  }

  private chunk(addr: bigint, len: number) {
    const c = this.chunks.find((x) => addr >= x.base && addr + BigInt(len) <= x.base + BigInt(x.buf.length));
    if (!c) throw new Error(`unmapped 0x${addr.toString(16)}`);
    return c;
  }

  read(vaddr: bigint, len: number): Buffer {
    this.reads++;
    const end = vaddr + BigInt(len);
    for (let p = vaddr & ~0xfffn; p < end; p += 0x1000n) if (!this.pages.has(p)) throw new DumpReadError(`unmapped 0x${p.toString(16)}`);
    const out = Buffer.alloc(len);
    for (const c of this.chunks) {
      const cEnd = c.base + BigInt(c.buf.length);
      const lo = vaddr > c.base ? vaddr : c.base;
      const hi = end < cEnd ? end : cEnd;
      if (lo < hi) c.buf.copy(out, Number(lo - vaddr), Number(lo - c.base), Number(hi - c.base));
    }
    return out;
  }

  readU64(vaddr: bigint): bigint {
    return this.read(vaddr, 8).readBigUInt64LE(0);
  }
}

export class FakeSymbols implements UnwindSymbols {
  constructor(private readonly table: { name: string; address: bigint; size?: bigint }[]) {
    this.table.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }

  lookup(name: string): bigint | undefined {
    return this.table.find((s) => s.name === name)?.address;
  }

  symbolize(addr: bigint): SymbolInfo | null {
    let best: { name: string; address: bigint; size?: bigint } | undefined;
    for (const s of this.table) if (s.address <= addr && s.size !== undefined) best = s;
    if (!best || best.size === undefined || addr >= best.address + best.size) return null;
    return { name: best.name, address: best.address, offset: addr - best.address, size: best.size };
  }
}

export interface OrcSpec {
  ip: bigint;
  spReg: number;
  spOffset: number;
  bpReg?: number;
  bpOffset?: number;
  type: 'call' | 'regs' | 'regs_partial' | 'undefined' | 'end_of_stack';
  end?: boolean;
  signal?: boolean;
}

// ORC_REG_* (pre-7.1 numbering, AX = 10) -> the v4 (7.1+) number of the same register.
const TO_V4 = [0, 8, 2, 5, 4, 3, 6, 7, 10, 9, 1];

export function encodeFlags(e: OrcSpec, version: OrcVersion): number {
  const reg = (r: number) => (version === 4 ? TO_V4[r] ?? r : r) & 0xf;
  let f = reg(e.spReg) | reg(e.bpReg ?? 0) << 4;
  if (version >= 3) {
    const t = { undefined: 0, end_of_stack: 1, call: 2, regs: 3, regs_partial: 4 }[e.type];
    f |= t << 8;
    if (e.signal) f |= 0x800;
  } else {
    const t = { call: 0, regs: 1, regs_partial: 2, undefined: 0, end_of_stack: 0 }[e.type];
    f |= t << 8;
    if (version === 2) {
      if (e.signal) f |= 0x400;
      if (e.end) f |= 0x800;
    } else if (e.end) f |= 0x400;
  }
  return f;
}

/** Write .orc_unwind_ip / .orc_unwind (sorted) and optionally orc_lookup, as the kernel has them. */
export function writeOrcTables(
  mem: FakeMemory,
  entries: OrcSpec[],
  at: { ipTable: bigint; unwindTable: bigint; lookup?: bigint; stext?: bigint; etext?: bigint },
  version: OrcVersion,
): { lookupBlocks: number } {
  const sorted = [...entries].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  const ipBuf = mem.map(at.ipTable, sorted.length * 4);
  const unBuf = mem.map(at.unwindTable, sorted.length * 6);
  sorted.forEach((e, i) => {
    ipBuf.writeInt32LE(Number(e.ip - (at.ipTable + BigInt(i * 4))), i * 4);
    unBuf.writeInt16LE(e.spOffset, i * 6);
    unBuf.writeInt16LE(e.bpOffset ?? 0, i * 6 + 2);
    unBuf.writeUInt16LE(encodeFlags(e, version), i * 6 + 4);
  });
  let lookupBlocks = 0;
  if (at.lookup !== undefined && at.stext !== undefined && at.etext !== undefined) {
    const bs = BigInt(LOOKUP_BLOCK_SIZE);
    lookupBlocks = Number((at.etext - at.stext + bs - 1n) / bs) + 1;
    const lk = mem.map(at.lookup, lookupBlocks * 4);
    const find = (ip: bigint) => {
      let f = 0;
      sorted.forEach((e, i) => { if (e.ip <= ip) f = i; });
      return f;
    };
    for (let i = 0; i < lookupBlocks - 1; i++) lk.writeUInt32LE(find(at.stext + bs * BigInt(i)), i * 4);
    lk.writeUInt32LE(find(at.etext), (lookupBlocks - 1) * 4);
  }
  return { lookupBlocks };
}

// ORC unwind tables, read lazily from the dump's memory.
//
// struct orc_entry is 6 bytes: s16 sp_offset, s16 bp_offset, then 16 bits of flags whose meaning
// changed three times (bit 0 = least significant bit of the little-endian u16). The version
// numbers are drgn's (libdrgn/orc.h), not the kernel's, so both tools name a format alike:
//
//   v1 (v4.14 .. v6.2):  sp_reg 0-3, bp_reg 4-7, type 8-9 (CALL 0, REGS 1, REGS_PARTIAL 2), end 10
//                        (4.14's header has no `end` yet: bit 10 is then always 0)
//   v2 (v6.3):           sp_reg 0-3, bp_reg 4-7, type 8-9, signal 10, end 11
//   v3 (v6.4 .. v7.0):   sp_reg 0-3, bp_reg 4-7, type 8-10 (UNDEFINED 0, END_OF_STACK 1,
//                        CALL 2, REGS 3, REGS_PARTIAL 4), signal 11
//   v4 (v7.1 ..):        v3's bits, registers renumbered (AX 1, DX 2, SP 3, BP 4, DI 5, R10 6,
//                        R13 7, PREV_SP 8, SP_INDIRECT 9, BP_INDIRECT 10)
//
// (arch/x86/include/asm/orc_types.h of each version; v1 also checked against the .orc_unwind
// section of Debian 12's 6.1.192 vmlinux: flag high bytes are only 0x00, 0x01, 0x02 and 0x04.)
// v1..v3 share one register numbering, which stable kernels extended with AX = 10 (the Clang
// RAX-DRAP fix, upstream 96f3b16a9de5, queued for 6.12..7.0 stable): decoded entries always
// carry registers in that numbering, v4's raw numbers are translated.
//
// Since v6.4 (backported to 6.3.10) vmlinux and modules carry .orc_header: 20 bytes, the SHA-1
// that scripts/orc_hash.sh takes of orc_types.h's `#define ORC_REG_*`/`ORC_TYPE_*` lines and
// `struct orc_entry` block. It names the format exactly; the release and the table's own flag
// words are only fallbacks.
//
// .orc_unwind_ip holds s32 PC-relative addresses (entry i: &ip[i] + ip[i]), sorted for vmlinux at
// build time and for modules at load time. orc_lookup (filled at boot by unwind_init) holds, per
// 256-byte block of [_stext, _etext), the index of the first ORC entry covering that block, so a
// lookup reads two u32s, a handful of ip entries and one orc entry.

import type { UnwindMemory } from './types.js';
import { InputError, onlyDumpData } from '../../util/errors.js';

export const ORC_REG_UNDEFINED = 0;
export const ORC_REG_PREV_SP = 1;
export const ORC_REG_DX = 2;
export const ORC_REG_DI = 3;
export const ORC_REG_BP = 4;
export const ORC_REG_SP = 5;
export const ORC_REG_R10 = 6;
export const ORC_REG_R13 = 7;
export const ORC_REG_BP_INDIRECT = 8;
export const ORC_REG_SP_INDIRECT = 9;
export const ORC_REG_AX = 10;
/** Added to a v4 register number that has no pre-7.1 equivalent, so it matches no known register. */
const ORC_REG_UNKNOWN = 0x100;

export type OrcVersion = 1 | 2 | 3 | 4;

export const ORC_FORMATS: Record<OrcVersion, string> = {
  1: 'v1 (Linux 4.14..6.2: 2-bit type, end bit)',
  2: 'v2 (Linux 6.3: signal and end bits)',
  3: 'v3 (Linux 6.4..7.0: 3-bit type with UNDEFINED/END_OF_STACK)',
  4: 'v4 (Linux 7.1+: v3 entry, ORC registers renumbered)',
};

/**
 * .orc_header hashes (hex of the 20 bytes) and the format each names, from scripts/orc_hash.sh's
 * selection (ORC_REG/ORC_TYPE defines + struct orc_entry, SHA-1) applied to each header:
 * - 6.4..7.0: torvalds/linux's orc_types.h after fb799447ae29, and Debian 6.12.117's
 *   (linux-headers-6.12.117+deb12-common); equals drgn's table (libdrgn/orc_info.c);
 * - AX backport: that header plus the one-line `ORC_REG_AX 10` of 96f3b16a9de5 (as posted for stable);
 *   no kernel carrying it was at hand, and drgn does not know this hash;
 * - 7.1+: Debian 7.2.13's orc_types.h (linux-headers-7.2.13+deb14-common); equals drgn's value and
 *   the .orc_header section of that kernel's -dbg vmlinux;
 * - 6.3.10+: drgn's value, not recomputed (6.3.10's header text was not at hand).
 */
export const ORC_HEADER_HASHES: readonly { hash: string; version: OrcVersion; kernels: string }[] = [
  { hash: 'db84aed4103b31dd51e017f8f79783ca985c2c51', version: 2, kernels: 'Linux 6.3.10+' },
  { hash: 'fe5d32bf581bd63b2ca9a5c65ba5a625eab3fe24', version: 3, kernels: 'Linux 6.4..7.0' },
  { hash: 'edfa4d15552fdd2e1d56679728416379f2fe4534', version: 3, kernels: 'Linux 6.4..7.0 with ORC_REG_AX (10) backported' },
  { hash: '137c36ad7627c4dd55932176bb0ecdbd5041fc82', version: 4, kernels: 'Linux 7.1+' },
];
export const ORC_HEADER_SIZE = 20;

/** The format an .orc_header names, or null for a hash not in ORC_HEADER_HASHES. */
export function orcVersionFromHeader(header: Buffer): { version: OrcVersion; kernels: string; hash: string } | { version: null; hash: string } {
  const hash = header.subarray(0, ORC_HEADER_SIZE).toString('hex');
  const known = header.length >= ORC_HEADER_SIZE ? ORC_HEADER_HASHES.find((h) => h.hash === hash) : undefined;
  return known ? { version: known.version, kernels: known.kernels, hash } : { version: null, hash };
}

// v4 register number -> the pre-7.1 numbering the unwinder switches on.
const V4_REGS = [ORC_REG_UNDEFINED, ORC_REG_AX, ORC_REG_DX, ORC_REG_SP, ORC_REG_BP, ORC_REG_DI, ORC_REG_R10, ORC_REG_R13, ORC_REG_PREV_SP, ORC_REG_SP_INDIRECT, ORC_REG_BP_INDIRECT];
const fromV4 = (r: number): number => V4_REGS[r] ?? ORC_REG_UNKNOWN + r;
export type OrcType = 'undefined' | 'end_of_stack' | 'call' | 'regs' | 'regs_partial';

export interface OrcEntry {
  spOffset: number;
  bpOffset: number;
  /** In the pre-7.1 numbering (ORC_REG_*) whatever the version. */
  spReg: number;
  bpReg: number;
  type: OrcType;
  /** The next frame's ip is used literally (interrupt/exception), not ip-1. */
  signal: boolean;
  /** v1/v2 `end` bit: sp_reg UNDEFINED with end set marks the end of the stack. */
  end: boolean;
  /** Raw flags word, for diagnostics. */
  flags: number;
}

export const ORC_ENTRY_SIZE = 6;
const LOOKUP_BLOCK_ORDER = 8;
export const LOOKUP_BLOCK_SIZE = 1 << LOOKUP_BLOCK_ORDER;

/** ORC tables this unwinder cannot use: a property of the dump, hence an InputError. */
export class OrcFormatError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'OrcFormatError';
  }
}

/** Choose the ORC layout from the kernel release string (e.g. Debian's `6.1.0-<abi>-amd64`). */
export function orcVersionForRelease(release: string): OrcVersion {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new OrcFormatError(`cannot tell the ORC format from kernel release '${release}'`);
  const v = Number(m[1]) * 1000 + Number(m[2]);
  if (v < 4014) throw new OrcFormatError(`kernel ${release} predates the ORC unwinder (4.14)`);
  if (v <= 6002) return 1;
  if (v === 6003) return 2;
  if (v <= 7000) return 3;
  return 4;
}

/**
 * The format as the table's own flag words show it: the layout from their high bytes
 * (orcVersionFromFlags), and for a v3 layout the register numbering from the sp_reg of CALL
 * entries, nearly all SP-based: 5 before 7.1, 3 since. Null when the sample cannot tell.
 */
export function orcVersionFromEntries(flags: number[]): OrcVersion | null {
  const layout = orcVersionFromFlags(flags.map((f) => (f >> 8) & 0xff));
  if (layout !== 3) return layout;
  let old = 0;
  let renumbered = 0;
  for (const f of flags) {
    if (((f >> 8) & 7) !== 2) continue;
    if ((f & 0xf) === 5) old++;
    else if ((f & 0xf) === 3) renumbered++;
  }
  if (old > 4 * renumbered && old >= 32) return 3;
  if (renumbered > 4 * old && renumbered >= 32) return 4;
  return null;
}

/**
 * The ORC layout (v1..v3) as the table's own flag words show it. Sampled entries are classified by their
 * high byte (bits 8-15): in v3 CALL (2) dominates, entry code shows 0x0b/0x0c; v2 marks every REGS/REGS_PARTIAL entry with
 * the signal bit (high byte 5/6) and end entries with bit 11 (8); v1 has only 0, 1, 2 and 4.
 * Returns null when the sample is too small to tell.
 */
export function orcVersionFromFlags(highBytes: number[]): OrcVersion | null {
  if (highBytes.length < 64) return null;
  const count = new Map<number, number>();
  for (const h of highBytes) count.set(h, (count.get(h) ?? 0) + 1);
  const c = (h: number) => count.get(h) ?? 0;
  // Entry code (the table's start) is mostly REGS/REGS_PARTIAL with the signal bit: 0x0b/0x0c in
  // v3 (types 3/4 + bit 11), 0x05/0x06 in v2 (types 1/2 + bit 10).
  if (c(0xb) + c(0xc) > c(5) + c(6)) return 3;
  if (c(2) > highBytes.length / 2) return 3;
  if (c(5) + c(6) + c(8) > 0 && c(5) + c(6) + c(8) >= c(1) + c(2)) return 2;
  if ([...count.keys()].every((h) => h === 0 || h === 1 || h === 2 || h === 4)) return 1;
  return null;
}

export function decodeOrcFlags(spOffset: number, bpOffset: number, flags: number, version: OrcVersion): OrcEntry {
  let spReg = flags & 0xf;
  let bpReg = (flags >> 4) & 0xf;
  if (version === 4) {
    spReg = fromV4(spReg);
    bpReg = fromV4(bpReg);
  }
  let type: OrcType;
  let signal: boolean;
  let end: boolean;
  if (version >= 3) {
    const t = (flags >> 8) & 7;
    type = (['undefined', 'end_of_stack', 'call', 'regs', 'regs_partial'] as const)[t] ?? 'undefined';
    signal = (flags & 0x800) !== 0;
    end = type === 'end_of_stack';
  } else {
    const t = (flags >> 8) & 3;
    type = (['call', 'regs', 'regs_partial', 'undefined'] as const)[t];
    if (version === 2) {
      signal = (flags & 0x400) !== 0;
      end = (flags & 0x800) !== 0;
    } else {
      signal = type === 'regs' || type === 'regs_partial';
      end = (flags & 0x400) !== 0;
    }
  }
  return { spOffset, bpOffset, spReg, bpReg, type, signal, end, flags };
}

export function decodeOrcEntry(buf: Buffer, offset: number, version: OrcVersion): OrcEntry {
  return decodeOrcFlags(buf.readInt16LE(offset), buf.readInt16LE(offset + 2), buf.readUInt16LE(offset + 4), version);
}

/** An entry that says "this frame cannot be unwound": sp_reg UNDEFINED and no end marker. */
export function isTerminal(e: OrcEntry, version: OrcVersion): 'end' | 'error' | null {
  if (version >= 3) {
    if (e.type === 'undefined') return 'error';
    if (e.type === 'end_of_stack') return 'end';
    return null;
  }
  if (e.spReg === ORC_REG_UNDEFINED) return e.end ? 'end' : 'error';
  return null;
}

export interface OrcLookupResult {
  entry: OrcEntry;
  /** Address of the ORC entry's first covered instruction. */
  ip: bigint;
  index: number;
}

/** One ip/entry table pair: vmlinux's or a module's. */
export class OrcTable {
  /** Reads done (ip entries + orc entries), for tests of the "read little" property. */
  reads = 0;

  constructor(
    private readonly mem: UnwindMemory,
    readonly ipTable: bigint,
    readonly unwindTable: bigint,
    readonly count: number,
    readonly version: OrcVersion,
  ) {
    if (!Number.isInteger(count) || count < 0 || count > 16_000_000) throw new OrcFormatError(`implausible ORC entry count ${count}`);
  }

  ipAt(i: number): bigint {
    this.reads++;
    const addr = this.ipTable + BigInt(i * 4);
    const rel = this.mem.read(addr, 4).readInt32LE(0);
    return addr + BigInt(rel);
  }

  entryAt(i: number): OrcEntry {
    this.reads++;
    const buf = this.mem.read(this.unwindTable + BigInt(i * ORC_ENTRY_SIZE), ORC_ENTRY_SIZE);
    return decodeOrcEntry(buf, 0, this.version);
  }

  /**
   * __orc_find(): the last entry in [first, first+num) whose ip <= target. Reads the ip range in
   * one go when small (a lookup block), else probes entry by entry (binary search).
   */
  findIn(first: number, num: number, ip: bigint): OrcLookupResult | null {
    if (num <= 0 || first < 0 || first + num > this.count) return null;
    let lo = first;
    let hi = first + num - 1;
    let found = -1;
    if (num <= 512) {
      this.reads++;
      const base = this.ipTable + BigInt(first * 4);
      const buf = this.mem.read(base, num * 4);
      const at = (i: number) => base + BigInt((i - first) * 4) + BigInt(buf.readInt32LE((i - first) * 4));
      while (lo <= hi) {
        const mid = lo + ((hi - lo) >> 1);
        if (at(mid) <= ip) { found = mid; lo = mid + 1; } else hi = mid - 1;
      }
      if (found < 0) found = first; // the kernel returns the first entry in this case too
      return { entry: this.entryAt(found), ip: at(found), index: found };
    }
    while (lo <= hi) {
      const mid = lo + ((hi - lo) >> 1);
      if (this.ipAt(mid) <= ip) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found < 0) found = first;
    return { entry: this.entryAt(found), ip: this.ipAt(found), index: found };
  }

  find(ip: bigint): OrcLookupResult | null {
    return this.findIn(0, this.count, ip);
  }
}

export interface KernelOrcSymbols {
  startOrcUnwindIp: bigint;
  stopOrcUnwindIp: bigint;
  startOrcUnwind: bigint;
  stopOrcUnwind?: bigint;
  /** orc_lookup / orc_lookup_end (optional: plain binary search without them). */
  orcLookup?: bigint;
  orcLookupEnd?: bigint;
  /** _stext/_etext: the range orc_lookup covers. */
  stext?: bigint;
  etext?: bigint;
  /** The kernel's lookup_num_blocks variable (static; present with KALLSYMS_ALL). */
  lookupNumBlocks?: bigint;
}

/** vmlinux's ORC: orc_lookup fast path over [_stext, _etext), binary search elsewhere. */
export class KernelOrc {
  readonly table: OrcTable;
  private numBlocks = 0;
  private lookupUsable = false;
  lookupHits = 0;
  searchHits = 0;
  private bounds?: [bigint, bigint];

  constructor(private readonly mem: UnwindMemory, private readonly syms: KernelOrcSymbols, readonly version: OrcVersion) {
    const ipBytes = syms.stopOrcUnwindIp - syms.startOrcUnwindIp;
    if (ipBytes <= 0n || ipBytes % 4n !== 0n) throw new OrcFormatError('bad __start/__stop_orc_unwind_ip range');
    const count = Number(ipBytes / 4n);
    if (syms.stopOrcUnwind !== undefined && syms.stopOrcUnwind - syms.startOrcUnwind !== BigInt(count * ORC_ENTRY_SIZE)) {
      throw new OrcFormatError(`ORC tables disagree: ${count} ips but ${syms.stopOrcUnwind - syms.startOrcUnwind} bytes of entries`);
    }
    this.table = new OrcTable(mem, syms.startOrcUnwindIp, syms.startOrcUnwind, count, version);
    this.initLookup();
  }

  get count(): number {
    return this.table.count;
  }

  private initLookup(): void {
    const { orcLookup, orcLookupEnd, stext, etext } = this.syms;
    if (orcLookup === undefined || stext === undefined || etext === undefined) return;
    let n = 0;
    try {
      if (this.syms.lookupNumBlocks !== undefined) n = this.mem.read(this.syms.lookupNumBlocks, 4).readUInt32LE(0);
    } catch (e) {
      onlyDumpData(e);
      n = 0;
    }
    const expected = Number((etext - stext + BigInt(LOOKUP_BLOCK_SIZE) - 1n) / BigInt(LOOKUP_BLOCK_SIZE)) + 1;
    if (n === 0) n = expected;
    if (orcLookupEnd !== undefined && BigInt(n * 4) > orcLookupEnd - orcLookup) return;
    if (n < 2 || n > 4_000_000) return;
    // Sanity: the table was filled at boot (unwind_init). An unfilled (zero) table has a last
    // block index of 0; a filled one ends near the table's entry count.
    try {
      const last = this.mem.read(orcLookup + BigInt((n - 1) * 4), 4).readUInt32LE(0);
      if (last === 0 || last > this.table.count) return;
    } catch (e) {
      onlyDumpData(e);
      return;
    }
    this.numBlocks = n;
    this.lookupUsable = true;
  }

  /** orc_find() for a vmlinux address; null if the address is outside vmlinux's table. */
  find(ip: bigint): OrcLookupResult | null {
    const { stext, etext, orcLookup } = this.syms;
    if (this.lookupUsable && orcLookup !== undefined && stext !== undefined && etext !== undefined && ip >= stext && ip < etext) {
      const idx = Number((ip - stext) / BigInt(LOOKUP_BLOCK_SIZE));
      if (idx < this.numBlocks - 1) {
        const b = this.mem.read(orcLookup + BigInt(idx * 4), 8);
        const start = b.readUInt32LE(0);
        const stop = b.readUInt32LE(4) + 1;
        if (start < this.table.count && stop <= this.table.count && stop > start) {
          const r = this.table.findIn(start, stop - start, ip);
          if (r && r.ip <= ip) {
            this.lookupHits++;
            return r;
          }
        }
      }
    }
    if (this.table.count === 0) return null;
    // Outside the fast range (e.g. .init.text, or orc_lookup unusable): binary search.
    this.bounds ??= [this.table.ipAt(0), this.table.ipAt(this.table.count - 1)];
    if (ip < this.bounds[0] || ip > this.bounds[1]) return null;
    this.searchHits++;
    return this.table.find(ip);
  }
}

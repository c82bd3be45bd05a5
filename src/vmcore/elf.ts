// ELF64 x86_64 core files: kdump's /proc/vmcore copy (PT_LOAD p_vaddr = kernel virtual address,
// p_paddr = physical) and QEMU's dump-guest-memory (paging:false: p_vaddr 0; paging:true: one
// PT_LOAD per guest mapping, often more than 65535 of them, hence PN_XNUM). A small reader of our
// own with BigInt fields and positioned reads (elfy rounds 64-bit fields and rejects these files:
// src/analyzers/kmod/elf.ts lists its faults). Layouts: the System V gABI (Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr) and elf(5).
import { InputError } from '../util/errors.js';
import { ELF_MACHINES, foreignArchMessage, READABLE_ARCHES, type DumpArch } from './arch-detect.js';
import { findVmcoreinfo, decodePrStatus, parseNotes } from './notes.js';
import { PageDump, type LoadedPage } from './pagedump.js';
import { MAX_METADATA_READ, readExact, toOffset, type ByteSource } from './source.js';
import type { DumpCompleteness, DumpFormatInfo, DumpNote, PageState, PrStatus } from './types.js';

const PT_LOAD = 1;
const PT_NOTE = 4;
const PN_XNUM = 0xffff;
const ET_CORE = 4;
const PHDR_SIZE = 56;
/** More program headers than this is not a plausible core (QEMU paging:true gave 65,832). */
const MAX_PHNUM = 4 * 1024 * 1024;
const PAGE = 4096;

/** Physical addresses and file offsets are kept as JS numbers: x86_64 physical addresses have
 * at most 52 bits, and files are far below 2^53 bytes. Only p_vaddr needs 64 bits (BigInt, built
 * lazily: a QEMU paging:true dump has 65,000+ segments and BigInt parsing them all cost ~1 s). */
interface Seg {
  /** Physical start and end (exclusive) of this piece, after overlaps were resolved. */
  start: number;
  end: number;
  /** File offset of `start`. */
  offset: number;
  /** Bytes of the piece backed by the file; the rest (to end) reads as zeroes. */
  filesz: number;
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** A u64 field as a safe JS number, or an InputError. */
function u64n(b: Buffer, off: number, what: string): number {
  const hi = b.readUInt32LE(off + 4);
  const lo = b.readUInt32LE(off);
  if (hi >= 0x200000) throw new InputError(`${what}: 0x${((BigInt(hi) << 32n) | BigInt(lo)).toString(16)} is out of range`);
  return hi * 0x100000000 + lo;
}

export function isElf(magic: Buffer): boolean {
  return magic.length >= 4 && magic.readUInt32BE(0) === 0x7f454c46;
}

export class ElfDump extends PageDump {
  readonly info: DumpFormatInfo;
  readonly notes: DumpNote[];
  readonly prstatus: PrStatus[];
  readonly vmcoreinfo: string | null;
  readonly arch: DumpArch;
  private readonly segs: Seg[];
  private readonly ph: Buffer;
  private readonly loadIdx: number[];
  private readonly virtualCount: number;
  private virtualCache: { vaddr: bigint; paddr: bigint; size: bigint }[] | null = null;

  constructor(private readonly src: ByteSource, readonly path: string, extra: Record<string, string | number | boolean> = {}) {
    super(PAGE);
    const eh = readExact(src, 0, 64, 'ELF header');
    if (!isElf(eh)) throw new InputError('not an ELF file (bad magic)');
    if (eh[4] !== 2) throw new InputError(`ELF class ${eh[4]} is not ELF64`);
    if (eh[5] !== 1) throw new InputError('ELF data encoding is not little-endian');
    const type = eh.readUInt16LE(16);
    const machine = eh.readUInt16LE(18);
    const arch = ELF_MACHINES[machine];
    if (!arch || !READABLE_ARCHES.has(arch)) {
      throw new InputError(arch ? foreignArchMessage({ arch, evidence: [`ELF e_machine ${machine}`] }) : `ELF machine ${machine} is not x86_64 (62)`);
    }
    this.arch = arch;
    if (type !== ET_CORE) throw new InputError(`ELF type ${type} is not a core file (ET_CORE = 4)`);
    const phoff = toOffset(eh.readBigUInt64LE(32), 'e_phoff');
    const shoff = eh.readBigUInt64LE(40);
    const phentsize = eh.readUInt16LE(54);
    let phnum = eh.readUInt16LE(56);
    const shentsize = eh.readUInt16LE(58);
    const shnum = eh.readUInt16LE(60);
    if (phentsize !== PHDR_SIZE) throw new InputError(`e_phentsize ${phentsize} is not ${PHDR_SIZE}`);
    const xnum = phnum === PN_XNUM;
    if (xnum) {
      // PN_XNUM: the real count is in section header 0's sh_info (elf(5)).
      if (shoff === 0n || shentsize < 64) throw new InputError('e_phnum is PN_XNUM but there is no section header 0 to hold the count');
      const sh0 = readExact(src, toOffset(shoff, 'e_shoff'), 64, 'section header 0 (PN_XNUM count)');
      phnum = sh0.readUInt32LE(44);
    }
    if (phnum > MAX_PHNUM) throw new InputError(`program header count ${phnum} is implausible`);
    const ph = readExact(src, phoff, phnum * PHDR_SIZE, `program headers (${phnum} x ${PHDR_SIZE} bytes)`);

    const loadIdx: number[] = [];
    const noteBufs: Buffer[] = [];
    let noteBytes = 0;
    let zeroFill = 0;
    for (let i = 0; i < phnum; i++) {
      const b = i * PHDR_SIZE;
      const ptype = ph.readUInt32LE(b);
      if (ptype === PT_NOTE) {
        const n = u64n(ph, b + 32, `PT_NOTE ${i} size`);
        noteBytes += n;
        if (noteBytes > MAX_METADATA_READ) throw new InputError(`PT_NOTE segments total more than ${MAX_METADATA_READ} bytes`);
        noteBufs.push(readExact(src, u64n(ph, b + 8, `PT_NOTE ${i} offset`), n, `PT_NOTE segment ${i}`));
      } else if (ptype === PT_LOAD) {
        const offset = u64n(ph, b + 8, `PT_LOAD ${i} p_offset`);
        const paddr = u64n(ph, b + 24, `PT_LOAD ${i} p_paddr`);
        const filesz = u64n(ph, b + 32, `PT_LOAD ${i} p_filesz`);
        const memsz = u64n(ph, b + 40, `PT_LOAD ${i} p_memsz`);
        if (paddr + memsz > SAFE || offset + filesz > SAFE) throw new InputError(`PT_LOAD ${i}: range out of bounds`);
        if (filesz < memsz) zeroFill++;
        if (memsz > 0) loadIdx.push(i);
      }
    }
    this.notes = noteBufs.flatMap((nb, i) => parseNotes(nb, `PT_NOTE ${i}`));
    this.prstatus = decodePrStatus(this.notes, arch);
    this.vmcoreinfo = findVmcoreinfo(this.notes);
    this.ph = ph;
    this.loadIdx = loadIdx;

    // Physical map: sorted, overlaps resolved (the first segment in address order keeps the
    // bytes; QEMU's paging:true dumps map one physical page from many virtual addresses).
    const key = new Float64Array(phnum);
    for (const i of loadIdx) key[i] = u64n(ph, i * PHDR_SIZE + 24, 'p_paddr');
    const sorted = Int32Array.from(loadIdx).sort((a, b) => key[a]! - key[b]! || a - b);
    this.segs = [];
    let covered = 0;
    let physBytes = 0;
    let pastEof = 0;
    let virt = 0;
    for (const i of sorted) {
      const b = i * PHDR_SIZE;
      const paddr = key[i]!;
      const vlo = ph.readUInt32LE(b + 16);
      const vhi = ph.readUInt32LE(b + 20);
      if ((vlo !== 0 || vhi !== 0) && (vlo !== ph.readUInt32LE(b + 24) || vhi !== ph.readUInt32LE(b + 28))) virt++;
      const memsz = u64n(ph, b + 40, 'p_memsz');
      const fsz = Math.min(u64n(ph, b + 32, 'p_filesz'), memsz); // filesz > memsz: ignore the excess
      const end = paddr + memsz;
      if (end <= covered) continue;
      const start = Math.max(paddr, covered);
      const skip = start - paddr;
      const filesz = Math.max(0, fsz - skip);
      const offset = u64n(ph, b + 8, 'p_offset') + skip;
      if (offset + filesz > src.size) pastEof++;
      this.segs.push({ start, end, offset, filesz });
      physBytes += end - start;
      covered = end;
    }
    this.virtualCount = virt;
    const qemuNotes = this.notes.filter((n) => n.name === 'QEMU').length;
    const compression = ['none'];
    this.info = {
      format: 'elf',
      compression,
      fileSize: src.size,
      details: {
        producer: qemuNotes > 0 ? 'qemu dump-guest-memory' : this.virtualCount > 0 ? 'kdump (/proc/vmcore)' : 'unknown',
        programHeaders: phnum,
        pnXnum: xnum,
        sectionHeaders: shnum,
        loadSegments: loadIdx.length,
        physicalRanges: this.segs.length,
        physicalBytes: physBytes,
        zeroFillSegments: zeroFill,
        virtualAddresses: this.virtualCount > 0,
        noteBytes,
        notes: this.notes.length,
        qemuNotes,
        cpus: this.prstatus.length,
        segmentsPastEof: pastEof,
        ...extra,
      },
    };
    if (pastEof > 0) this.info.details.truncated = true;
  }

  /** Index of the last piece with start <= addr, or -1. */
  /** PT_LOADs with a kernel virtual address (p_vaddr neither 0 nor p_paddr), by vaddr; built on first use. */
  get virtualSegments(): { vaddr: bigint; paddr: bigint; size: bigint }[] {
    if (!this.virtualCache) {
      const out: { vaddr: bigint; paddr: bigint; size: bigint }[] = [];
      for (const i of this.loadIdx) {
        const b = i * PHDR_SIZE;
        const vaddr = this.ph.readBigUInt64LE(b + 16);
        const paddr = this.ph.readBigUInt64LE(b + 24);
        // QEMU's paging:false dumps have p_vaddr 0, or p_vaddr == p_paddr for firmware ranges.
        if (vaddr !== 0n && vaddr !== paddr) out.push({ vaddr, paddr, size: this.ph.readBigUInt64LE(b + 40) });
      }
      out.sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0));
      this.virtualCache = out;
    }
    return this.virtualCache;
  }

  private find(addr: number): number {
    let lo = 0;
    let hi = this.segs.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.segs[mid]!.start <= addr) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  pageState(physical: bigint): PageState {
    if (physical < 0n || physical > BigInt(SAFE)) return 'absent';
    const paddr = Number(physical);
    const i = this.find(paddr);
    const s = this.segs[i];
    if (!s || paddr >= s.end) return 'absent';
    // File-backed bytes that lie past the end of a truncated file are not in the dump.
    if (paddr < s.start + s.filesz && s.offset + (paddr - s.start) >= this.src.size) return 'absent';
    return 'present';
  }

  protected loadPage(pfn: bigint): LoadedPage {
    if (pfn * BigInt(PAGE) > BigInt(SAFE)) return { data: Buffer.alloc(PAGE), ranges: [], missing: 'beyond any PT_LOAD segment' };
    const pstart = Number(pfn) * PAGE;
    const pend = pstart + PAGE;
    const data = Buffer.alloc(PAGE);
    const ranges: [number, number][] = [];
    let missing: string | undefined;
    let i = this.find(pstart);
    if (i < 0 || this.segs[i]!.end <= pstart) i++;
    for (; i < this.segs.length && this.segs[i]!.start < pend; i++) {
      const s = this.segs[i]!;
      const a = Math.max(s.start, pstart);
      const e = Math.min(s.end, pend);
      if (e <= a) continue;
      const from = a - pstart;
      const to = e - pstart;
      // File-backed part, then zero fill (already zero in `data`).
      const fileEnd = s.start + s.filesz;
      let validTo = to;
      if (a < fileEnd) {
        const fe = Math.min(fileEnd, e) - pstart;
        const want = fe - from;
        const got = this.src.readInto(data, from, want, s.offset + (a - s.start));
        if (got < want) {
          this.pagesPastEnd.add(pfn);
          data.fill(0, from + got, fe);
          validTo = from + got;
          missing = 'past the end of the file: truncated dump';
        }
      }
      if (validTo > from) {
        const last = ranges[ranges.length - 1];
        if (last && last[1] === from) last[1] = validTo;
        else ranges.push([from, validTo]);
      }
    }
    if (ranges.length === 1 && ranges[0]![0] === 0 && ranges[0]![1] === PAGE) return { data, ranges: null };
    return { data, ranges, missing: missing ?? 'not in any PT_LOAD segment' };
  }

  protected computeCompleteness(): DumpCompleteness {
    const size = this.src.size;
    let pages = 0;
    let missing = 0;
    let expected = size;
    for (const s of this.segs) {
      if (s.filesz === 0) continue;
      pages += Math.ceil(s.filesz / PAGE);
      const end = s.offset + s.filesz;
      if (end > expected) expected = end;
      if (end > size) missing += Math.ceil((end - Math.max(s.offset, size)) / PAGE);
    }
    const reasons: string[] = [];
    if (missing > 0) reasons.push(`the file ends at ${size} bytes, its PT_LOAD segments run to ${expected}`);
    const flat = this.flattenedTruncation();
    if (flat) reasons.push(flat);
    return { complete: reasons.length === 0, pages, missingPages: missing, fileSize: size, expectedSize: expected, reason: reasons.length ? reasons.join('; ') : null };
  }

  close(): void {
    this.src.close();
  }
}

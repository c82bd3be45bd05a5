// makedumpfile's kdump-compressed format ("KDUMP   " signature), as written by makedumpfile -c/-l/
// -p/-z and by QEMU's dump-guest-memory kdump-zlib/-lzo/-snappy. Layouts from makedumpfile's
// diskdump_mod.h (struct disk_dump_header, struct kdump_sub_header, page_desc_t) and crash's
// diskdump.c:
//
//   block 0                  disk_dump_header (464 bytes on x86_64)
//   blocks 1..sub_hdr_size   kdump_sub_header (+ ELF notes, VMCOREINFO, eraseinfo, by offset)
//   bitmap_blocks blocks     bitmap1 (page exists) then bitmap2 (page dumped), half each
//   page descriptors         24 bytes each, one per set bit of bitmap2, in pfn order
//   page data
//
// Nothing is read up front beyond the headers and notes: bitmap bytes are read in 4 KiB chunks
// on demand (LRU), and the popcount prefix that turns a pfn into a descriptor index (rank in
// bitmap2) is extended lazily, only as far as the highest pfn asked for.
import { InputError } from '../util/errors.js';
import {
  codecOfFlags, DecompressError, decompressPage, DUMP_DH_COMPRESSED_INCOMPLETE, DUMP_DH_COMPRESSED_LZO,
  DUMP_DH_COMPRESSED_SNAPPY, DUMP_DH_COMPRESSED_ZLIB, DUMP_DH_COMPRESSED_ZSTD, DUMP_DH_EXCLUDED_VMEMMAP,
} from './decompress.js';
import { Lru } from './lru.js';
import { detectArch, foreignArchMessage, READABLE_ARCHES, type DumpArch } from './arch-detect.js';
import { decodePrStatus, findVmcoreinfo, NT_PRSTATUS, parseNotes } from './notes.js';
import { PageDump, type LoadedPage } from './pagedump.js';
import { readExact, toOffset, type ByteSource } from './source.js';
import { DumpReadError, type DumpCompleteness, type DumpFormatInfo, type DumpNote, type PageState, type PrStatus } from './types.js';

export const KDUMP_SIGNATURE = 'KDUMP   ';
const HEADER_SIZE = 464;
const SUB_HEADER_SIZE = 104;
const PAGE_DESC_SIZE = 24;
const CHUNK = 4096; // bitmap bytes per chunk (32768 pfns)

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

function popcount(b: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += POPCOUNT[b[i]!]!;
  return n;
}

function cstr(b: Buffer, off: number, len: number): string {
  const s = b.toString('latin1', off, off + len);
  const nul = s.indexOf('\0');
  return nul >= 0 ? s.slice(0, nul) : s;
}

export interface KdumpHeader {
  headerVersion: number;
  utsname: { sysname: string; nodename: string; release: string; version: string; machine: string; domainname: string };
  timestamp: number;
  status: number;
  blockSize: number;
  subHdrSize: number;
  bitmapBlocks: number;
  maxMapnr: bigint;
  totalRamBlocks: number;
  writtenBlocks: number;
  currentCpu: number;
  nrCpus: number;
  physBase: bigint | null;
  dumpLevel: number | null;
  split: boolean;
  startPfn: bigint | null;
  endPfn: bigint | null;
}

export class KdumpDump extends PageDump {
  readonly info: DumpFormatInfo;
  readonly notes: DumpNote[] = [];
  readonly prstatus: PrStatus[];
  readonly vmcoreinfo: string | null = null;
  readonly arch: DumpArch;
  readonly virtualSegments: { vaddr: bigint; paddr: bigint; size: bigint }[] = [];
  readonly header: KdumpHeader;
  private readonly bitmap1Off: number;
  private readonly bitmap2Off: number;
  private readonly bitmapLen: number;
  private readonly pdOff: number;
  /** pfns below this are described by the bitmaps. */
  private readonly maxPfn: bigint;
  private readonly chunks = new Lru<number, Buffer>(512);
  /** rankPrefix[k] = set bits of bitmap2 in chunks 0..k-1 (extended lazily). */
  private readonly rankPrefix: number[] = [0];
  private readonly seen = new Set<string>();

  constructor(private readonly src: ByteSource, readonly path: string, extra: Record<string, string | number | boolean> = {}) {
    const h = readExact(src, 0, HEADER_SIZE, 'kdump header');
    const sig = h.toString('latin1', 0, 8);
    if (sig === 'DISKDUMP') throw new InputError('old diskdump format (DISKDUMP signature) is not supported');
    if (sig !== KDUMP_SIGNATURE) throw new InputError('not a kdump-compressed file (bad signature)');
    const blockSize = h.readInt32LE(428);
    if (blockSize < 512 || blockSize > 1 << 20 || (blockSize & (blockSize - 1)) !== 0) {
      throw new InputError(`kdump header: block_size ${blockSize} is not a power of two between 512 and 1 MiB`);
    }
    super(blockSize);
    const headerVersion = h.readInt32LE(8);
    const subHdrSize = h.readInt32LE(432);
    const bitmapBlocks = h.readUInt32LE(436);
    if (headerVersion < 0 || headerVersion > 1000) throw new InputError(`kdump header: header_version ${headerVersion} is implausible`);
    if (subHdrSize < 0 || subHdrSize > 1 << 20) throw new InputError(`kdump header: sub_hdr_size ${subHdrSize} blocks is implausible`);
    if (bitmapBlocks === 0 || bitmapBlocks % 2 !== 0) throw new InputError(`kdump header: bitmap_blocks ${bitmapBlocks} is not a positive even number`);
    const hdr: KdumpHeader = {
      headerVersion,
      utsname: {
        sysname: cstr(h, 12, 65), nodename: cstr(h, 77, 65), release: cstr(h, 142, 65),
        version: cstr(h, 207, 65), machine: cstr(h, 272, 65), domainname: cstr(h, 337, 65),
      },
      timestamp: Number(h.readBigInt64LE(408)),
      status: h.readUInt32LE(424),
      blockSize,
      subHdrSize,
      bitmapBlocks,
      maxMapnr: BigInt(h.readUInt32LE(440)),
      totalRamBlocks: h.readUInt32LE(444),
      writtenBlocks: h.readUInt32LE(452),
      currentCpu: h.readUInt32LE(456),
      nrCpus: h.readInt32LE(460),
      physBase: null,
      dumpLevel: null,
      split: false,
      startPfn: null,
      endPfn: null,
    };
    this.header = hdr;

    // Sub-header: fields appear with header versions (disk_dump_header.header_version in
    // diskdump_mod.h).
    let offVmcoreinfo = 0n;
    let sizeVmcoreinfo = 0n;
    let offNote = 0n;
    let sizeNote = 0n;
    if (headerVersion >= 1 && subHdrSize > 0) {
      const sh = readExact(src, blockSize, Math.min(SUB_HEADER_SIZE, subHdrSize * blockSize), 'kdump sub-header');
      const u64 = (o: number): bigint => (o + 8 <= sh.length ? sh.readBigUInt64LE(o) : 0n);
      hdr.physBase = u64(0);
      hdr.dumpLevel = sh.length >= 12 ? sh.readInt32LE(8) : null;
      if (headerVersion >= 2) {
        hdr.split = sh.readInt32LE(12) !== 0;
        hdr.startPfn = u64(16);
        hdr.endPfn = u64(24);
      }
      if (headerVersion >= 3) {
        offVmcoreinfo = u64(32);
        sizeVmcoreinfo = u64(40);
      }
      if (headerVersion >= 4) {
        offNote = u64(48);
        sizeNote = u64(56);
      }
      if (headerVersion >= 6) {
        hdr.startPfn = u64(80);
        hdr.endPfn = u64(88);
        hdr.maxMapnr = u64(96);
      }
    }

    this.bitmapLen = (bitmapBlocks / 2) * blockSize;
    this.bitmap1Off = (1 + subHdrSize) * blockSize;
    this.bitmap2Off = this.bitmap1Off + this.bitmapLen;
    this.pdOff = this.bitmap2Off + this.bitmapLen;
    if (!Number.isSafeInteger(this.pdOff) || this.pdOff > src.size) {
      throw new InputError(`kdump header: the bitmaps (${bitmapBlocks} blocks at offset ${this.bitmap1Off}) extend past the end of the file (${src.size} bytes; truncated or corrupt dump)`);
    }
    const bits = BigInt(this.bitmapLen) * 8n;
    this.maxPfn = hdr.maxMapnr < bits ? hdr.maxMapnr : bits;

    if (sizeNote > 0n) {
      const notes = readExact(src, toOffset(offNote, 'offset_note'), toOffset(sizeNote, 'size_note'), 'kdump notes');
      this.notes = parseNotes(notes, 'kdump sub-header notes');
    }
    this.vmcoreinfo = findVmcoreinfo(this.notes);
    if (this.vmcoreinfo === null && sizeVmcoreinfo > 0n) {
      const v = readExact(src, toOffset(offVmcoreinfo, 'offset_vmcoreinfo'), toOffset(sizeVmcoreinfo, 'size_vmcoreinfo'), 'kdump VMCOREINFO');
      this.vmcoreinfo = v.toString('latin1').replace(/\0+$/, '');
    }
    // The header's machine field is often blank or "Unknown": another architecture's dump must be
    // refused on what its kernel wrote, not read as x86_64 memory.
    const arch = detectArch({
      machine: hdr.utsname.machine,
      vmcoreinfo: this.vmcoreinfo,
      prstatusSizes: this.notes.filter((n) => n.type === NT_PRSTATUS && n.name === 'CORE').map((n) => n.desc.length),
    });
    if (arch.arch !== null && !READABLE_ARCHES.has(arch.arch)) throw new InputError(foreignArchMessage(arch));
    // Nothing naming an architecture was the x86_64 dumps of old makedumpfiles and hand-made files.
    this.arch = arch.arch ?? 'x86_64';
    this.prstatus = decodePrStatus(this.notes, this.arch);

    const compression: string[] = [];
    if (hdr.status & DUMP_DH_COMPRESSED_ZLIB) compression.push('zlib');
    if (hdr.status & DUMP_DH_COMPRESSED_LZO) compression.push('lzo');
    if (hdr.status & DUMP_DH_COMPRESSED_SNAPPY) compression.push('snappy');
    if (hdr.status & DUMP_DH_COMPRESSED_ZSTD) compression.push('zstd');
    for (const c of compression) this.seen.add(c);
    const qemu = this.notes.some((n) => n.name === 'QEMU');
    this.info = {
      format: 'kdump-compressed',
      compression,
      fileSize: src.size,
      details: {
        producer: qemu ? 'qemu dump-guest-memory' : 'makedumpfile',
        headerVersion,
        blockSize,
        release: hdr.utsname.release,
        machine: hdr.utsname.machine,
        timestamp: hdr.timestamp,
        status: hdr.status,
        incomplete: (hdr.status & DUMP_DH_COMPRESSED_INCOMPLETE) !== 0,
        excludedVmemmap: (hdr.status & DUMP_DH_EXCLUDED_VMEMMAP) !== 0,
        maxMapnr: Number(hdr.maxMapnr),
        bitmapBlocks,
        nrCpus: hdr.nrCpus,
        currentCpu: hdr.currentCpu,
        notes: this.notes.length,
        cpus: this.prstatus.length,
        ...(hdr.dumpLevel !== null ? { dumpLevel: hdr.dumpLevel } : {}),
        ...(hdr.physBase !== null ? { physBase: `0x${hdr.physBase.toString(16)}` } : {}),
        ...(hdr.split ? { split: true, startPfn: Number(hdr.startPfn ?? 0n), endPfn: Number(hdr.endPfn ?? 0n) } : {}),
        ...extra,
      },
    };
  }

  private chunk(bitmapOff: number, k: number): Buffer {
    const key = bitmapOff === this.bitmap1Off ? -1 - k : k;
    let c = this.chunks.get(key);
    if (!c) {
      const len = Math.min(CHUNK, this.bitmapLen - k * CHUNK);
      c = Buffer.alloc(CHUNK);
      const got = this.src.readInto(c, 0, len, bitmapOff + k * CHUNK);
      if (got < len) throw new DumpReadError(`kdump bitmap chunk ${k} is past the end of the file (truncated dump)`);
      this.chunks.set(key, c);
    }
    return c;
  }

  private bit(bitmapOff: number, pfn: bigint): boolean {
    const byte = Number(pfn >> 3n);
    const c = this.chunk(bitmapOff, Math.floor(byte / CHUNK));
    return (c[byte % CHUNK]! & (1 << Number(pfn & 7n))) !== 0;
  }

  /** Set bits of bitmap2 below pfn: the index of pfn's page descriptor. */
  private rank(pfn: bigint): number {
    const byte = Number(pfn >> 3n);
    const k = Math.floor(byte / CHUNK);
    if (this.rankPrefix.length <= k) {
      // Extend the prefix sums sequentially, 1 MiB of bitmap per read, without the chunk cache.
      const big = Buffer.alloc(256 * CHUNK);
      while (this.rankPrefix.length <= k) {
        const first = this.rankPrefix.length - 1; // chunk whose count we add next
        const n = Math.min(256, k - first);
        const len = Math.min(n * CHUNK, this.bitmapLen - first * CHUNK);
        const got = this.src.readInto(big, 0, len, this.bitmap2Off + first * CHUNK);
        if (got < len) throw new DumpReadError('kdump bitmap is past the end of the file (truncated dump)');
        for (let j = 0; j < n; j++) {
          const prev = this.rankPrefix[this.rankPrefix.length - 1]!;
          this.rankPrefix.push(prev + popcount(big, j * CHUNK, Math.min((j + 1) * CHUNK, len)));
        }
      }
    }
    const c = this.chunk(this.bitmap2Off, k);
    const inChunk = byte % CHUNK;
    return this.rankPrefix[k]! + popcount(c, 0, inChunk) + POPCOUNT[c[inChunk]! & ((1 << Number(pfn & 7n)) - 1)]!;
  }

  pageState(paddr: bigint): PageState {
    if (paddr < 0n) return 'absent';
    const pfn = paddr / BigInt(this.pageSize);
    if (pfn >= this.maxPfn) return 'absent';
    const h = this.header;
    if (h.split && h.startPfn !== null && h.endPfn !== null && (pfn < h.startPfn || pfn >= h.endPfn)) return 'absent';
    if (this.bit(this.bitmap2Off, pfn)) return 'present';
    return this.bit(this.bitmap1Off, pfn) ? 'excluded' : 'absent';
  }

  protected loadPage(pfn: bigint): LoadedPage {
    const paddr = pfn * BigInt(this.pageSize);
    const hex = `0x${paddr.toString(16)}`;
    const state = this.pageState(paddr);
    if (state === 'excluded') {
      const lvl = this.header.dumpLevel !== null ? ` by makedumpfile (dump level ${this.header.dumpLevel})` : '';
      throw new DumpReadError(`physical page ${hex} was excluded from the dump${lvl}`, paddr, state);
    }
    if (state === 'absent') throw new DumpReadError(`physical page ${hex} is not in the dump (no RAM there)`, paddr, state);
    const descPos = this.pdOff + this.rank(pfn) * PAGE_DESC_SIZE;
    const d = Buffer.alloc(PAGE_DESC_SIZE);
    if (this.src.readInto(d, 0, PAGE_DESC_SIZE, descPos) < PAGE_DESC_SIZE) {
      this.pagesPastEnd.add(pfn);
      throw new DumpReadError(`page descriptor of physical page ${hex} is past the end of the file (truncated dump)`, paddr, 'absent');
    }
    const offset = d.readBigInt64LE(0);
    const size = d.readUInt32LE(8);
    const flags = d.readUInt32LE(12);
    if (offset === 0n && size === 0) {
      this.pagesPastEnd.add(pfn);
      throw new DumpReadError(`physical page ${hex} has an empty page descriptor (incomplete dump)`, paddr, 'absent');
    }
    const codec = codecOfFlags(flags);
    if (codec === null) throw new DumpReadError(`physical page ${hex}: page descriptor flags 0x${flags.toString(16)} name several codecs`, paddr, 'absent');
    if (size === 0 || size > this.pageSize || (codec === 'none' && size !== this.pageSize)) {
      throw new DumpReadError(`physical page ${hex}: page descriptor size ${size} is invalid for block size ${this.pageSize}`, paddr, 'absent');
    }
    if (offset < 0n || offset + BigInt(size) > BigInt(this.src.size)) {
      if (offset >= 0n) this.pagesPastEnd.add(pfn);
      throw new DumpReadError(`physical page ${hex}: page data at offset ${offset} lies past the end of the file (truncated dump)`, paddr, 'absent');
    }
    const raw = Buffer.alloc(size);
    if (this.src.readInto(raw, 0, size, Number(offset)) < size) {
      this.pagesPastEnd.add(pfn);
      throw new DumpReadError(`physical page ${hex}: short read of page data (truncated dump)`, paddr, 'absent');
    }
    if (!this.seen.has(codec) && codec !== 'none') {
      this.seen.add(codec);
      this.info.compression.push(codec);
    }
    try {
      return { data: decompressPage(codec, raw, this.pageSize), ranges: null };
    } catch (e) {
      if (e instanceof DecompressError) throw new DumpReadError(`physical page ${hex}: ${e.message}`, paddr, 'absent');
      throw e;
    }
  }

  /** Dumped pages: set bits of bitmap2 below maxPfn (extends the rank prefix, which later reads reuse). */
  private dumpedPages(): number {
    if (this.maxPfn === 0n) return 0;
    const last = this.maxPfn - 1n;
    return this.rank(last) + (this.bit(this.bitmap2Off, last) ? 1 : 0);
  }

  protected computeCompleteness(): DumpCompleteness {
    const size = this.src.size;
    const pages = this.dumpedPages();
    // Descriptors are in pfn order and so, as makedumpfile and QEMU write them, is the page data:
    // a file cut short loses the last descriptors' data first. The tail of the table is read
    // first; the whole table (24 bytes a page) only when that tail or the header says something
    // is missing, to count how much.
    const inFile = Math.max(0, Math.min(pages, Math.floor((size - this.pdOff) / PAGE_DESC_SIZE)));
    const incompleteFlag = (this.header.status & DUMP_DH_COMPRESSED_INCOMPLETE) !== 0;
    const batch = 65536;
    const buf = Buffer.alloc(batch * PAGE_DESC_SIZE);
    const scan = (from: number, to: number, each: (offset: bigint, len: number) => void) => {
      for (let i = from; i < to; i += batch) {
        const n = Math.min(batch, to - i);
        const got = this.src.readInto(buf, 0, n * PAGE_DESC_SIZE, this.pdOff + i * PAGE_DESC_SIZE);
        for (let j = 0; j * PAGE_DESC_SIZE + PAGE_DESC_SIZE <= got; j++) each(buf.readBigInt64LE(j * PAGE_DESC_SIZE), buf.readUInt32LE(j * PAGE_DESC_SIZE + 8));
      }
    };
    const lost = (offset: bigint, len: number) => (offset === 0n && len === 0) || offset + BigInt(len) > BigInt(size);
    let tailLost = false;
    scan(Math.max(0, inFile - 256), inFile, (o, l) => (tailLost ||= lost(o, l)));
    let missing = pages - inFile;
    let expected: number | null = size;
    if (missing > 0 || tailLost || incompleteFlag) {
      let end = size;
      scan(0, inFile, (o, l) => {
        if (lost(o, l)) missing++;
        if (o > 0n && Number(o) + l > end) end = Number(o) + l;
      });
      expected = pages > inFile ? null : end;
    }
    const reasons: string[] = [];
    if (pages > inFile) reasons.push(`the file ends at ${size} bytes, inside the page descriptor table (which needs ${this.pdOff + pages * PAGE_DESC_SIZE})`);
    else if (missing > 0) reasons.push(`the file ends at ${size} bytes, its page data runs to ${expected ?? '?'}`);
    if (incompleteFlag) reasons.push('makedumpfile marked the dump incomplete (it stopped writing, e.g. on a full disk)');
    const flat = this.flattenedTruncation();
    if (flat) reasons.push(flat);
    return { complete: reasons.length === 0 && missing === 0, pages, missingPages: missing, fileSize: size, expectedSize: expected, reason: reasons.length ? reasons.join('; ') : missing > 0 ? `${missing} pages were never written` : null };
  }

  close(): void {
    this.src.close();
  }
}

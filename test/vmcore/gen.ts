// Test helpers that write small dumps from a spec: ELF64 x86_64 cores and makedumpfile
// kdump-compressed files (and their flattened form). Layouts as src/vmcore reads them, written
// independently here from the format descriptions (gABI, makedumpfile's diskdump_mod.h).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import snappy from 'snappyjs';

export const VECTORS = path.join(import.meta.dirname, 'vectors');
export const vector = (name: string): Buffer => fs.readFileSync(path.join(VECTORS, name));

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ktriage-vmcore-'));
}

export interface Note {
  name: string;
  type: number;
  desc: Buffer;
}

export function encodeNotes(notes: Note[]): Buffer {
  const parts: Buffer[] = [];
  for (const n of notes) {
    const name = Buffer.from(`${n.name}\0`, 'latin1');
    const h = Buffer.alloc(12);
    h.writeUInt32LE(name.length, 0);
    h.writeUInt32LE(n.desc.length, 4);
    h.writeUInt32LE(n.type, 8);
    parts.push(h, pad4(name), pad4(n.desc));
  }
  return Buffer.concat(parts);
}

function pad4(b: Buffer): Buffer {
  const n = Math.ceil(b.length / 4) * 4;
  return n === b.length ? b : Buffer.concat([b, Buffer.alloc(n - b.length)]);
}

export const REG_NAMES = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi',
  'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs',
];

/** An NT_PRSTATUS note (336 bytes, x86_64) with pid and registers rip/rsp/... */
export function prstatusNote(pid: number, regs: Record<string, bigint>): Note {
  const d = Buffer.alloc(336);
  d.writeInt32LE(pid, 32);
  REG_NAMES.forEach((r, i) => d.writeBigUInt64LE(regs[r] ?? 0n, 112 + i * 8));
  return { name: 'CORE', type: 1, desc: d };
}

export function vmcoreinfoNote(text: string): Note {
  return { name: 'VMCOREINFO', type: 0, desc: Buffer.from(text, 'latin1') };
}

/** A page whose bytes say which pfn it is (pfn as u64 every 8 bytes, xor a salt). */
export function patternPage(pfn: number, size = 4096, salt = 0x5a5a): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 8) b.writeBigUInt64LE(BigInt(pfn) * 0x10000n + BigInt(i ^ salt), i);
  return b;
}

// ---------------------------------------------------------------- ELF

export interface ElfSegment {
  paddr: bigint;
  vaddr?: bigint;
  /** File-backed bytes (p_filesz = data.length). */
  data: Buffer;
  /** p_memsz; defaults to data.length. Larger means zero fill. */
  memsz?: bigint;
  /** Absolute file offset for the data (e.g. > 4 GiB in a sparse file); default: packed. */
  offset?: number;
  /** Share the file bytes of an earlier segment (QEMU paging:true style); data is then ignored. */
  sameAs?: number;
}

export interface ElfSpec {
  segments: ElfSegment[];
  notes?: Note[];
  /** Encode e_phnum as PN_XNUM even if the count fits. */
  forceXnum?: boolean;
  machine?: number;
}

export function writeElf(file: string, spec: ElfSpec): { phoff: number; noteOff: number; dataOff: number[] } {
  const phnum = spec.segments.length + 1;
  const xnum = spec.forceXnum || phnum >= 0xffff;
  const notes = encodeNotes(spec.notes ?? []);
  const phoff = 64;
  const shoff = phoff + phnum * 56;
  const noteOff = shoff + (xnum ? 64 : 0);
  let next = Math.ceil((noteOff + notes.length) / 4096) * 4096;
  const fd = fs.openSync(file, 'w');
  const eh = Buffer.alloc(64);
  eh.write('\x7fELF', 0, 'latin1');
  eh[4] = 2; // ELFCLASS64
  eh[5] = 1; // little-endian
  eh[6] = 1; // EV_CURRENT
  eh.writeUInt16LE(4, 16); // ET_CORE
  eh.writeUInt16LE(spec.machine ?? 62, 18);
  eh.writeUInt32LE(1, 20);
  eh.writeBigUInt64LE(BigInt(phoff), 32);
  eh.writeBigUInt64LE(xnum ? BigInt(shoff) : 0n, 40);
  eh.writeUInt16LE(64, 52);
  eh.writeUInt16LE(56, 54);
  eh.writeUInt16LE(xnum ? 0xffff : phnum, 56);
  eh.writeUInt16LE(64, 58);
  eh.writeUInt16LE(xnum ? 1 : 0, 60);
  fs.writeSync(fd, eh, 0, 64, 0);
  const ph = Buffer.alloc(phnum * 56);
  ph.writeUInt32LE(4, 0); // PT_NOTE
  ph.writeBigUInt64LE(BigInt(noteOff), 8);
  ph.writeBigUInt64LE(BigInt(notes.length), 32);
  ph.writeBigUInt64LE(BigInt(notes.length), 40);
  const dataOff: number[] = [];
  spec.segments.forEach((s, i) => {
    const b = (i + 1) * 56;
    let off: number;
    let filesz: number;
    if (s.sameAs !== undefined) {
      off = dataOff[s.sameAs];
      filesz = spec.segments[s.sameAs].data.length;
    } else {
      off = s.offset ?? next;
      filesz = s.data.length;
      if (s.offset === undefined) next = Math.ceil((next + filesz) / 4096) * 4096;
      if (filesz > 0) fs.writeSync(fd, s.data, 0, filesz, off);
    }
    dataOff.push(off);
    ph.writeUInt32LE(1, b); // PT_LOAD
    ph.writeUInt32LE(7, b + 4);
    ph.writeBigUInt64LE(BigInt(off), b + 8);
    ph.writeBigUInt64LE(s.vaddr ?? 0n, b + 16);
    ph.writeBigUInt64LE(s.paddr, b + 24);
    ph.writeBigUInt64LE(BigInt(filesz), b + 32);
    ph.writeBigUInt64LE(s.memsz ?? BigInt(filesz), b + 40);
  });
  fs.writeSync(fd, ph, 0, ph.length, phoff);
  if (xnum) {
    const sh = Buffer.alloc(64);
    sh.writeUInt32LE(phnum, 44); // sh_info = real e_phnum
    fs.writeSync(fd, sh, 0, 64, shoff);
  }
  if (notes.length) fs.writeSync(fd, notes, 0, notes.length, noteOff);
  fs.closeSync(fd);
  return { phoff, noteOff, dataOff };
}

// ---------------------------------------------------------------- kdump-compressed

export type Codec = 'none' | 'zlib' | 'lzo' | 'snappy' | 'zstd';
const FLAG: Record<Codec, number> = { none: 0, zlib: 1, lzo: 2, snappy: 4, zstd: 0x20 };

export interface KdumpPage {
  pfn: number;
  /** 'excluded': in bitmap1 only. Default 'present'. */
  state?: 'present' | 'excluded';
  /** Uncompressed bytes (needed for none/zlib/snappy; for lzo/zstd pass `compressed`). */
  data?: Buffer;
  codec?: Codec;
  compressed?: Buffer;
}

export interface KdumpSpec {
  blockSize?: number;
  headerVersion?: number;
  maxMapnr: number;
  pages: KdumpPage[];
  notes?: Note[];
  /** Also point offset_vmcoreinfo at this note's text (header version >= 3). */
  vmcoreinfoInNotes?: boolean;
  dumpLevel?: number;
  physBase?: bigint;
  nrCpus?: number;
  release?: string;
  status?: number;
}

export interface KdumpLayout {
  bitmap1Off: number;
  bitmap2Off: number;
  pdOff: number;
  dataOff: number;
  /** pfn -> offset of its page descriptor. */
  descOff: Map<number, number>;
  size: number;
}

export function buildKdump(spec: KdumpSpec): { buf: Buffer; layout: KdumpLayout } {
  const bs = spec.blockSize ?? 4096;
  const ver = spec.headerVersion ?? 6;
  const notes = encodeNotes(spec.notes ?? []);
  const subHdrBytes = 104 + notes.length;
  const subHdrSize = Math.ceil(subHdrBytes / bs);
  const bitmapLen = Math.max(1, Math.ceil(spec.maxMapnr / 8 / bs)) * bs;
  const bitmap1Off = (1 + subHdrSize) * bs;
  const bitmap2Off = bitmap1Off + bitmapLen;
  const pdOff = bitmap2Off + bitmapLen;
  const pages = [...spec.pages].sort((a, b) => a.pfn - b.pfn);
  const dumped = pages.filter((p) => (p.state ?? 'present') === 'present');
  const dataOff = pdOff + dumped.length * 24;
  const header = Buffer.alloc(bs);
  header.write('KDUMP   ', 0, 'latin1');
  header.writeInt32LE(ver, 8);
  header.write('Linux', 12, 'latin1');
  header.write(spec.release ?? '6.1.0-test', 142, 'latin1');
  header.write('x86_64', 272, 'latin1');
  header.writeBigInt64LE(1700000000n, 408);
  const codecs = new Set(dumped.map((p) => p.codec ?? 'none'));
  let status = spec.status ?? 0;
  if (spec.status === undefined) for (const c of codecs) status |= FLAG[c];
  header.writeUInt32LE(status, 424);
  header.writeInt32LE(bs, 428);
  header.writeInt32LE(subHdrSize, 432);
  header.writeUInt32LE((bitmapLen / bs) * 2, 436);
  header.writeUInt32LE(Math.min(spec.maxMapnr, 0xffffffff), 440);
  header.writeInt32LE(spec.nrCpus ?? 1, 460);
  const sub = Buffer.alloc(subHdrSize * bs);
  sub.writeBigUInt64LE(spec.physBase ?? 0n, 0);
  sub.writeInt32LE(spec.dumpLevel ?? 31, 8);
  const noteOff = bs + 104;
  if (ver >= 4 && notes.length) {
    sub.writeBigUInt64LE(BigInt(noteOff), 48);
    sub.writeBigUInt64LE(BigInt(notes.length), 56);
  }
  if (ver >= 3 && spec.vmcoreinfoInNotes) {
    // Locate the VMCOREINFO note's desc inside the encoded notes.
    let p = 0;
    for (const n of spec.notes ?? []) {
      const nameLen = Math.ceil((n.name.length + 1) / 4) * 4;
      if (n.name === 'VMCOREINFO') {
        sub.writeBigUInt64LE(BigInt(noteOff + p + 12 + nameLen), 32);
        sub.writeBigUInt64LE(BigInt(n.desc.length), 40);
      }
      p += 12 + nameLen + Math.ceil(n.desc.length / 4) * 4;
    }
  }
  if (ver >= 6) {
    sub.writeBigUInt64LE(0n, 80);
    sub.writeBigUInt64LE(BigInt(spec.maxMapnr), 88);
    sub.writeBigUInt64LE(BigInt(spec.maxMapnr), 96);
  }
  notes.copy(sub, 104);
  const bm1 = Buffer.alloc(bitmapLen);
  const bm2 = Buffer.alloc(bitmapLen);
  for (const p of pages) {
    bm1[p.pfn >> 3] |= 1 << (p.pfn & 7);
    if ((p.state ?? 'present') === 'present') bm2[p.pfn >> 3] |= 1 << (p.pfn & 7);
  }
  const descs = Buffer.alloc(dumped.length * 24);
  const datas: Buffer[] = [];
  const descOff = new Map<number, number>();
  let off = dataOff;
  dumped.forEach((p, i) => {
    let codec = p.codec ?? 'none';
    let c: Buffer;
    if (p.compressed) c = p.compressed;
    else if (codec === 'none') c = p.data ?? Buffer.alloc(bs);
    else if (codec === 'zlib') c = zlib.deflateSync(p.data ?? Buffer.alloc(bs));
    else if (codec === 'snappy') c = Buffer.from(snappy.compress(p.data ?? Buffer.alloc(bs)));
    else throw new Error(`${codec} pages need precompressed bytes (test/vmcore/vectors)`);
    if (c.length >= bs && p.data) {
      // As makedumpfile does: a page that does not shrink is stored raw.
      c = p.data;
      codec = 'none';
    }
    descs.writeBigInt64LE(BigInt(off), i * 24);
    descs.writeUInt32LE(c.length, i * 24 + 8);
    descs.writeUInt32LE(FLAG[codec], i * 24 + 12);
    descOff.set(p.pfn, pdOff + i * 24);
    datas.push(c);
    off += c.length;
  });
  const buf = Buffer.concat([header, sub, bm1, bm2, descs, ...datas]);
  return { buf, layout: { bitmap1Off, bitmap2Off, pdOff, dataOff, descOff, size: buf.length } };
}

export function writeKdump(file: string, spec: KdumpSpec): KdumpLayout {
  const { buf, layout } = buildKdump(spec);
  fs.writeFileSync(file, buf);
  return layout;
}

/** makedumpfile -F style stream of `buf`: records of `chunk` bytes, written in a shuffled order. */
export function flatten(buf: Buffer, chunk = 1000, terminate = true): Buffer {
  const head = Buffer.alloc(4096);
  head.write('makedumpfile', 0, 'latin1');
  head.writeBigInt64BE(1n, 16);
  head.writeBigInt64BE(1n, 24);
  const recs: Buffer[] = [];
  const starts: number[] = [];
  for (let o = 0; o < buf.length; o += chunk) starts.push(o);
  // Reverse every other pair so records are not in file order.
  for (let i = 0; i + 1 < starts.length; i += 2) [starts[i], starts[i + 1]] = [starts[i + 1], starts[i]];
  for (const o of starts) {
    const data = buf.subarray(o, Math.min(o + chunk, buf.length));
    // Skip all-zero records to leave holes, as makedumpfile does not write them either.
    if (data.every((x) => x === 0) && o !== 0 && o + chunk < buf.length) continue;
    const h = Buffer.alloc(16);
    h.writeBigInt64BE(BigInt(o), 0);
    h.writeBigInt64BE(BigInt(data.length), 8);
    recs.push(h, data);
  }
  if (terminate) {
    const end = Buffer.alloc(16);
    end.writeBigInt64BE(-1n, 0);
    end.writeBigInt64BE(-1n, 8);
    recs.push(end);
  }
  return Buffer.concat([head, ...recs]);
}

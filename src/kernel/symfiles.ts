// Symbol files given on the command line: System.map and a vmlinux's .symtab.
//
// KASLR: text/data symbols are shifted by the runtime offset; per-CPU symbols (small values, the
// .data..percpu section linked at 0 on x86_64 <= 6.14) and absolute ('A') symbols are not — the
// same rule crash applies when relocating. The shift is SYMBOL(_stext) - file's _stext when both
// exist (that also catches a mismatched file), else VMCOREINFO's KERNELOFFSET.
//
// vmlinux: read with positioned reads (section headers, .symtab, .strtab only) and decoded with
// BigInt. The elfy package is not used here: it needs the whole file in one Buffer (a debug
// vmlinux is ~860 MB), reads ELF64 sh_entsize at the wrong offset and rounds 64-bit values.

import fs from 'node:fs';
import { InputError } from '../util/errors.js';
import { BasicSymbolTable, type KernelSymbol } from './symbols.js';
import { stubSystemMapMessage } from './symbol-hints.js';
import type { VmcoreInfo } from './vmcoreinfo.js';

const KERNEL_SPACE = 0xffff800000000000n;

/** A symbol file that belongs to another kernel: refused outright, never skipped over. */
export class SymbolFileMismatchError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'SymbolFileMismatchError';
  }
}

export interface KaslrShift {
  shift: bigint;
  how: string;
  /** Set when the file's _stext + KERNELOFFSET disagrees with SYMBOL(_stext): wrong file. */
  mismatch?: string;
}

export function kaslrShift(fileStext: bigint | undefined, vi: VmcoreInfo | undefined): KaslrShift {
  const stext = vi?.symbols.get('_stext');
  const ko = vi?.kernelOffset;
  if (fileStext !== undefined && stext !== undefined) {
    const shift = BigInt.asUintN(64, stext - fileStext);
    const r: KaslrShift = { shift, how: `SYMBOL(_stext) - file _stext = 0x${shift.toString(16)}` };
    if (ko !== undefined && shift !== ko) {
      r.mismatch = `file _stext + KERNELOFFSET (0x${ko.toString(16)}) != SYMBOL(_stext): the symbol file does not match this kernel`;
    }
    return r;
  }
  if (ko !== undefined) return { shift: ko, how: `KERNELOFFSET 0x${ko.toString(16)}` };
  return { shift: 0n, how: 'no KASLR information: addresses used as in the file' };
}

function relocate(s: KernelSymbol, shift: bigint): KernelSymbol {
  if (shift === 0n || s.type === 'A' || s.type === 'a' || s.address < KERNEL_SPACE) return s;
  return { ...s, address: BigInt.asUintN(64, s.address + shift) };
}

export function parseSystemMap(text: string, vi?: VmcoreInfo, file = 'System.map'): BasicSymbolTable {
  const syms: KernelSymbol[] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const m = /^([0-9a-fA-F]{1,16})\s+(\S)\s+(\S+)/.exec(line);
    if (!m) {
      bad++;
      continue;
    }
    syms.push({ name: m[3], address: BigInt('0x' + m[1]), type: m[2] });
  }
  if (syms.length < 100) {
    const stub = stubSystemMapMessage(file, text, vi?.osrelease);
    if (stub) throw new InputError(stub);
    throw new InputError(`${file}: only ${syms.length} symbols (${bad} unparsable lines): not a usable System.map (Debian ships a one-line stub; use the dump's kallsyms or --vmlinux)`);
  }
  const k = kaslrShift(syms.find((s) => s.name === '_stext')?.address, vi);
  if (k.mismatch) throw new SymbolFileMismatchError(`${file}: ${k.mismatch}`);
  return new BasicSymbolTable('system-map', syms.map((s) => relocate(s, k.shift)), `${file} (${syms.length} symbols, ${k.how})`);
}

export function readSystemMap(path: string, vi?: VmcoreInfo): BasicSymbolTable {
  let text: string;
  try {
    const st = fs.statSync(path);
    if (st.size > 256 * 1024 * 1024) throw new InputError(`${path}: ${st.size} bytes is too large for a System.map`);
    text = fs.readFileSync(path, 'latin1');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseSystemMap(text, vi, path);
}

const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const SHF_WRITE = 1n;
const SHF_ALLOC = 2n;
const SHF_EXECINSTR = 4n;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_ABS = 0xfff1;
const SHN_COMMON = 0xfff2;
const SHN_XINDEX = 0xffff;

interface Section {
  name: number;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: bigint;
  size: bigint;
  link: number;
  entsize: bigint;
}

/** Read .symtab from a vmlinux (ELF64 LE) with positioned reads. */
export function readVmlinuxSymbols(path: string, vi?: VmcoreInfo): BasicSymbolTable {
  return readVmlinux(path, vi).table;
}

export interface VmlinuxInfo {
  table: BasicSymbolTable;
  /** NT_GNU_BUILD_ID of the file, hex. */
  buildId?: string;
  /** linux_banner as stored in the file ("Linux version ..."). */
  banner?: string;
}

const NT_GNU_BUILD_ID = 3;

/** The GNU build ID in a buffer of ELF notes. */
function buildIdFromNotes(b: Buffer): string | undefined {
  for (let o = 0; o + 12 <= b.length; ) {
    const namesz = b.readUInt32LE(o);
    const descsz = b.readUInt32LE(o + 4);
    const type = b.readUInt32LE(o + 8);
    const nameAt = o + 12;
    const descAt = nameAt + ((namesz + 3) & ~3);
    const next = descAt + ((descsz + 3) & ~3);
    if (next > b.length || namesz > 256 || descsz > 4096) return undefined;
    if (type === NT_GNU_BUILD_ID && b.toString('latin1', nameAt, nameAt + namesz).replace(/\0+$/, '') === 'GNU') {
      return b.toString('hex', descAt, descAt + descsz);
    }
    o = next;
  }
  return undefined;
}

/** .symtab, build ID and linux_banner of a vmlinux, with positioned reads. */
export function readVmlinux(path: string, vi?: VmcoreInfo): VmlinuxInfo {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new InputError(`cannot open ${path}: ${(e as Error).message}`);
  }
  try {
    const fileSize = BigInt(fs.fstatSync(fd).size);
    const pread = (off: bigint, len: number): Buffer => {
      if (off < 0n || off + BigInt(len) > fileSize) throw new InputError(`${path}: read of ${len} bytes at ${off} runs past the file (${fileSize} bytes)`);
      const b = Buffer.alloc(len);
      fs.readSync(fd, b, 0, len, Number(off));
      return b;
    };
    const h = pread(0n, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new InputError(`${path}: not an ELF file`);
    if (h[4] !== 2 || h[5] !== 1) throw new InputError(`${path}: not a little-endian ELF64 file`);
    const shoff = h.readBigUInt64LE(40);
    const shentsize = h.readUInt16LE(58);
    let shnum = h.readUInt16LE(60);
    if (shoff === 0n) throw new InputError(`${path}: no section headers (a vmcore? pass the vmlinux)`);
    if (shentsize < 64) throw new InputError(`${path}: section header size ${shentsize}`);
    const sh0 = pread(shoff, 64);
    if (shnum === 0) shnum = Number(sh0.readBigUInt64LE(32));
    if (shnum > 1_000_000) throw new InputError(`${path}: ${shnum} sections is implausible`);
    const raw = pread(shoff, shnum * shentsize);
    const secs: Section[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = i * shentsize;
      secs.push({
        name: raw.readUInt32LE(o),
        type: raw.readUInt32LE(o + 4),
        flags: raw.readBigUInt64LE(o + 8),
        addr: raw.readBigUInt64LE(o + 16),
        offset: raw.readBigUInt64LE(o + 24),
        size: raw.readBigUInt64LE(o + 32),
        link: raw.readUInt32LE(o + 40),
        entsize: raw.readBigUInt64LE(o + 56),
      });
    }
    const symtab = secs.find((s) => s.type === SHT_SYMTAB);
    if (!symtab) throw new InputError(`${path}: no .symtab (stripped vmlinux)`);
    if (symtab.entsize !== 24n) throw new InputError(`${path}: .symtab entry size ${symtab.entsize}, want 24`);
    if (symtab.size > 512n * 1024n * 1024n) throw new InputError(`${path}: .symtab of ${symtab.size} bytes is implausible`);
    const strtab = secs[symtab.link];
    if (!strtab || strtab.size > 512n * 1024n * 1024n) throw new InputError(`${path}: .symtab's string table is missing`);
    const sbuf = pread(symtab.offset, Number(symtab.size));
    const strs = pread(strtab.offset, Number(strtab.size));
    const syms: KernelSymbol[] = [];
    for (let o = 24; o + 24 <= sbuf.length; o += 24) {
      const nameOff = sbuf.readUInt32LE(o);
      const info = sbuf[o + 4];
      const shndx = sbuf.readUInt16LE(o + 6);
      const value = sbuf.readBigUInt64LE(o + 8);
      const size = sbuf.readBigUInt64LE(o + 16);
      const stt = info & 0xf;
      const bind = info >> 4;
      if (stt === 3 || stt === 4 || shndx === SHN_UNDEF || nameOff === 0 || nameOff >= strs.length) continue; // SECTION, FILE, undefined
      let end = strs.indexOf(0, nameOff);
      if (end < 0) end = strs.length;
      const name = strs.toString('latin1', nameOff, end);
      let type: string;
      if (shndx === SHN_ABS) type = 'A';
      else if (shndx === SHN_COMMON) type = 'C';
      else if (shndx >= SHN_LORESERVE && shndx !== SHN_XINDEX) type = '?';
      else {
        const sec = secs[shndx];
        if (!sec) type = '?';
        else if (sec.flags & SHF_EXECINSTR) type = 'T';
        else if (sec.type === SHT_NOBITS) type = 'B';
        else if (sec.flags & SHF_WRITE) type = 'D';
        else if (sec.flags & SHF_ALLOC) type = 'R';
        else type = 'N';
      }
      if (bind === 0) type = type.toLowerCase(); // STB_LOCAL
      else if (bind === 2 && type !== 'A') type = stt === 2 ? 'W' : 'V'; // STB_WEAK
      syms.push({ name, address: value, type, size: size > 0n ? size : undefined });
    }
    if (syms.length === 0) throw new InputError(`${path}: .symtab holds no symbols`);
    // Build ID from the first note section that has one (.notes in vmlinux, .note.gnu.build-id elsewhere).
    let buildId: string | undefined;
    for (const sec of secs) {
      if (sec.type !== 7 || sec.size === 0n || sec.size > 65536n) continue; // SHT_NOTE
      buildId = buildIdFromNotes(pread(sec.offset, Number(sec.size)));
      if (buildId) break;
    }
    // linux_banner from the file's own bytes: it names the kernel in the refusal message.
    let banner: string | undefined;
    const lb = syms.find((s) => s.name === 'linux_banner');
    const home = lb && secs.find((sec) => sec.type !== SHT_NOBITS && sec.addr !== 0n && lb.address >= sec.addr && lb.address < sec.addr + sec.size);
    if (lb && home) {
      const off = home.offset + (lb.address - home.addr);
      const n = Number(home.addr + home.size - lb.address < 512n ? home.addr + home.size - lb.address : 512n);
      const raw = pread(off, n);
      const z = raw.indexOf(0);
      banner = raw.toString('latin1', 0, z < 0 ? n : z).trim();
    }
    const k = kaslrShift(syms.find((s) => s.name === '_stext')?.address, vi);
    if (k.mismatch) throw new SymbolFileMismatchError(`${path}: ${k.mismatch}`);
    const table = new BasicSymbolTable('vmlinux', syms.map((s) => relocate(s, k.shift)), `${path} .symtab (${syms.length} symbols, ${k.how})`);
    return { table, buildId, banner };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuse a symbol file that belongs to another kernel: its build ID (vmlinux) must equal
 * VMCOREINFO's BUILD-ID, and every kernel-image symbol VMCOREINFO names must sit where the file
 * (KASLR-shifted) puts it. Returns a one-line reason naming both kernels, or undefined.
 */
export function symbolFileMismatch(
  file: string,
  table: { lookup(name: string): bigint | undefined },
  vi: VmcoreInfo,
  fileKernel: { buildId?: string; banner?: string },
): string | undefined {
  const dumpKernel = `the dump is ${vi.osrelease ?? 'an unknown release'}${vi.buildId ? ` (build ID ${vi.buildId.slice(0, 12)}…)` : ''}`;
  const fileName =
    fileKernel.banner?.replace(/^Linux version (\S+).*$/s, '$1') ??
    /System\.map-(.+)$/.exec(file)?.[1] ??
    /vmlinu[xz]-(.+)$/.exec(file)?.[1];
  const fileDesc = `${file} is ${fileName ? `for ${fileName}` : 'another kernel build'}`;
  if (fileKernel.buildId && vi.buildId && !fileKernel.buildId.startsWith(vi.buildId.toLowerCase()) && !vi.buildId.toLowerCase().startsWith(fileKernel.buildId)) {
    return `${fileDesc} (build ID ${fileKernel.buildId.slice(0, 12)}…), ${dumpKernel}: not this kernel's symbols`;
  }
  const wrong: string[] = [];
  for (const [name, addr] of vi.symbols) {
    if (addr < 0xffffffff80000000n) continue; // pointers into the direct map (mem_section) are values, not symbols
    const got = table.lookup(name);
    if (got !== undefined && got !== addr) wrong.push(name);
  }
  if (wrong.length > 0) {
    return `${fileDesc}, ${dumpKernel}: ${wrong.slice(0, 3).join(', ')} ${wrong.length === 1 ? 'is' : 'are'} not where VMCOREINFO says`;
  }
  return undefined;
}

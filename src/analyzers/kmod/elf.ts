// A small ELF64 little-endian relocatable (ET_REL) reader for kernel modules (.ko), x86_64 or AArch64.
//
// Why not elfy: it reads ELF64 sh_entsize/sh_addralign at the wrong offsets, turns 64-bit fields
// into rounded JS numbers, throws plain Errors (not one-line InputErrors) on truncated input, and
// decodes no symbols or relocations. A .ko needs exactly section headers, .symtab/.strtab and
// .rela.* records, which are fixed-size little-endian structs: reading them here with DataView and
// BigInt is shorter than working around elfy, and every bound is checked so malformed input
// becomes one InputError line.
import { InputError } from '../../util/errors.js';

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;

export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const SHN_UNDEF = 0;

// x86_64 relocation types used by kernel modules.
export const R_X86_64_PC32 = 2;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_32S = 11;

// AArch64 relocation types used by kernel modules (ELF for the Arm 64-bit Architecture, 5.7).
export const R_AARCH64_ABS64 = 257;
export const R_AARCH64_PREL32 = 261;
export const R_AARCH64_ADR_PREL_PG_HI21 = 275;
export const R_AARCH64_ADR_PREL_PG_HI21_NC = 276;
export const R_AARCH64_ADD_ABS_LO12_NC = 277;
export const R_AARCH64_LDST8_ABS_LO12_NC = 278;
export const R_AARCH64_JUMP26 = 282;
export const R_AARCH64_CALL26 = 283;
export const R_AARCH64_LDST16_ABS_LO12_NC = 284;
export const R_AARCH64_LDST32_ABS_LO12_NC = 285;
export const R_AARCH64_LDST64_ABS_LO12_NC = 286;
export const R_AARCH64_LDST128_ABS_LO12_NC = 299;

/** ELF e_machine values lint-kmod reads, and names for the ones it does not (for the error line). */
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
const MACHINE_NAMES: Record<number, string> = {
  3: 'i386', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 'S/390', 40: 'ARM (32-bit)', 43: 'SPARC V9', 50: 'IA-64',
  62: 'x86_64', 183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch',
};
export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? 'unknown';
}

export interface Section {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface ElfSymbol {
  index: number;
  name: string;
  value: number;
  size: number;
  type: number;
  bind: number;
  /** Section index (0 = undefined, i.e. a kernel symbol the module imports). */
  shndx: number;
}

export interface Relocation {
  /** Offset inside the section the relocation applies to. */
  offset: number;
  type: number;
  symbol: ElfSymbol;
  addend: number;
}

export interface ElfModule {
  bytes: Uint8Array;
  sections: Section[];
  symbols: ElfSymbol[];
  /** Relocations by the index of the section they apply to. */
  relocs: Map<number, Relocation[]>;
  /** ELF e_machine: EM_X86_64 or EM_AARCH64. */
  machine: number;
  sectionByName(name: string): Section | undefined;
  /** A section's file bytes; empty for a missing section (a hostile st_shndx, SHN_ABS...). */
  sectionBytes(s: Section | undefined): Uint8Array;
}

const MAX_SECTIONS = 65_000;
const MAX_SYMBOLS = 2_000_000;

function cstr(b: Uint8Array, at: number): string {
  if (at < 0 || at >= b.length) return '';
  let end = at;
  while (end < b.length && b[end] !== 0 && end - at < 4096) end++;
  // Symbol and probe-target names never hold line breaks or tabs; a hostile module's could forge
  // report lines (the renderer strips the remaining control characters).
  return new TextDecoder('latin1').decode(b.subarray(at, end)).replace(/[\n\r\t]/g, ' ');
}

/** Parse a .ko. `what` names the input in error messages. Throws InputError on anything else. */
export function parseElfModule(bytes: Uint8Array, what: string): ElfModule {
  if (bytes.length === 0) throw new InputError(`${what}: empty file, not a kernel module`);
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw new InputError(`${what}: not an ELF file (no \\x7fELF magic)`);
  if (bytes.length < 64) throw new InputError(`${what}: truncated ELF header (${bytes.length} bytes)`);
  if (bytes[4] !== 2) throw new InputError(`${what}: 32-bit ELF; only x86_64 and AArch64 (ELF64) kernel modules are supported`);
  if (bytes[5] !== 1) throw new InputError(`${what}: big-endian ELF; only little-endian x86_64 and AArch64 kernel modules are supported`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_X86_64 && machine !== EM_AARCH64) throw new InputError(`${what}: ELF machine ${machine} (${machineName(machine)}) is not supported; only x86_64 (62) and AArch64 (183) kernel modules are`);
  if (type !== 1) {
    const names: Record<number, string> = { 2: 'an executable (ET_EXEC)', 3: 'a shared object or PIE (ET_DYN)', 4: 'a core dump (ET_CORE)' };
    throw new InputError(`${what}: ELF is ${names[type] ?? `type ${type}`}, not a relocatable kernel module (ET_REL)`);
  }
  const shoff = dv.getBigUint64(40, true);
  const shentsize = dv.getUint16(58, true);
  let shnum = dv.getUint16(60, true);
  let shstrndx = dv.getUint16(62, true);
  if (shoff === 0n) throw new InputError(`${what}: ELF has no section headers`);
  if (shentsize !== 64) throw new InputError(`${what}: bad ELF64 section header size ${shentsize}`);
  if (shoff + 64n > BigInt(bytes.length)) throw new InputError(`${what}: truncated: section headers at 0x${shoff.toString(16)} past end of file (${bytes.length} bytes)`);
  const so = Number(shoff);
  if (shnum === 0) shnum = Number(dv.getBigUint64(so + 32, true)); // extended numbering: sh_size of section 0
  if (shstrndx === 0xffff) shstrndx = dv.getUint32(so + 40, true);
  if (shnum > MAX_SECTIONS) throw new InputError(`${what}: implausible section count ${shnum}`);
  if (so + shnum * 64 > bytes.length) throw new InputError(`${what}: truncated: ${shnum} section headers do not fit in ${bytes.length} bytes`);

  const raw: Omit<Section, 'name'>[] = [];
  const nameOff: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = so + i * 64;
    nameOff.push(dv.getUint32(o, true));
    const sOffset = dv.getBigUint64(o + 24, true);
    const sSize = dv.getBigUint64(o + 32, true);
    const sType = dv.getUint32(o + 4, true);
    if (sType !== SHT_NOBITS && sType !== 0 && sOffset + sSize > BigInt(bytes.length))
      throw new InputError(`${what}: truncated: section ${i} (offset 0x${sOffset.toString(16)}, size 0x${sSize.toString(16)}) runs past end of file (${bytes.length} bytes)`);
    raw.push({
      index: i,
      type: sType,
      flags: dv.getBigUint64(o + 8, true),
      offset: Number(sOffset),
      size: Number(sSize),
      link: dv.getUint32(o + 40, true),
      info: dv.getUint32(o + 44, true),
      entsize: Number(dv.getBigUint64(o + 56, true)),
    });
  }
  if (shstrndx >= shnum) throw new InputError(`${what}: bad section-name table index ${shstrndx}`);
  const shstr = raw[shstrndx];
  const shstrBytes = bytes.subarray(shstr.offset, shstr.offset + shstr.size);
  const sections: Section[] = raw.map((s, i) => ({ ...s, name: cstr(shstrBytes, nameOff[i]) }));
  const sectionBytes = (s: Section | undefined): Uint8Array => (!s ? new Uint8Array(0) : s.type === SHT_NOBITS ? new Uint8Array(s.size > 1 << 28 ? 0 : s.size) : bytes.subarray(s.offset, s.offset + s.size));

  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) throw new InputError(`${what}: no symbol table (.symtab); a stripped module cannot be analysed`);
  if (symtab.entsize !== 24 || symtab.size % 24 !== 0) throw new InputError(`${what}: bad .symtab entry size ${symtab.entsize}`);
  if (symtab.link >= shnum) throw new InputError(`${what}: bad .symtab string table link ${symtab.link}`);
  const strtab = sectionBytes(sections[symtab.link]);
  const nsyms = symtab.size / 24;
  if (nsyms > MAX_SYMBOLS) throw new InputError(`${what}: implausible symbol count ${nsyms}`);
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < nsyms; i++) {
    const o = symtab.offset + i * 24;
    const info = bytes[o + 4];
    const shndx = dv.getUint16(o + 6, true);
    const stype = info & 0xf;
    let name = cstr(strtab, dv.getUint32(o, true));
    if (stype === STT_SECTION && shndx < shnum) name = sections[shndx].name;
    symbols.push({ index: i, name, value: Number(dv.getBigUint64(o + 8, true)), size: Number(dv.getBigUint64(o + 16, true)), type: stype, bind: info >> 4, shndx });
  }

  const relocs = new Map<number, Relocation[]>();
  for (const s of sections) {
    if (s.type !== SHT_RELA) continue;
    if (s.entsize !== 24 || s.size % 24 !== 0) throw new InputError(`${what}: bad relocation entry size in ${s.name}`);
    if (s.info >= shnum) throw new InputError(`${what}: ${s.name} applies to missing section ${s.info}`);
    const list: Relocation[] = [];
    for (let o = s.offset; o < s.offset + s.size; o += 24) {
      const info = dv.getBigUint64(o + 8, true);
      const symIndex = Number(info >> 32n);
      if (symIndex >= symbols.length) throw new InputError(`${what}: ${s.name} refers to missing symbol ${symIndex}`);
      list.push({ offset: Number(dv.getBigUint64(o, true)), type: Number(info & 0xffffffffn), symbol: symbols[symIndex], addend: Number(dv.getBigInt64(o + 16, true)) });
    }
    list.sort((a, b) => a.offset - b.offset);
    const prev = relocs.get(s.info);
    relocs.set(s.info, prev ? [...prev, ...list].sort((a, b) => a.offset - b.offset) : list);
  }

  return {
    bytes,
    sections,
    symbols,
    relocs,
    machine,
    sectionByName: (name) => sections.find((s) => s.name === name),
    sectionBytes,
  };
}

/** Read a NUL-terminated string from a section (for .rodata.str*, .modinfo). */
export function readCString(elf: ElfModule, shndx: number, offset: number): string | null {
  const s = elf.sections[shndx];
  if (!s || s.type === SHT_NOBITS || offset < 0 || offset >= s.size) return null;
  return cstr(elf.sectionBytes(s), offset);
}

/** `.modinfo` key=value pairs (vermagic, name, license...). */
export function modinfo(elf: ElfModule): Record<string, string> {
  const s = elf.sectionByName('.modinfo');
  const out: Record<string, string> = {};
  if (!s) return out;
  const text = new TextDecoder('latin1').decode(elf.sectionBytes(s));
  for (const kv of text.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0 && !(kv.slice(0, eq) in out)) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

// Loaded modules as the unwinder needs them: the text range, the module's ORC tables
// (mod->arch.num_orcs / orc_unwind_ip / orc_unwind) and its symbols (mod->kallsyms: symtab,
// num_symtab, strtab), found by walking the kernel's `modules` list. Field offsets come from BTF:
// struct module's core_layout (<= 6.3) or mem[MOD_TEXT] (6.4+).

import type { PagedMemory } from './memory.js';
import { OrcTable, type OrcVersion } from './orc.js';
import type { SymbolInfo, UnwindSymbols, UnwindTypes } from './types.js';
import { onlyDumpData } from '../../util/errors.js';

const MAX_MODULES = 8192;
const MAX_MODULE_SYMS = 500_000;
const ELF64_SYM_SIZE = 24;

export interface ModuleInfo {
  name: string;
  address: bigint;
  base: bigint;
  size: bigint;
  textSize: bigint;
  orc?: OrcTable;
  /** mod->kallsyms fields */
  symtab: bigint;
  numSymtab: number;
  strtab: bigint;
}

interface ModSym {
  value: bigint;
  nameOff: number;
  index: number;
}

export class ModuleSet {
  private syms = new Map<string, ModSym[]>();
  private names = new Map<string, string>();

  constructor(private readonly mem: PagedMemory, readonly modules: ModuleInfo[]) {}

  find(addr: bigint): ModuleInfo | undefined {
    return this.modules.find((m) => addr >= m.base && addr < m.base + m.size);
  }

  private symbols(m: ModuleInfo): ModSym[] {
    let list = this.syms.get(m.name);
    if (list) return list;
    list = [];
    if (m.symtab !== 0n && m.numSymtab > 0 && m.numSymtab <= MAX_MODULE_SYMS) {
      try {
        const buf = this.mem.read(m.symtab, m.numSymtab * ELF64_SYM_SIZE);
        // ELF starts real symbols at 1 (find_kallsyms_symbol()).
        for (let i = 1; i < m.numSymtab; i++) {
          const o = i * ELF64_SYM_SIZE;
          const shndx = buf.readUInt16LE(o + 6);
          if (shndx === 0) continue; // SHN_UNDEF
          list.push({ value: buf.readBigUInt64LE(o + 8), nameOff: buf.readUInt32LE(o), index: i });
        }
      } catch (e) {
        onlyDumpData(e);
        list = [];
      }
    }
    list.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.index - b.index));
    this.syms.set(m.name, list);
    return list;
  }

  private symName(m: ModuleInfo, off: number): string {
    const key = `${m.name}:${off}`;
    let n = this.names.get(key);
    if (n !== undefined) return n;
    try {
      n = readCString(this.mem, m.strtab + BigInt(off), 256);
    } catch (e) {
      onlyDumpData(e);
      n = '';
    }
    this.names.set(key, n);
    return n;
  }

  /** find_kallsyms_symbol(): closest preceding named symbol; size up to the next symbol. */
  symbolize(addr: bigint): SymbolInfo | null {
    const m = this.find(addr);
    if (!m) return null;
    const list = this.symbols(m);
    // Last symbol with value <= addr that has a real name.
    let lo = 0;
    let hi = list.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].value <= addr) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    let best: ModSym | undefined;
    let bestName = '';
    for (let i = at; i >= 0 && i > at - 64; i--) {
      const name = this.symName(m, list[i].nameOff);
      if (name === '' || isMappingSymbol(name)) continue;
      // Among equal values the kernel keeps the first one found (lowest index) — strictly-greater test.
      if (best && list[i].value < best.value) break;
      best = list[i];
      bestName = name;
    }
    if (!best) return { name: `0x${addr.toString(16)}`, address: addr, offset: 0n, size: 0n, module: m.name };
    const inText = addr < m.base + m.textSize;
    let next = inText ? m.base + m.textSize : m.base + m.size;
    for (let i = at + 1; i < list.length; i++) {
      if (list[i].value > addr) {
        if (list[i].value < next) next = list[i].value;
        break;
      }
    }
    return { name: bestName, address: best.value, offset: addr - best.value, size: next - best.value, module: m.name };
  }
}

function isMappingSymbol(name: string): boolean {
  if (name.startsWith('.L') || name.startsWith('L0')) return true;
  return name.length >= 2 && name[0] === '$' && 'adtx'.includes(name[1]) && (name.length === 2 || name[2] === '.');
}

function readCString(mem: PagedMemory, addr: bigint, max: number): string {
  let buf: Buffer;
  try {
    buf = mem.read(addr, max);
  } catch (e) {
    onlyDumpData(e);
    // The string may end just before an unreadable page: read up to the page end.
    const toPageEnd = Number(0x1000n - (addr & 0xfffn));
    buf = mem.read(addr, Math.min(max, toPageEnd));
  }
  const z = buf.indexOf(0);
  return buf.subarray(0, z < 0 ? max : z).toString('latin1');
}

/** Walk `modules` (list_head of struct module.list). Returns [] with a reason when impossible. */
export function readModules(mem: PagedMemory, syms: UnwindSymbols, types: UnwindTypes | undefined, version: OrcVersion | null): { modules: ModuleInfo[]; problem?: string } {
  const head = syms.lookup('modules');
  if (head === undefined) return { modules: [], problem: 'symbol `modules` not found' };
  if (!types) return { modules: [], problem: 'no BTF: struct module layout unknown' };
  const o = (s: string, m: string) => types.offsetOf(s, m);
  const listOff = o('module', 'list');
  const nameOff = o('module', 'name');
  if (listOff === undefined || nameOff === undefined) return { modules: [], problem: 'BTF lacks struct module list/name' };
  let baseOff = o('module', 'core_layout.base');
  let sizeOff = o('module', 'core_layout.size');
  let textOff = o('module', 'core_layout.text_size');
  if (baseOff === undefined) {
    // 6.4+: struct module_memory mem[MOD_MEM_NUM_TYPES], MOD_TEXT = 0
    const memOff = o('module', 'mem');
    const b = o('module_memory', 'base');
    const s = o('module_memory', 'size');
    if (memOff !== undefined && b !== undefined && s !== undefined) {
      baseOff = memOff + b;
      sizeOff = memOff + s;
      textOff = sizeOff;
    }
  }
  if (baseOff === undefined || sizeOff === undefined) return { modules: [], problem: 'BTF lacks struct module text layout' };
  const numOrcsOff = o('module', 'arch.num_orcs');
  const orcIpOff = o('module', 'arch.orc_unwind_ip');
  const orcOff = o('module', 'arch.orc_unwind');
  const kallsymsOff = o('module', 'kallsyms');
  const symtabOff = o('mod_kallsyms', 'symtab');
  const numSymOff = o('mod_kallsyms', 'num_symtab');
  const strtabOff = o('mod_kallsyms', 'strtab');

  const out: ModuleInfo[] = [];
  const seen = new Set<bigint>();
  let problem: string | undefined;
  try {
    let node = mem.readU64(head);
    while (node !== head && out.length < MAX_MODULES) {
      if (seen.has(node) || node === 0n) {
        problem = 'module list is corrupt (loop or NULL)';
        break;
      }
      seen.add(node);
      const mod = node - BigInt(listOff);
      const name = readCString(mem, mod + BigInt(nameOff), 56);
      const base = mem.readU64(mod + BigInt(baseOff));
      const size = BigInt(mem.read(mod + BigInt(sizeOff), 4).readUInt32LE(0));
      const textSize = textOff !== undefined ? BigInt(mem.read(mod + BigInt(textOff), 4).readUInt32LE(0)) : size;
      let orc: OrcTable | undefined;
      if (version !== null && numOrcsOff !== undefined && orcIpOff !== undefined && orcOff !== undefined) {
        const n = mem.read(mod + BigInt(numOrcsOff), 4).readUInt32LE(0);
        const ip = mem.readU64(mod + BigInt(orcIpOff));
        const un = mem.readU64(mod + BigInt(orcOff));
        if (n > 0 && ip !== 0n && un !== 0n && n < 4_000_000) orc = new OrcTable(mem, ip, un, n, version);
      }
      let symtab = 0n;
      let numSymtab = 0;
      let strtab = 0n;
      if (kallsymsOff !== undefined && symtabOff !== undefined && numSymOff !== undefined && strtabOff !== undefined) {
        const ks = mem.readU64(mod + BigInt(kallsymsOff));
        if (ks !== 0n) {
          symtab = mem.readU64(ks + BigInt(symtabOff));
          numSymtab = mem.read(ks + BigInt(numSymOff), 4).readUInt32LE(0);
          strtab = mem.readU64(ks + BigInt(strtabOff));
        }
      }
      out.push({ name, address: mod, base, size, textSize, orc, symtab, numSymtab, strtab });
      node = mem.readU64(node);
    }
  } catch (e) {
    onlyDumpData(e);
    problem = `module list unreadable: ${e.message}`;
  }
  return { modules: out, problem };
}

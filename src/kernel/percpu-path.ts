// `percpu <dump> symbol.member[2].sub`: a per-CPU variable's member, located through BTF (the VAR's
// type, member offsets, array strides) and printed the way crash's `p symbol:a` prints that member
// (gdb's value syntax: chars as `15 '\017'`, char arrays as strings, structs in braces).
//
// When the name is wrong, the suggestions come from the kernel itself: a per-CPU struct in BTF with
// a member of that name (6.2-6.14 moved __preempt_count to pcpu_hot.preempt_count, current_task to
// pcpu_hot.current_task), the reverse move, and close spellings among per-CPU symbols and members.

import { InputError } from '../util/errors.js';
import { BTF_KIND, type Btf } from './btf.js';
import type { SymbolTable } from './symbols.js';

export interface PerCpuPathTarget {
  symbol: string;
  /** Member path after the symbol, as typed (".cfs.nr_running", "[1]", ""). */
  path: string;
  symbolValue: bigint;
  /** Byte offset of the member from the per-CPU variable's start. */
  offset: number;
  /** Bit offset inside the first byte read, and bitfield width (0 = not a bitfield). */
  bitShift: number;
  bitSize: number;
  typeId: number;
  typeName: string;
  /** Bytes to read. */
  size: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Split "runqueues.cfs.nr_running" into the symbol and the rest. */
export function splitPerCpuPath(text: string): { symbol: string; path: string } {
  const t = text.trim();
  const m = IDENT.exec(t);
  if (!m) throw new InputError(`not a per-CPU symbol or member path: ${JSON.stringify(t.slice(0, 60))}`);
  const path = t.slice(m[0].length);
  if (path && !/^(?:\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) {
    throw new InputError(`bad member path ${JSON.stringify(t.slice(0, 80))}: use symbol.member.member[index]`);
  }
  return { symbol: m[0], path };
}

/** The BTF type of a per-CPU variable: its VAR, else a struct of the same name (pcpu_hot). */
export function perCpuVarType(btf: Btf, symbol: string): number | undefined {
  const v = btf.findVar(symbol);
  if (v) return v.type;
  return btf.findStruct(symbol)?.id;
}

function memberNames(btf: Btf, typeId: number, depth = 0): string[] {
  if (depth > 8) return [];
  const t = btf.type(btf.resolve(typeId));
  if (!t?.members) return [];
  const out: string[] = [];
  for (const m of t.members) {
    if (m.name) out.push(m.name);
    else out.push(...memberNames(btf, m.type, depth + 1));
  }
  return out;
}

/** Levenshtein distance, capped: names are short. */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = t;
    }
  }
  return prev[b.length];
}

function close(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const maxD = name.length <= 4 ? 1 : name.length <= 10 ? 2 : 3;
  const scored: [number, string][] = [];
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(name, c);
    if (d <= maxD) scored.push([d, c]);
  }
  return [...new Set(scored.sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1])).map((x) => x[1]))].slice(0, limit);
}

/** Per-CPU variables known to BTF (VARs in the .data..percpu section), with their type ids. */
function perCpuVars(btf: Btf): { name: string; type: number }[] {
  const out: { name: string; type: number }[] = [];
  for (let id = 1; id < btf.count; id++) {
    if (btf.kindOf(id) !== BTF_KIND.DATASEC) continue;
    const ds = btf.type(id)!;
    if (!ds.name.includes('percpu')) continue;
    for (const v of ds.vars ?? []) {
      const vt = btf.type(v.type);
      if (vt?.kind === BTF_KIND.VAR && vt.type !== undefined) out.push({ name: vt.name, type: vt.type });
    }
  }
  return out;
}

/**
 * What the user may have meant by a per-CPU name the kernel lacks: members of per-CPU structs with
 * that name (`__preempt_count` -> `pcpu_hot.preempt_count`), the plain variable for a struct
 * member that moved back (`pcpu_hot.preempt_count` -> `__preempt_count`), close spellings.
 */
export function suggestPerCpu(syms: SymbolTable, btf: Btf | undefined, symbol: string, path = '', isPerCpu?: (name: string) => boolean): string[] {
  const out: string[] = [];
  const bare = symbol.replace(/^_+/, '');
  const lastMember = /\.([A-Za-z_]\w*)(?:\[\d+\])*$/.exec(path)?.[1];
  // A per-CPU struct holding a member of this name.
  if (btf && !path) {
    for (const v of perCpuVars(btf)) {
      if (syms.lookup(v.name) === undefined) continue;
      const names = memberNames(btf, v.type);
      for (const n of names) if (n === symbol || n === bare) out.push(`${v.name}.${n}`);
    }
  }
  // The member moved out again into its own variable (6.15 brought __preempt_count back).
  if (lastMember) {
    for (const cand of [lastMember, `__${lastMember}`, `_${lastMember}`]) if (syms.lookup(cand) !== undefined && (!isPerCpu || isPerCpu(cand))) out.push(cand);
  }
  // Close spellings among per-CPU variables (BTF's list, else every symbol).
  const names = btf ? perCpuVars(btf).map((v) => v.name).filter((n) => syms.lookup(n) !== undefined) : syms.all().map((s) => s.name).filter((n) => !isPerCpu || isPerCpu(n));
  out.push(...close(symbol, names).map((n) => n + path));
  if (bare !== symbol && syms.lookup(bare) !== undefined && (!isPerCpu || isPerCpu(bare))) out.push(bare + path);
  return [...new Set(out)].slice(0, 5);
}

export function didYouMean(s: string[]): string {
  return s.length ? `; did you mean ${s.join(' or ')}?` : '';
}

/** Locate `symbol.path` through BTF. Throws InputError naming the first part that is wrong. */
export function resolvePerCpuPath(syms: SymbolTable, btf: Btf | undefined, text: string, isPerCpu?: (name: string) => boolean): PerCpuPathTarget {
  const { symbol, path } = splitPerCpuPath(text);
  const value = syms.lookup(symbol);
  if (value === undefined) throw new InputError(`per-CPU symbol ${symbol} not found${didYouMean(suggestPerCpu(syms, btf, symbol, path, isPerCpu))}`);
  if (!btf) throw new InputError(`${text}: member paths need the kernel's BTF, which this dump does not give (${symbol} itself can be read with --type)`);
  const varType = perCpuVarType(btf, symbol);
  if (varType === undefined) throw new InputError(`BTF has no type for ${symbol}: this kernel's BTF does not describe per-CPU variables (older pahole, e.g. Debian 5.10) and no struct is named ${symbol}; read it raw with --type`);
  let info = { offset: 0, bitOffset: 0, bitSize: 0, type: varType, size: btf.sizeOfId(varType) };
  if (path) {
    // Array subscripts on the variable itself, then dotted members.
    const lead = /^((?:\[\d+\])*)/.exec(path)![1];
    let type = varType;
    let bitOffset = 0;
    for (const sub of lead.match(/\d+/g) ?? []) {
      const at = btf.type(btf.resolve(type));
      if (!at?.array) throw new InputError(`${symbol} is not an array (${btf.typeName(type)})`);
      if (Number(sub) >= at.array.nelems) throw new InputError(`${symbol}[${sub}]: index out of range (${at.array.nelems} elements)`);
      bitOffset += Number(sub) * (btf.sizeOfId(at.array.type) ?? 0) * 8;
      type = at.array.type;
    }
    info = { offset: bitOffset / 8, bitOffset, bitSize: 0, type, size: btf.sizeOfId(type) };
    const rest = path.slice(lead.length).replace(/^\./, '');
    if (rest) {
      const parts = rest.split('.');
      for (let i = 0; i < parts.length; i++) {
        const sub = btf.memberOfType(info.type, parts[i]);
        if (!sub) {
          const name = parts[i].replace(/\[.*$/, '');
          const where = `${symbol}${lead}${parts.slice(0, i).map((p) => '.' + p).join('')}`;
          const rt = btf.type(btf.resolve(info.type));
          if (rt?.kind === BTF_KIND.PTR) throw new InputError(`${where} is a pointer (${btf.typeName(info.type)}): ktriage does not follow pointers; read the target with rd or a symbol`);
          const names = memberNames(btf, info.type);
          if (names.includes(name)) throw new InputError(`${where}.${parts[i]}: bad index or not an array`);
          const hint = close(name, names).map((n) => `${where}.${n}`);
          throw new InputError(`${btf.typeName(info.type)} (${where}) has no member ${name}${didYouMean(hint)}`);
        }
        const bitOffsetAbs = info.bitOffset + sub.bitOffset;
        info = { offset: Math.floor(bitOffsetAbs / 8), bitOffset: bitOffsetAbs, bitSize: sub.bitSize, type: sub.type, size: sub.size };
      }
    }
  }
  const size = info.bitSize ? Math.ceil(((info.bitOffset % 8) + info.bitSize) / 8) : info.size;
  if (size === undefined || size <= 0) throw new InputError(`${text}: size of ${btf.typeName(info.type)} unknown`);
  if (size > 1 << 20) throw new InputError(`${text}: ${size} bytes per CPU is too large to print`);
  return { symbol, path, symbolValue: value, offset: info.offset, bitShift: info.bitOffset % 8, bitSize: info.bitSize, typeId: info.type, typeName: btf.typeName(info.type), size };
}

// ---- values as gdb (and so crash) prints them -------------------------------------------------

const NAMED_ESC: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 27: '\\033' };

function charText(c: number, quote: string): string {
  if (NAMED_ESC[c]) return NAMED_ESC[c];
  if (c === quote.charCodeAt(0) || c === 0x5c) return '\\' + String.fromCharCode(c);
  if (c >= 0x20 && c < 0x7f) return String.fromCharCode(c);
  return '\\' + c.toString(8).padStart(3, '0');
}

function readInt(b: Buffer, off: number, size: number, signed: boolean): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i] ?? 0);
  return signed ? BigInt.asIntN(size * 8, v) : v;
}

export interface FormatOptions {
  /** Symbol for a pointer value ("root_task_group", "tick_nohz_handler+0x10"). */
  symbolize?: (addr: bigint) => string | undefined;
  /** Print a pointer with its type cast in front, as gdb does at the top level. */
  topLevel?: boolean;
}

/** `value` of BTF type `typeId` at `off` in `b`, in gdb's syntax; `indent` for nested structs. */
export function formatBtfValue(btf: Btf, typeId: number, b: Buffer, off = 0, o: FormatOptions = {}, indent = '', depth = 0, bits?: { shift: number; size: number }): string {
  if (depth > 12) return '{...}';
  const id = btf.resolve(typeId);
  const t = btf.type(id);
  if (!t) return '<void>';
  switch (t.kind) {
    case BTF_KIND.INT: {
      const enc = t.int!.encoding;
      const signed = (enc & 1) !== 0;
      let v: bigint;
      if (bits && bits.size) {
        const raw = readInt(b, off, Math.ceil((bits.shift + bits.size) / 8), false) >> BigInt(bits.shift);
        v = raw & ((1n << BigInt(bits.size)) - 1n);
        if (signed) v = BigInt.asIntN(bits.size, v);
      } else v = readInt(b, off, t.size!, signed);
      if (enc & 4 || t.name === '_Bool' || t.name === 'bool') return v === 0n ? 'false' : v === 1n ? 'true' : String(v);
      if (t.size === 1 && (enc & 2 || /char$/.test(t.name))) return `${v} '${charText(Number(BigInt.asUintN(8, v)), "'")}'`;
      return String(v);
    }
    case BTF_KIND.ENUM:
    case BTF_KIND.ENUM64: {
      const v = readInt(b, off, t.size!, t.kindFlag);
      const e = t.enumValues!.find((x) => BigInt.asUintN(t.size! * 8, x.value) === BigInt.asUintN(t.size! * 8, v));
      return e ? e.name : String(v);
    }
    case BTF_KIND.PTR: {
      const v = readInt(b, off, 8, false);
      const sym = v !== 0n ? o.symbolize?.(v) : undefined;
      const text = `0x${v.toString(16)}${sym ? ` <${sym}>` : ''}`;
      return o.topLevel ? `(${btf.typeName(id)}) ${text}` : text;
    }
    case BTF_KIND.FLOAT:
      return t.size === 8 ? String(b.readDoubleLE(off)) : t.size === 4 ? String(b.readFloatLE(off)) : '0x' + readInt(b, off, t.size!, false).toString(16);
    case BTF_KIND.ARRAY: {
      const a = t.array!;
      const et = btf.type(btf.resolve(a.type));
      const es = btf.sizeOfId(a.type) ?? 0;
      if (et?.kind === BTF_KIND.INT && es === 1 && (et.int!.encoding & 2 || /char$/.test(et.name))) {
        // gdb drops one trailing NUL and prints the rest, NULs as \000 (crash turns repeats off).
        let n = a.nelems;
        if (n > 0 && b[off + n - 1] === 0) n--;
        let s = '';
        for (let i = 0; i < n; i++) s += charText(b[off + i], '"');
        return `"${s}"`;
      }
      const items: string[] = [];
      const nested = et && (et.kind === BTF_KIND.STRUCT || et.kind === BTF_KIND.UNION);
      // gdb indents the members of structs inside an array one level deeper than the array.
      const elIndent = nested ? indent + '  ' : indent;
      for (let i = 0; i < a.nelems && i < 4096; i++) items.push(formatBtfValue(btf, a.type, b, off + i * es, { symbolize: o.symbolize }, elIndent, depth + 1));
      return `{${items.join(', ')}}`;
    }
    case BTF_KIND.STRUCT:
    case BTF_KIND.UNION: {
      const inner = indent + '  ';
      const lines: string[] = [];
      for (const m of t.members!) {
        const moff = off + Math.floor(m.bitOffset / 8);
        const mb = m.bitSize ? { shift: m.bitOffset % 8, size: m.bitSize } : undefined;
        const v = formatBtfValue(btf, m.type, b, moff, { symbolize: o.symbolize }, inner, depth + 1, mb);
        lines.push(m.name ? `${inner}${m.name} = ${v}` : `${inner}${v}`);
      }
      return lines.length ? `{\n${lines.join(',\n')}\n${indent}}` : '{}';
    }
    default:
      return `<${t.kindName}>`;
  }
}

/** Signed or unsigned integer value of a scalar member, for a hex annotation; undefined otherwise. */
export function scalarInt(btf: Btf, typeId: number, b: Buffer, bits?: { shift: number; size: number }): bigint | undefined {
  const t = btf.type(btf.resolve(typeId));
  if (!t || (t.kind !== BTF_KIND.INT && t.kind !== BTF_KIND.ENUM)) return undefined;
  const size = t.size!;
  if (bits && bits.size) return (readInt(b, 0, Math.ceil((bits.shift + bits.size) / 8), false) >> BigInt(bits.shift)) & ((1n << BigInt(bits.size)) - 1n);
  return readInt(b, 0, size, false);
}

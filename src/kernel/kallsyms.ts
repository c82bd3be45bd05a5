// kallsyms read out of the dump's own memory, located through VMCOREINFO's SYMBOL(kallsyms_*)
// entries (added in 6.0 by "vmcoreinfo: include kallsyms symbols"). The tables are the ones
// scripts/kallsyms.c emits and kernel/kallsyms.c reads:
//   kallsyms_num_syms     unsigned int
//   kallsyms_names        per symbol: a length (1 byte; since 6.1 "big symbols": if bit 7 is set,
//                         2 bytes, len = (b0 & 0x7f) | (b1 << 7)) then that many token indexes
//   kallsyms_token_index  u16[256]: offset of each token in kallsyms_token_table
//   kallsyms_token_table  NUL-terminated token strings
//   The first character of the expanded name is the nm type letter.
// Addresses, four encodings over the kernel's history; we DETECT which one this dump uses by
// decoding _stext every way and keeping the encoding that gives SYMBOL(_stext):
//   absolute        kallsyms_addresses[i] (unsigned long) — !KALLSYMS_BASE_RELATIVE
//   absolute-percpu int kallsyms_offsets[i]: >= 0 absolute value (per-CPU symbols, not KASLR-shifted),
//                   < 0 -> kallsyms_relative_base - 1 - off — KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP <= 6.14)
//   base-relative   kallsyms_relative_base + (u32)off
//   pc-relative     &kallsyms_offsets[i] + (s32)off (7.0+, no kallsyms_relative_base)
// (Layout knowledge from kernel/kallsyms.c kallsyms_sym_address() and drgn's libdrgn/kallsyms.c,
// which documents the same history; no code copied.)

import { firstAtOrBelow } from '../util/search.js';
import { InputError, onlyDumpData } from '../util/errors.js';
import { DumpReadError } from '../vmcore/types.js';
import type { KernelSymbol, SymbolTable } from './symbols.js';
import type { SymbolInfo } from './unwind/types.js';
import type { VmcoreInfo } from './vmcoreinfo.js';

export interface VirtualReader {
  readVirtual(vaddr: bigint, len: number): Buffer;
}

export type KallsymsEncoding = 'absolute' | 'absolute-percpu' | 'base-relative' | 'pc-relative';

export interface KallsymsTables {
  names: bigint;
  numSyms: bigint;
  tokenTable: bigint;
  tokenIndex: bigint;
  offsets?: bigint;
  /** Address of the variable kallsyms_relative_base (not its value). */
  relativeBase?: bigint;
  addresses?: bigint;
}

/** Upper bounds that reject garbage before it costs time or memory. */
export const KALLSYMS_MAX_SYMS = 4_000_000;
const MAX_NAMES_BYTES = 128 * 1024 * 1024;
const NAMES_CHUNK = 512 * 1024;

export function kallsymsTablesFromVmcoreinfo(vi: VmcoreInfo): KallsymsTables | undefined {
  const s = vi.symbols;
  const names = s.get('kallsyms_names');
  const numSyms = s.get('kallsyms_num_syms');
  const tokenTable = s.get('kallsyms_token_table');
  const tokenIndex = s.get('kallsyms_token_index');
  if (names === undefined || numSyms === undefined || tokenTable === undefined || tokenIndex === undefined) return undefined;
  const offsets = s.get('kallsyms_offsets');
  const addresses = s.get('kallsyms_addresses');
  if (offsets === undefined && addresses === undefined) return undefined;
  return { names, numSyms, tokenTable, tokenIndex, offsets, relativeBase: s.get('kallsyms_relative_base'), addresses };
}

/** Decode the token table: 256 strings. */
export function readTokens(mem: VirtualReader, tokenTable: bigint, tokenIndex: bigint): string[] {
  const idxBuf = mem.readVirtual(tokenIndex, 512);
  const idx: number[] = [];
  let max = 0;
  for (let i = 0; i < 256; i++) {
    const v = idxBuf.readUInt16LE(i * 2);
    idx.push(v);
    if (v > max) max = v;
  }
  // Tokens are short (the compressor emits at most a few dozen bytes); read past the last start.
  let len = max + 64;
  let table = mem.readVirtual(tokenTable, len);
  while (table.indexOf(0, max) < 0) {
    if (len > max + 4096) throw new InputError('kallsyms token table: last token is not NUL-terminated');
    len += 256;
    table = mem.readVirtual(tokenTable, len);
  }
  return idx.map((off) => {
    const end = table.indexOf(0, off);
    return table.toString('latin1', off, end);
  });
}

/**
 * Decoded names, packed as latin1 bytes: entry i is text[starts[i], starts[i + 1] - 1): its type
 * letter then its name. `text` begins with '\n' and every entry is followed by '\n', so a name is
 * found with one Buffer.indexOf (memmem-fast) of name + "\n" preceded by "\n" + type.
 */
export interface DecodedNames {
  text: Buffer;
  starts: Uint32Array;
  /** Bytes of kallsyms_names consumed. */
  bytes: number;
}

function decodedName(d: DecodedNames, i: number): string {
  return d.text.toString('latin1', d.starts[i] + 1, d.starts[i + 1] - 1);
}
function decodedType(d: DecodedNames, i: number): string {
  return String.fromCharCode(d.text[d.starts[i]]);
}

/** Read up to `len` bytes, stopping at the first unreadable page. */
function readUpTo(mem: VirtualReader, addr: bigint, len: number): Buffer {
  try {
    return mem.readVirtual(addr, len);
  } catch (e) {
    onlyDumpData(e);
    const parts: Buffer[] = [];
    let done = 0;
    while (done < len) {
      const a = addr + BigInt(done);
      const n = Math.min(len - done, 4096 - Number(a & 0xfffn));
      try {
        parts.push(mem.readVirtual(a, n));
      } catch (e) {
        onlyDumpData(e);
        break;
      }
      done += n;
    }
    return Buffer.concat(parts);
  }
}

/**
 * Decode `count` compressed names starting at `namesAddr`. `sizeHint` is the likely byte length of
 * kallsyms_names (scripts/kallsyms.c lays out names, markers, [seqs,] token table in that order, so
 * token_table - names bounds it); the table is read in one piece when the hint is sane, and grown
 * otherwise.
 */
export function decodeNames(mem: VirtualReader, namesAddr: bigint, count: number, tokens: string[], sizeHint?: number): DecodedNames {
  if (tokens.some((t) => t.includes('\n'))) throw new InputError('kallsyms token table holds a newline: tables corrupt');
  // Tokens flattened into one typed array: a monomorphic inner copy loop.
  const tokBytes = Buffer.from(tokens.join(''), 'latin1');
  const tokStart = new Int32Array(257);
  for (let i = 0; i < 256; i++) tokStart[i + 1] = tokStart[i] + Buffer.byteLength(tokens[i], 'latin1');
  let maxTok = 1;
  for (let i = 0; i < 256; i++) maxTok = Math.max(maxTok, tokStart[i + 1] - tokStart[i]);
  let avail = sizeHint !== undefined && sizeHint > 0 && sizeHint <= MAX_NAMES_BYTES ? sizeHint : Math.min(MAX_NAMES_BYTES, Math.max(NAMES_CHUNK, count * 12));
  let buf = readUpTo(mem, namesAddr, avail);
  let exhausted = buf.length < avail;
  avail = buf.length;
  // Expand every name into one byte buffer, '\n'-separated, then split once: far cheaper than
  // building ~100k strings token by token.
  // Sized for the names actually present (a hostile num_syms must not drive a 128 MB allocation
  // up front); it grows by doubling while decoding.
  let out = Buffer.alloc(Math.max(1024, Math.min(count * 32, avail * 8)));
  out[0] = 10;
  let o = 1;
  let pos = 0;
  const starts = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) {
    if (!exhausted && pos + 2 + 0x7fff > avail && avail < MAX_NAMES_BYTES) {
      // Possibly short: grow (a name is at most 2 + 0x7fff bytes).
      const grow = Math.min(MAX_NAMES_BYTES, avail + Math.max(NAMES_CHUNK, 2 + 0x7fff));
      // The table may simply end before the next unreadable page: take what can be read.
      const more = readUpTo(mem, namesAddr + BigInt(avail), grow - avail);
      if (more.length < grow - avail) exhausted = true;
      if (more.length > 0) {
        buf = Buffer.concat([buf, more]);
        avail = buf.length;
      }
    }
    if (pos >= avail) throw new InputError(`kallsyms_names: ran out of data at symbol ${i} of ${count}`);
    let len = buf[pos];
    if (len & 0x80) {
      len = (len & 0x7f) | (buf[pos + 1] << 7);
      pos += 2;
    } else pos += 1;
    if (len === 0) throw new InputError(`kallsyms_names: empty entry for symbol ${i}`);
    if (pos + len > avail) throw new InputError(`kallsyms_names: ran out of data at symbol ${i} of ${count}`);
    starts[i] = o;
    if (o + len * maxTok + 1 > out.length) {
      const bigger = Buffer.alloc(out.length * 2 + len * maxTok);
      out.copy(bigger, 0, 0, o);
      out = bigger;
    }
    for (let k = pos, e = pos + len; k < e; k++) {
      const tk = buf[k];
      for (let j = tokStart[tk], n = tokStart[tk + 1]; j < n; j++) out[o++] = tokBytes[j];
    }
    out[o++] = 10;
    pos += len;
  }
  starts[count] = o;
  return { text: out.subarray(0, o), starts, bytes: pos };
}

function candidates(t: KallsymsTables, offsets: Int32Array | undefined, abs: BigUint64Array | undefined, rb: bigint | undefined) {
  const out: { enc: KallsymsEncoding; addr: (i: number) => bigint }[] = [];
  if (abs) out.push({ enc: 'absolute', addr: (i) => abs[i] });
  if (offsets) {
    if (rb !== undefined) {
      out.push({ enc: 'absolute-percpu', addr: (i) => (offsets[i] >= 0 ? BigInt(offsets[i]) : BigInt.asUintN(64, rb - 1n - BigInt(offsets[i]))) });
      out.push({ enc: 'base-relative', addr: (i) => BigInt.asUintN(64, rb + BigInt(offsets[i] >>> 0)) });
    }
    const base = t.offsets!;
    out.push({ enc: 'pc-relative', addr: (i) => BigInt.asUintN(64, base + BigInt(i) * 4n + BigInt(offsets[i])) });
  }
  return out;
}

export interface KallsymsResult {
  table: KallsymsTable;
  encoding: KallsymsEncoding;
  numSyms: number;
  /** How the encoding was confirmed. */
  evidence: string;
  /** Milliseconds per phase. */
  timing: Record<string, number>;
  /** The table set that was used. */
  tables: KallsymsTables;
}

/**
 * Read kallsyms from memory. `stext` is SYMBOL(_stext) from VMCOREINFO, used to pick the address
 * encoding; without it a plausibility test (text symbols in the kernel image) is used.
 */
export function readKallsyms(mem: VirtualReader, t: KallsymsTables, stext?: bigint): KallsymsResult {
  return readKallsymsCandidates(mem, [t], stext, false);
}

/**
 * Like readKallsyms, over several candidate places for the address table that share one
 * names/token set (tables located by scanning, whose order depends on the kernel version).
 * With `strict`, only an encoding that reproduces `stext` is accepted: a guessed place must prove
 * itself, not merely look plausible.
 */
export function readKallsymsCandidates(
  mem: VirtualReader,
  cands: KallsymsTables[],
  stext: bigint | undefined,
  strict: boolean,
  anchors: ReadonlyMap<string, bigint> = new Map(),
): KallsymsResult {
  const timing: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (k: string) => {
    const t1 = performance.now();
    timing[k] = t1 - t0;
    t0 = t1;
  };
  const t = cands[0];
  if (!t) throw new InputError('kallsyms: no candidate tables');
  const num = mem.readVirtual(t.numSyms, 4).readUInt32LE(0);
  if (num === 0 || num > KALLSYMS_MAX_SYMS) throw new InputError(`kallsyms_num_syms is ${num}: implausible`);
  const tokens = readTokens(mem, t.tokenTable, t.tokenIndex);
  const hint = t.tokenTable > t.names && t.tokenTable - t.names <= BigInt(MAX_NAMES_BYTES) ? Number(t.tokenTable - t.names) : undefined;
  const dn = decodeNames(mem, t.names, num, tokens, hint);
  lap('names');
  const stextIdx = findAll(dn, '_stext')[0];
  let lastError: Error | undefined;
  for (const c of cands) {
    let picked: ReturnType<typeof chooseEncoding>;
    try {
      picked = chooseEncoding(mem, c, num, dn, stext, stextIdx, strict, anchorIndexes(dn, anchors));
    } catch (e) {
      if (!(e instanceof InputError) && !(e instanceof DumpReadError)) throw e;
      lastError = e;
      continue;
    }
    lap('encoding');
    const { chosen, evidence, offsets } = picked;
    const percpu = chosen.enc === 'absolute-percpu' ? (i: number) => offsets![i] >= 0 : () => false;
    const table = new KallsymsTable(dn, num, chosen.addr, percpu, `kallsyms from the dump (${num} symbols, ${chosen.enc} encoding)`);
    lap('index');
    return { table, encoding: chosen.enc, numSyms: num, evidence, timing, tables: c };
  }
  throw lastError ?? new InputError('kallsyms: no address table found');
}

/** Entry indexes of the anchor symbols present in the names, with the address each must have. */
function anchorIndexes(dn: DecodedNames, anchors: ReadonlyMap<string, bigint>): [number, bigint][] {
  const out: [number, bigint][] = [];
  for (const [name, addr] of anchors) {
    const i = findAll(dn, name)[0];
    if (i !== undefined) out.push([i, addr]);
  }
  return out;
}

function chooseEncoding(
  mem: VirtualReader,
  t: KallsymsTables,
  num: number,
  dn: DecodedNames,
  stext: bigint | undefined,
  stextIdx: number | undefined,
  strict: boolean,
  anchors: [number, bigint][] = [],
) {
  let offsets: Int32Array | undefined;
  let abs: BigUint64Array | undefined;
  if (t.offsets !== undefined) {
    const b = mem.readVirtual(t.offsets, num * 4);
    offsets = new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + num * 4));
  }
  if (t.addresses !== undefined) {
    const b = mem.readVirtual(t.addresses, num * 8);
    abs = new BigUint64Array(b.buffer.slice(b.byteOffset, b.byteOffset + num * 8));
  }
  // SYMBOL(kallsyms_relative_base) is the address of the variable; the base is its value.
  const rb = t.relativeBase !== undefined ? mem.readVirtual(t.relativeBase, 8).readBigUInt64LE(0) : undefined;
  const cands = candidates(t, offsets, abs, rb);
  let chosen: (typeof cands)[number] | undefined;
  let evidence = '';
  if (stext !== undefined && stextIdx !== undefined) {
    // absolute-percpu and base-relative cannot both reproduce one address from one raw offset.
    // A table read from one entry off can still give _stext (it often shares its address with
    // _text), so every other known symbol must agree too.
    chosen = cands.find((c) => c.addr(stextIdx) === stext && anchors.every(([i, a]) => c.addr(i) === a));
    if (chosen) evidence = `decoded _stext = SYMBOL(_stext) = 0x${stext.toString(16)}${anchors.length ? ` and ${anchors.length} more known symbols agree` : ''}`;
  }
  if (!chosen && strict) {
    throw new InputError(
      stextIdx === undefined ? 'kallsyms: no _stext among the decoded names' : `kallsyms: no address table reproduces _stext = 0x${(stext ?? 0n).toString(16)}`,
    );
  }
  if (!chosen) {
    // Plausibility: text symbols must land in the kernel image (>= 0xffffffff80000000).
    for (const c of cands) {
      let good = 0;
      let bad = 0;
      for (let i = 0; i < num; i += Math.max(1, Math.floor(num / 200))) {
        const ty = decodedType(dn, i);
        if (ty !== 'T' && ty !== 't') continue;
        if (c.addr(i) >= 0xffffffff80000000n) good++;
        else bad++;
      }
      if (good > 0 && bad === 0) {
        chosen = c;
        evidence =
          stext === undefined
            ? 'no SYMBOL(_stext) in VMCOREINFO; text symbols land in the kernel image'
            : `_stext did not match any encoding; text symbols land in the kernel image`;
        break;
      }
    }
  }
  if (!chosen) {
    throw new InputError(
      stextIdx === undefined ? 'kallsyms: no _stext among the decoded names; tables look corrupt' : 'kallsyms: no address encoding reproduces SYMBOL(_stext)',
    );
  }
  return { chosen, evidence, offsets };
}

/** Indexes of every entry named `name` (global ones first). */
function findAll(dn: DecodedNames, name: string): number[] {
  const needle = Buffer.from(name + '\n', 'latin1');
  const text = dn.text;
  const out: number[] = [];
  for (let p = text.indexOf(needle, 2); p >= 0; p = text.indexOf(needle, p + 1)) {
    if (text[p - 2] !== 10) continue;
    // entry start = p - 1; binary search starts[]
    const want = p - 1;
    let lo = 0;
    let hi = dn.starts.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (dn.starts[mid] <= want) lo = mid;
      else hi = mid - 1;
    }
    if (dn.starts[lo] === want) out.push(lo);
  }
  const g = (i: number) => {
    const c = text[dn.starts[i]];
    return c >= 65 && c <= 90 ? 0 : 1;
  };
  return out.sort((a, b) => g(a) - g(b) || a - b);
}

/**
 * Name -> entry index over the packed names, without a string per symbol: an open-addressing
 * table of entry indexes keyed by FNV-1a of the name bytes, built in one pass (~10 ms for 94k
 * names; scanning the packed text per lookup cost ~1.5 ms each and the analysis makes dozens).
 * Where a name repeats (local statics), the global entry wins, else the first.
 */
class NameHash {
  slots: Int32Array;
  private readonly mask: number;
  /** Built here (not taken from the cache): its probes end at a free slot, no limit needed. */
  private built: boolean;

  /**
   * `prebuilt`: the slots of an earlier build of the same names (the build cache keeps them:
   * hashing 94k names is a large part of a warm start). Used when its size fits (a power of two
   * at least twice the count); a probe that meets a slot out of the entry range or runs past
   * PROBE_LIMIT slots (a table with no free slot, or one not built by this code) drops it for a
   * fresh build. Checking every slot up front instead cost ~3 ms of each warm start. A slot
   * pointing at another name can only make find() miss, since find() compares the name itself.
   */
  constructor(
    private readonly dn: DecodedNames,
    private readonly count: number,
    prebuilt?: Int32Array,
  ) {
    let size = 1024;
    while (size < count * 2) size *= 2;
    this.mask = size - 1;
    this.built = !(prebuilt && prebuilt.length === size);
    this.slots = this.built ? this.build() : prebuilt!;
  }

  private build(): Int32Array {
    const slots = new Int32Array(this.mask + 1).fill(-1);
    const { text, starts } = this.dn;
    const isGlobal = (i: number) => text[starts[i]] >= 65 && text[starts[i]] <= 90;
    for (let i = 0; i < this.count; i++) {
      const a = starts[i] + 1;
      const b = starts[i + 1] - 1;
      let h = 0x811c9dc5;
      for (let k = a; k < b; k++) h = Math.imul(h ^ text[k], 0x01000193);
      for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
        const j = slots[s];
        if (j < 0) {
          slots[s] = i;
          break;
        }
        if (this.sameName(j, a, b)) {
          if (!isGlobal(j) && isGlobal(i)) slots[s] = i;
          break;
        }
      }
    }
    return slots;
  }

  private sameName(j: number, a: number, b: number): boolean {
    const { text, starts } = this.dn;
    const ja = starts[j] + 1;
    if (starts[j + 1] - 1 - ja !== b - a) return false;
    for (let k = 0; k < b - a; k++) if (text[ja + k] !== text[a + k]) return false;
    return true;
  }

  find(name: string): number | undefined {
    const q = Buffer.from(name, 'latin1');
    let h = 0x811c9dc5;
    for (let k = 0; k < q.length; k++) h = Math.imul(h ^ q[k], 0x01000193);
    const { text, starts } = this.dn;
    for (let s = h & this.mask, n = 0; ; s = (s + 1) & this.mask, n++) {
      const j = this.slots[s];
      if (j === -1) return undefined;
      if (!this.built && (j < 0 || j >= this.count || n > PROBE_LIMIT)) {
        // Not a table this code built (a hand-edited cache entry): build it and ask again.
        this.slots = this.build();
        this.built = true;
        return this.find(name);
      }
      const ja = starts[j] + 1;
      if (starts[j + 1] - 1 - ja === q.length && text.compare(q, 0, q.length, ja, ja + q.length) === 0) return j;
    }
  }
}

/**
 * Longest probe find() accepts before rebuilding the table: at a load of at most one half, a
 * linear probe of a table built here runs a few slots (the 6.1 fixture's longest is far below).
 */
const PROBE_LIMIT = 4096;

function buildNameHash(dn: DecodedNames, count: number, prebuilt?: Int32Array): NameHash {
  return new NameHash(dn, count, prebuilt);
}

/**
 * kallsyms as a SymbolTable, lazily: names stay packed in one string, addresses are computed from
 * the raw table on demand, and name lookups go through a hash of the packed names (NameHash).
 * The kernel keeps kallsyms sorted by address (get_symbol_pos() binary-searches it); that order
 * is checked once and a sorted index built only if it does not hold.
 */
export class KallsymsTable implements SymbolTable {
  readonly source = 'kallsyms' as const;
  private readonly cache = new Map<string, number | undefined>();
  private hash?: NameHash;
  private order?: Uint32Array; // symbolizable entries sorted by address
  private orderAddr?: BigUint64Array;
  private allSyms?: KernelSymbol[];
  private sortedChecked?: boolean;

  constructor(
    private readonly dn: DecodedNames,
    readonly count: number,
    private readonly addrOf: (i: number) => bigint,
    private readonly isPerCpu: (i: number) => boolean,
    readonly description: string,
  ) {}

  name(i: number): string {
    return decodedName(this.dn, i);
  }

  /** A per-CPU offset rather than an address (absolute-percpu encoding). */
  isPerCpuEntry(i: number): boolean {
    return this.isPerCpu(i);
  }

  /** The decoded names, packed (for the build cache). */
  get decoded(): DecodedNames {
    return this.dn;
  }

  type(i: number): string {
    const t = decodedType(this.dn, i);
    return this.isPerCpu(i) && t !== 'a' ? 'A' : t;
  }

  address(i: number): bigint {
    return this.addrOf(i);
  }

  /** The name index's slots, built now if need be (for the build cache). */
  nameIndex(): Int32Array {
    this.hash ??= buildNameHash(this.dn, this.count);
    return this.hash.slots;
  }

  /** Name index slots from the build cache: used when well formed (NameHash), else rebuilt. */
  useNameIndex(slots: Int32Array): void {
    this.hash = buildNameHash(this.dn, this.count, slots);
  }

  private index(name: string): number | undefined {
    if (this.cache.has(name)) return this.cache.get(name);
    this.hash ??= buildNameHash(this.dn, this.count);
    const r = this.hash.find(name);
    this.cache.set(name, r);
    return r;
  }

  lookup(name: string): bigint | undefined {
    const i = this.index(name);
    return i === undefined ? undefined : this.addrOf(i);
  }

  get(name: string): KernelSymbol | undefined {
    const i = this.index(name);
    return i === undefined ? undefined : { name, address: this.addrOf(i), type: this.type(i) };
  }

  /** Every entry with this name (local statics can repeat). */
  getAll(name: string): KernelSymbol[] {
    return findAll(this.dn, name).map((i) => ({ name, address: this.addrOf(i), type: this.type(i) }));
  }

  private buildOrder(): void {
    const idx: number[] = [];
    let sortedOk = true;
    let last = 0n;
    for (let i = 0; i < this.count; i++) {
      if (this.isPerCpu(i)) continue;
      const a = this.addrOf(i);
      if (a < 0xff00000000000000n) continue;
      const t = decodedType(this.dn, i);
      if (t === 'A' || t === 'a') continue;
      if (a < last) sortedOk = false;
      last = a;
      idx.push(i);
    }
    const addrs = new BigUint64Array(idx.length);
    if (!sortedOk) idx.sort((x, y) => (this.addrOf(x) < this.addrOf(y) ? -1 : this.addrOf(x) > this.addrOf(y) ? 1 : x - y));
    for (let k = 0; k < idx.length; k++) addrs[k] = this.addrOf(idx[k]);
    this.order = Uint32Array.from(idx);
    this.orderAddr = addrs;
  }

  /** Sampled check of the address order the kernel itself relies on. */
  private looksSorted(): boolean {
    if (this.sortedChecked === undefined) {
      let ok = true;
      let last = 0n;
      const step = Math.max(1, Math.floor(this.count / 256));
      for (let i = 0; i < this.count && ok; i += step) {
        const a = this.addrOf(i);
        if (a < last) ok = false;
        last = a;
      }
      this.sortedChecked = ok;
    }
    return this.sortedChecked;
  }

  symbolize(addr: bigint): SymbolInfo | null {
    addr = BigInt.asUintN(64, addr);
    if (addr < 0xff00000000000000n) return null;
    if (this.looksSorted()) {
      // Direct binary search over the raw table, as kernel/kallsyms.c get_symbol_pos() does.
      const n = this.count;
      if (n === 0 || this.addrOf(0) > addr) return null;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (this.addrOf(mid) <= addr) lo = mid;
        else hi = mid - 1;
      }
      const base = this.addrOf(lo);
      if (base < 0xff00000000000000n) return null;
      let first = lo;
      while (first > 0 && this.addrOf(first - 1) === base) first--;
      let next = lo + 1;
      while (next < n && this.addrOf(next) === base) next++;
      if (next >= n) return null; // past the last symbol: not in the kernel image
      return { name: this.name(first), address: base, offset: addr - base, size: this.addrOf(next) - base };
    }
    if (!this.order) this.buildOrder();
    const a = this.orderAddr!;
    const first = firstAtOrBelow(a, addr);
    if (first < 0) return null;
    const lo = first;
    let next = lo + 1;
    while (next < a.length && a[next] === a[lo]) next++;
    if (next >= a.length) return null;
    const i = this.order![first];
    return { name: this.name(i), address: a[lo], offset: addr - a[lo], size: a[next] - a[lo] };
  }

  format(addr: bigint): string | undefined {
    const s = this.symbolize(addr);
    return s ? `${s.name}+0x${s.offset.toString(16)}/0x${s.size.toString(16)}` : undefined;
  }

  all(): readonly KernelSymbol[] {
    if (!this.allSyms) {
      const out: KernelSymbol[] = new Array<KernelSymbol>(this.count);
      for (let i = 0; i < this.count; i++) out[i] = { name: this.name(i), address: this.addrOf(i), type: this.type(i) };
      this.allSyms = out;
    }
    return this.allSyms;
  }
}

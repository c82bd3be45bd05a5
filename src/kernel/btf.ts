// Kernel BTF (CONFIG_DEBUG_INFO_BTF), read from the dump's memory between __start_BTF and
// __stop_BTF. Format: include/uapi/linux/btf.h and Documentation/bpf/btf.rst —
//   struct btf_header { u16 magic 0xeB9F; u8 version 1; u8 flags; u32 hdr_len;
//                       u32 type_off, type_len, str_off, str_len }   (offsets after the header)
//   struct btf_type { u32 name_off; u32 info (vlen 0-15, kind 24-28, kind_flag 31); u32 size|type }
//   followed by kind-specific data. Type id 0 is void; ids count from 1 in section order.
// Every length is checked against the blob before use. Words are read through a Uint32Array, so a
// little-endian host is assumed (x86_64, arm64).

import { InputError } from '../util/errors.js';
import type { UnwindTypes } from './unwind/types.js';

const BTF_MAGIC = 0xeb9f;
/** Kernel BTF is a few MB; refuse anything absurd. */
const BTF_MAX_SIZE = 128 * 1024 * 1024;

export const BTF_KIND = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

const KIND_NAMES = ['unkn', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const', 'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64'];

export interface BtfMember {
  name: string;
  type: number;
  /** Offset in bits from the start of the struct. */
  bitOffset: number;
  /** Bitfield size in bits (0 when not a bitfield). */
  bitSize: number;
}

export interface BtfType {
  id: number;
  kind: number;
  kindName: string;
  name: string;
  /** size for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT; undefined otherwise. */
  size?: number;
  /** Referenced type for PTR/TYPEDEF/CONST/VOLATILE/RESTRICT/FUNC/VAR/TYPE_TAG/DECL_TAG/FUNC_PROTO(return). */
  type?: number;
  members?: BtfMember[];
  /** ARRAY */
  array?: { type: number; indexType: number; nelems: number };
  /** ENUM/ENUM64 */
  enumValues?: { name: string; value: bigint }[];
  /** FUNC_PROTO */
  params?: { name: string; type: number }[];
  /** DATASEC */
  vars?: { type: number; offset: number; size: number }[];
  /** INT encoding: bits, offset, signed/char/bool. */
  int?: { bits: number; offset: number; encoding: number };
  /** VAR linkage; DECL_TAG component index. */
  extra?: number;
  kindFlag: boolean;
}

export interface BtfMemberInfo {
  /** Byte offset of the member from the start of the outer struct. */
  offset: number;
  bitOffset: number;
  bitSize: number;
  type: number;
  /** Size in bytes of the member's type (after typedefs). */
  size?: number;
}

/**
 * Type ids by name: a chained hash of each named type's name bytes (FNV-1a, folded to the table
 * size). `head[h]` is the lowest id in slot h (0: none), `next[id]` the next id of its chain, in
 * ascending order. The build cache keeps it with the blob; a lookup compares every candidate's
 * name, so a damaged index can only miss, never answer a wrong type.
 */
export interface BtfNameIndex {
  head: Int32Array;
  next: Int32Array;
}

/** What an earlier parse of the same blob derived (the build cache keeps it): checked, else rebuilt. */
export interface BtfDerived {
  typeOffsets?: Uint32Array;
  nameIndex?: BtfNameIndex;
  /** Ids of the DATASEC types. */
  datasecs?: Uint32Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class Btf implements UnwindTypes {
  private readonly view: DataView;
  /** The blob as 32-bit words (little-endian host; the blob is copied when misaligned). */
  private readonly u32: Uint32Array;
  /** Byte offset (in buf) of each type's btf_type record; index = type id. */
  private readonly typeOffsets: Uint32Array;
  private readonly typesStart: number;
  private readonly strStart: number;
  private readonly strLen: number;
  private readonly nameCache = new Map<string, number[]>();
  /** Type ids by name (BtfNameIndex), built on the first name lookup unless the cache gave it. */
  private byName?: { head: Int32Array; next: Int32Array; shift: number };
  readonly version: number;
  readonly flags: number;

  private readonly buf: Buffer;

  /**
   * `typeOffsets`: the record offsets of an earlier scan of the same blob (the build cache keeps
   * them with it); used when they are in bounds and increasing, else the blob is scanned.
   */
  private constructor(blob: Buffer, derived: BtfDerived = {}) {
    if (blob.length < 24) throw new InputError(`BTF blob too short (${blob.length} bytes)`);
    if (blob.length > BTF_MAX_SIZE) throw new InputError(`BTF blob implausibly large (${blob.length} bytes)`);
    let buf = blob;
    if (buf.byteOffset % 4 !== 0) {
      buf = Buffer.alloc(blob.length);
      blob.copy(buf);
    }
    this.buf = buf;
    this.u32 = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const magic = buf.readUInt16LE(0);
    if (magic !== BTF_MAGIC) throw new InputError(`not BTF (magic 0x${magic.toString(16)}, want 0xeb9f; big-endian BTF unsupported)`);
    this.version = buf[2];
    this.flags = buf[3];
    if (this.version !== 1) throw new InputError(`unsupported BTF version ${this.version}`);
    const hdrLen = buf.readUInt32LE(4);
    if (hdrLen < 24 || hdrLen > 4096 || hdrLen > buf.length) throw new InputError(`bad BTF header length ${hdrLen}`);
    const typeOff = buf.readUInt32LE(8);
    const typeLen = buf.readUInt32LE(12);
    const strOff = buf.readUInt32LE(16);
    const strLen = buf.readUInt32LE(20);
    const end = (o: number, l: number) => hdrLen + o + l;
    if (end(typeOff, typeLen) > buf.length || end(strOff, strLen) > buf.length) {
      throw new InputError(`BTF sections run past the blob (types ${typeOff}+${typeLen}, strings ${strOff}+${strLen}, blob ${buf.length - hdrLen})`);
    }
    if (typeOff % 4 !== 0 || hdrLen % 4 !== 0) throw new InputError('BTF type section misaligned');
    this.typesStart = hdrLen + typeOff;
    this.strStart = hdrLen + strOff;
    this.strLen = strLen;
    const start = hdrLen + typeOff;
    const stop = hdrLen + typeOff + typeLen;
    const { typeOffsets, nameIndex, datasecs } = derived;
    this.typeOffsets = typeOffsets && Btf.plausibleOffsets(typeOffsets, start, stop) ? typeOffsets : this.scan(start, stop);
    if (nameIndex) this.useNameIndex(nameIndex);
    if (datasecs) this.useDatasecs(datasecs);
  }

  /**
   * `derived`: what the build cache kept of an earlier parse of the same blob: type record offsets
   * (used when in bounds and increasing, else the blob is scanned), the name index (used when its
   * shape fits; lookups compare names) and the DATASEC ids (used when each is one).
   */
  static parse(buf: Buffer, derived?: Uint32Array | BtfDerived): Btf {
    return new Btf(buf, derived instanceof Uint32Array ? { typeOffsets: derived } : derived);
  }

  /** The offset of each type's record, index = type id (for the build cache). */
  get typeOffsetTable(): Uint32Array {
    return this.typeOffsets;
  }

  /** Everything the build cache keeps of this parse (the name index is built if not yet). */
  derived(): Required<BtfDerived> {
    return { typeOffsets: this.typeOffsets, nameIndex: this.nameIndex(), datasecs: Uint32Array.from(this.findDatasecs()) };
  }

  private useNameIndex(ix: BtfNameIndex): void {
    const n = ix.head.length;
    if (n < 1024 || (n & (n - 1)) !== 0 || n < this.typeOffsets.length || ix.next.length !== this.typeOffsets.length) return;
    this.byName = { head: ix.head, next: ix.next, shift: 32 - Math.log2(n) };
  }

  private useDatasecs(ids: Uint32Array): void {
    for (const id of ids) if (this.kindOf(id) !== BTF_KIND.DATASEC) return;
    this.datasecs = Array.from(ids);
  }

  private static plausibleOffsets(offs: Uint32Array, start: number, stop: number): boolean {
    if (offs.length < 1 || offs[0] !== 0 || (offs.length > 1 && offs[1] !== start)) return false;
    let last = start - 1;
    for (let id = 1; id < offs.length; id++) {
      const o = offs[id];
      if (o <= last || o + 12 > stop || (o & 3) !== 0) return false;
      last = o;
    }
    return true;
  }

  /** Read and parse the kernel's BTF from [start, stop) in virtual memory. */
  static fromMemory(mem: { readVirtual(vaddr: bigint, len: number): Buffer }, start: bigint, stop: bigint): Btf {
    if (stop <= start || stop - start > BigInt(BTF_MAX_SIZE)) {
      throw new InputError(`implausible BTF bounds 0x${start.toString(16)}..0x${stop.toString(16)}`);
    }
    return new Btf(mem.readVirtual(start, Number(stop - start)));
  }

  private scan(start: number, end: number): Uint32Array {
    const offs: number[] = [0]; // id 0 = void
    const u32 = this.u32;
    let p = start;
    while (p < end) {
      if (p + 12 > end) throw new InputError(`BTF type ${offs.length} truncated`);
      const info = u32[(p + 4) >>> 2];
      const vlen = info & 0xffff;
      const kind = (info >>> 24) & 0x1f;
      let extra: number;
      switch (kind) {
        case BTF_KIND.INT:
        case BTF_KIND.VAR:
        case BTF_KIND.DECL_TAG:
          extra = 4;
          break;
        case BTF_KIND.ARRAY:
          extra = 12;
          break;
        case BTF_KIND.STRUCT:
        case BTF_KIND.UNION:
        case BTF_KIND.DATASEC:
        case BTF_KIND.ENUM64:
          extra = 12 * vlen;
          break;
        case BTF_KIND.ENUM:
        case BTF_KIND.FUNC_PROTO:
          extra = 8 * vlen;
          break;
        case BTF_KIND.PTR:
        case BTF_KIND.FWD:
        case BTF_KIND.TYPEDEF:
        case BTF_KIND.VOLATILE:
        case BTF_KIND.CONST:
        case BTF_KIND.RESTRICT:
        case BTF_KIND.FUNC:
        case BTF_KIND.FLOAT:
        case BTF_KIND.TYPE_TAG:
          extra = 0;
          break;
        default:
          throw new InputError(`BTF type ${offs.length}: unknown kind ${kind}`);
      }
      if (p + 12 + extra > end) throw new InputError(`BTF type ${offs.length} (${KIND_NAMES[kind]}, vlen ${vlen}) runs past the type section`);
      offs.push(p);
      p += 12 + extra;
    }
    return Uint32Array.from(offs);
  }

  /** Number of types including void (ids 0..count-1). */
  get count(): number {
    return this.typeOffsets.length;
  }

  str(off: number): string {
    if (off >= this.strLen) return '';
    const s = this.strStart + off;
    let e = this.buf.indexOf(0, s);
    if (e < 0 || e > this.strStart + this.strLen) e = this.strStart + this.strLen;
    return this.buf.toString('latin1', s, e);
  }

  kindOf(id: number): number {
    if (id <= 0 || id >= this.typeOffsets.length) return 0;
    return (this.u32[(this.typeOffsets[id] + 4) >>> 2] >>> 24) & 0x1f;
  }

  type(id: number): BtfType | undefined {
    if (id <= 0 || id >= this.typeOffsets.length) return undefined;
    const v = this.view;
    const p = this.typeOffsets[id];
    const info = v.getUint32(p + 4, true);
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kindFlag = (info >>> 31) === 1;
    const su = v.getUint32(p + 8, true);
    const t: BtfType = { id, kind, kindName: KIND_NAMES[kind] ?? String(kind), name: this.str(v.getUint32(p, true)), kindFlag };
    const x = p + 12;
    switch (kind) {
      case BTF_KIND.INT: {
        t.size = su;
        const e = v.getUint32(x, true);
        t.int = { encoding: (e >>> 24) & 0xf, offset: (e >>> 16) & 0xff, bits: e & 0xff };
        break;
      }
      case BTF_KIND.ARRAY:
        t.array = { type: v.getUint32(x, true), indexType: v.getUint32(x + 4, true), nelems: v.getUint32(x + 8, true) };
        break;
      case BTF_KIND.STRUCT:
      case BTF_KIND.UNION: {
        t.size = su;
        t.members = [];
        for (let i = 0; i < vlen; i++) {
          const m = x + i * 12;
          const off = v.getUint32(m + 8, true);
          t.members.push({
            name: this.str(v.getUint32(m, true)),
            type: v.getUint32(m + 4, true),
            bitOffset: kindFlag ? off & 0xffffff : off,
            bitSize: kindFlag ? off >>> 24 : 0,
          });
        }
        break;
      }
      case BTF_KIND.ENUM:
        t.size = su;
        t.enumValues = [];
        for (let i = 0; i < vlen; i++) {
          const m = x + i * 8;
          const raw = v.getInt32(m + 4, true);
          t.enumValues.push({ name: this.str(v.getUint32(m, true)), value: kindFlag ? BigInt(raw) : BigInt(raw >>> 0) });
        }
        break;
      case BTF_KIND.ENUM64:
        t.size = su;
        t.enumValues = [];
        for (let i = 0; i < vlen; i++) {
          const m = x + i * 12;
          const u = (BigInt(v.getUint32(m + 8, true)) << 32n) | BigInt(v.getUint32(m + 4, true));
          t.enumValues.push({ name: this.str(v.getUint32(m, true)), value: kindFlag ? BigInt.asIntN(64, u) : u });
        }
        break;
      case BTF_KIND.FUNC_PROTO:
        t.type = su;
        t.params = [];
        for (let i = 0; i < vlen; i++) {
          const m = x + i * 8;
          t.params.push({ name: this.str(v.getUint32(m, true)), type: v.getUint32(m + 4, true) });
        }
        break;
      case BTF_KIND.DATASEC:
        t.size = su;
        t.vars = [];
        for (let i = 0; i < vlen; i++) {
          const m = x + i * 12;
          t.vars.push({ type: v.getUint32(m, true), offset: v.getUint32(m + 4, true), size: v.getUint32(m + 8, true) });
        }
        break;
      case BTF_KIND.VAR:
      case BTF_KIND.DECL_TAG:
        t.type = su;
        t.extra = v.getUint32(x, true);
        break;
      case BTF_KIND.FLOAT:
        t.size = su;
        break;
      case BTF_KIND.FWD:
        break;
      default:
        t.type = su;
    }
    return t;
  }

  /** Type ids with this name, optionally of one kind. */
  findByName(name: string, kind?: number): number[] {
    let ids = this.nameCache.get(name);
    if (!ids) {
      ids = this.idsNamed(name);
      if (this.nameCache.size > 4096) this.nameCache.clear();
      this.nameCache.set(name, ids);
    }
    return kind === undefined ? ids : ids.filter((id) => this.kindOf(id) === kind);
  }

  /** The name index, built in one pass over the type names when neither built nor cached. */
  private nameIndex(): BtfNameIndex {
    if (!this.byName) {
      const u32 = this.u32;
      const buf = this.buf;
      const to = this.typeOffsets;
      const strStart = this.strStart;
      const strLen = this.strLen;
      let bits = 10;
      while (1 << bits < to.length) bits++;
      const head = new Int32Array(1 << bits);
      const next = new Int32Array(to.length);
      const shift = 32 - bits;
      // From the last id down, so each chain runs in ascending id order.
      for (let id = to.length - 1; id >= 1; id--) {
        const no = u32[to[id] >>> 2];
        if (no === 0 || no >= strLen) continue;
        let h = FNV_OFFSET;
        for (let p = strStart + no, end = strStart + strLen; p < end; p++) {
          const c = buf[p];
          if (c === 0) break;
          h = Math.imul(h ^ c, FNV_PRIME);
        }
        const slot = Math.imul(h, 0x9e3779b1) >>> shift;
        next[id] = head[slot];
        head[slot] = id;
      }
      this.byName = { head, next, shift };
    }
    return { head: this.byName.head, next: this.byName.next };
  }

  /**
   * Ids of the types named `name`, ascending: one hash slot's chain, each candidate's name
   * compared byte for byte (a scan of every type per lookup cost ~2-5 ms each, and an indexOf
   * over the string section per name ~1 ms).
   */
  private idsNamed(name: string): number[] {
    const out: number[] = [];
    if (name === '') return out;
    let h = FNV_OFFSET;
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c === 0 || c > 0xff) return out; // not a latin1 string without NULs: no BTF name is
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    this.nameIndex();
    const { head, next, shift } = this.byName!;
    const u32 = this.u32;
    const buf = this.buf;
    const to = this.typeOffsets;
    const count = to.length;
    const end = this.strStart + this.strLen;
    const len = name.length;
    // A cached chain that loops or leaves the id range ends the walk (a damaged index misses).
    for (let id = head[Math.imul(h, 0x9e3779b1) >>> shift], steps = 0; id > 0 && id < count && steps < count; id = next[id], steps++) {
      const no = u32[to[id] >>> 2];
      const s = this.strStart + no;
      if (no === 0 || no >= this.strLen || s + len >= end || buf[s + len] !== 0) continue;
      let i = 0;
      while (i < len && buf[s + i] === name.charCodeAt(i)) i++;
      if (i === len) out.push(id);
    }
    // A damaged chain may run out of order; a well-formed one is ascending already.
    for (let i = 1; i < out.length; i++) {
      if (out[i] <= out[i - 1]) {
        out.sort((a, b) => a - b);
        return out.filter((id, j) => j === 0 || id !== out[j - 1]);
      }
    }
    return out;
  }

  /** A struct (or union) by name, preferring a complete definition. */
  findStruct(name: string): BtfType | undefined {
    const ids = this.findByName(name).filter((id) => {
      const k = this.kindOf(id);
      return k === BTF_KIND.STRUCT || k === BTF_KIND.UNION;
    });
    return ids.length ? this.type(ids[0]) : undefined;
  }

  /** Strip typedef/const/volatile/restrict/type_tag. */
  resolve(id: number): number {
    for (let guard = 0; guard < 64; guard++) {
      const k = this.kindOf(id);
      if (k === BTF_KIND.TYPEDEF || k === BTF_KIND.CONST || k === BTF_KIND.VOLATILE || k === BTF_KIND.RESTRICT || k === BTF_KIND.TYPE_TAG) {
        id = this.view.getUint32(this.typeOffsets[id] + 8, true);
      } else return id;
    }
    throw new InputError(`BTF type chain too deep at id ${id}`);
  }

  /** Size in bytes of a type id (arrays multiplied out, pointers 8); undefined for void/functions/loops. */
  sizeOfId(id: number, depth = 0): number | undefined {
    if (depth > 32) return undefined; // an array of itself: corrupt BTF
    id = this.resolve(id);
    const t = this.type(id);
    if (!t) return undefined;
    switch (t.kind) {
      case BTF_KIND.PTR:
        return 8;
      case BTF_KIND.ARRAY: {
        const e = this.sizeOfId(t.array!.type, depth + 1);
        return e === undefined ? undefined : e * t.array!.nelems;
      }
      default:
        return t.size;
    }
  }

  /** sizeof(struct name) (or union, typedef, int...). */
  sizeOf(name: string): number | undefined {
    const st = this.findStruct(name);
    if (st) return st.size;
    const ids = this.findByName(name);
    for (const id of ids) {
      const s = this.sizeOfId(id);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  /** Find a member by name in a struct/union, descending into anonymous members. */
  private findMember(structId: number, name: string, depth = 0): BtfMemberInfo | undefined {
    if (depth > 16) return undefined;
    const t = this.type(this.resolve(structId));
    if (!t?.members) return undefined;
    for (const m of t.members) {
      if (m.name === name) {
        return { offset: Math.floor(m.bitOffset / 8), bitOffset: m.bitOffset, bitSize: m.bitSize, type: m.type, size: this.sizeOfId(m.type) };
      }
    }
    for (const m of t.members) {
      if (m.name !== '') continue;
      const inner = this.findMember(m.type, name, depth + 1);
      if (inner) {
        const bitOffset = m.bitOffset + inner.bitOffset;
        return { ...inner, bitOffset, offset: Math.floor(bitOffset / 8) };
      }
    }
    return undefined;
  }

  /**
   * A member by dotted path from a struct: `member("task_struct", "thread.sp")`, with array
   * subscripts allowed (`"val[1]"`). The struct name may be given as the first path element:
   * `member("pt_regs.ip")`.
   */
  member(struct: string, path?: string): BtfMemberInfo | undefined {
    if (path === undefined) {
      const dot = struct.indexOf('.');
      if (dot < 0) return undefined;
      path = struct.slice(dot + 1);
      struct = struct.slice(0, dot);
    }
    const st = this.findStruct(struct);
    if (!st) return undefined;
    return this.memberOfType(st.id, path);
  }

  /** A member path (as for `member`) from any struct/union type id, e.g. a per-CPU VAR's type. */
  memberOfType(typeId: number, path: string): BtfMemberInfo | undefined {
    let cur: BtfMemberInfo = { offset: 0, bitOffset: 0, bitSize: 0, type: typeId, size: this.sizeOfId(typeId) };
    for (const part of path.split('.')) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$/.exec(part);
      if (!m) return undefined;
      const found = this.findMember(cur.type, m[1]);
      if (!found) return undefined;
      let bitOffset = cur.bitOffset + found.bitOffset;
      let type = found.type;
      for (const sub of m[2].match(/\d+/g) ?? []) {
        const at = this.type(this.resolve(type));
        if (!at?.array) return undefined;
        const es = this.sizeOfId(at.array.type);
        if (es === undefined) return undefined;
        const idx = Number(sub);
        if (idx >= at.array.nelems && at.array.nelems !== 0) return undefined;
        bitOffset += idx * es * 8;
        type = at.array.type;
      }
      cur = { offset: Math.floor(bitOffset / 8), bitOffset, bitSize: m[2] ? 0 : found.bitSize, type, size: this.sizeOfId(type) };
    }
    return cur;
  }

  /** UnwindTypes: byte offset of a (dotted) member path. */
  offsetOf(struct: string, member: string): number | undefined {
    return this.member(struct, member)?.offset;
  }

  /** A VAR by name (kernel BTF has per-CPU variables only), with its DATASEC offset if listed. */
  findVar(name: string): { id: number; type: number; section?: string; offset?: number } | undefined {
    const id = this.findByName(name, BTF_KIND.VAR)[0];
    if (id === undefined) return undefined;
    const t = this.type(id)!;
    for (const ds of this.findDatasecs()) {
      const dt = this.type(ds)!;
      const v = dt.vars!.find((x) => x.type === id);
      if (v) return { id, type: t.type!, section: dt.name, offset: v.offset };
    }
    return { id, type: t.type! };
  }

  private datasecs?: number[];
  private findDatasecs(): number[] {
    if (!this.datasecs) {
      this.datasecs = [];
      for (let id = 1; id < this.typeOffsets.length; id++) if (this.kindOf(id) === BTF_KIND.DATASEC) this.datasecs.push(id);
    }
    return this.datasecs;
  }

  /** Value of an enumerator, searching every enum (or one named enum). */
  enumValue(name: string, enumName?: string): bigint | undefined {
    const ids = enumName ? this.findByName(enumName) : Array.from({ length: this.count - 1 }, (_, i) => i + 1);
    for (const id of ids) {
      const k = this.kindOf(id);
      if (k !== BTF_KIND.ENUM && k !== BTF_KIND.ENUM64) continue;
      const v = this.type(id)!.enumValues!.find((e) => e.name === name);
      if (v) return v.value;
    }
    return undefined;
  }

  /** A C-like name for a type id, for messages ("struct task_struct *", "int"). */
  typeName(id: number, depth = 0): string {
    if (id === 0) return 'void';
    if (depth > 16) return '...';
    const t = this.type(id);
    if (!t) return `<bad type ${id}>`;
    switch (t.kind) {
      case BTF_KIND.PTR:
        return `${this.typeName(t.type!, depth + 1)} *`;
      case BTF_KIND.ARRAY:
        return `${this.typeName(t.array!.type, depth + 1)}[${t.array!.nelems}]`;
      case BTF_KIND.STRUCT:
      case BTF_KIND.UNION:
      case BTF_KIND.ENUM:
      case BTF_KIND.ENUM64:
        return `${t.kind === BTF_KIND.UNION ? 'union' : t.kind === BTF_KIND.STRUCT ? 'struct' : 'enum'} ${t.name || '<anon>'}`;
      case BTF_KIND.CONST:
        return `const ${this.typeName(t.type!, depth + 1)}`;
      case BTF_KIND.VOLATILE:
        return `volatile ${this.typeName(t.type!, depth + 1)}`;
      default:
        return t.name || t.kindName;
    }
  }
}

// Typed reads through BTF: a value of a known kernel type at a known address, with member,
// element and pointer navigation (`object('init_task').member('comm').string()`), in the manner
// of drgn's Object. Kernel BTF describes every struct but names the type of per-CPU variables
// only, so a global's type comes from the caller, or from the short list below.

import { InputError } from '../util/errors.js';
import { BTF_KIND, type Btf } from './btf.js';
import { formatBtfValue, scalarInt } from './percpu-path.js';

/** A name or a type that is not in this kernel's symbols or BTF. */
export class LookupError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'LookupError';
  }
}

export interface ObjectMemory {
  readVirtual(vaddr: bigint, len: number): Buffer;
  readCString(vaddr: bigint, max?: number): string;
}

/**
 * Globals whose type BTF cannot tell (it has VARs for per-CPU variables only) and which a
 * diagnosis reaches for first; any other global needs the type spelled out.
 */
export const KNOWN_GLOBAL_TYPES: Readonly<Record<string, string>> = {
  init_task: 'struct task_struct',
  init_mm: 'struct mm_struct',
  init_pid_ns: 'struct pid_namespace',
  init_nsproxy: 'struct nsproxy',
  init_uts_ns: 'struct uts_namespace',
  jiffies: 'unsigned long',
  jiffies_64: 'u64',
  nr_cpu_ids: 'unsigned int',
  panic_cpu: 'atomic_t',
  modules: 'struct list_head',
};

/** A BTF type id from C-ish text: "struct task_struct", "unsigned long", "u64", "struct rq *". */
export function parseTypeName(btf: Btf, text: string): number {
  const m = /^\s*(?:(struct|union|enum)\s+)?([A-Za-z_][A-Za-z0-9_ ]*?)\s*(\**)\s*$/.exec(text);
  if (!m) throw new LookupError(`not a type name: ${JSON.stringify(text.slice(0, 60))}`);
  const [, tag, name, stars] = m;
  const kinds: number[] =
    tag === 'struct' ? [BTF_KIND.STRUCT] : tag === 'union' ? [BTF_KIND.UNION] : tag === 'enum' ? [BTF_KIND.ENUM, BTF_KIND.ENUM64]
      : [BTF_KIND.INT, BTF_KIND.TYPEDEF, BTF_KIND.FLOAT];
  const candidates = btf.findByName(name.replace(/\s+/g, ' ')).filter((id) => kinds.includes(btf.kindOf(id)));
  // A complete definition over a forward declaration (size 0 structs come from those).
  let id = candidates.find((c) => (btf.sizeOfId(c) ?? 0) > 0) ?? candidates[0];
  if (id === undefined) throw new LookupError(`type ${text.trim()} is not in the kernel's BTF`);
  for (let i = 0; i < stars.length; i++) id = pointerTo(btf, id);
  return id;
}

/** The PTR type to `target`; kernel BTF has one for nearly every type that is pointed to. */
function pointerTo(btf: Btf, target: number): number {
  for (let id = 1; id < btf.count; id++) {
    if (btf.kindOf(id) === BTF_KIND.PTR && btf.type(id)?.type === target) return id;
  }
  throw new LookupError(`BTF has no pointer type to ${btf.typeName(target)}`);
}

export type ObjectKind = 'int' | 'bool' | 'char' | 'pointer' | 'array' | 'struct' | 'union' | 'enum' | 'float' | 'other';

/**
 * A value of a BTF type at a kernel virtual address. Nothing is read until a value is asked for;
 * reads of memory the dump does not hold throw DumpReadError.
 */
export class KernelObject {
  constructor(
    private readonly btf: Btf,
    private readonly mem: ObjectMemory,
    /** Kernel virtual address of the first byte. */
    readonly address: bigint,
    /** BTF type id (typedefs kept, so `type` reads as the kernel source spells it). */
    readonly typeId: number,
    private readonly bits?: { shift: number; size: number },
    private readonly symbolize?: (addr: bigint) => string | undefined,
  ) {}

  private get resolved(): number {
    return this.btf.resolve(this.typeId);
  }

  /** The type as C spells it: "struct task_struct", "char[16]", "struct mm_struct *". */
  get type(): string {
    return this.btf.typeName(this.typeId);
  }

  /** Size in bytes; 0 for void and incomplete types. */
  get size(): number {
    return this.btf.sizeOfId(this.typeId) ?? 0;
  }

  get kind(): ObjectKind {
    const t = this.btf.type(this.resolved);
    if (!t) return 'other';
    switch (t.kind) {
      case BTF_KIND.INT:
        if (t.int!.encoding & 4 || t.name === '_Bool') return 'bool';
        return t.size === 1 && (t.int!.encoding & 2 || /char$/.test(t.name)) ? 'char' : 'int';
      case BTF_KIND.PTR:
        return 'pointer';
      case BTF_KIND.ARRAY:
        return 'array';
      case BTF_KIND.STRUCT:
        return 'struct';
      case BTF_KIND.UNION:
        return 'union';
      case BTF_KIND.ENUM:
      case BTF_KIND.ENUM64:
        return 'enum';
      case BTF_KIND.FLOAT:
        return 'float';
      default:
        return 'other';
    }
  }

  private at(address: bigint, typeId: number, bits?: { shift: number; size: number }): KernelObject {
    return new KernelObject(this.btf, this.mem, address, typeId, bits, this.symbolize);
  }

  /**
   * A member by name or dotted path with subscripts: `member('comm')`, `member('thread.sp')`,
   * `member('cpus_mask.bits[0]')`. On a pointer, the object pointed to (drgn's `->`).
   */
  member(path: string): KernelObject {
    if (this.kind === 'pointer') return this.deref().member(path);
    const k = this.kind;
    if (k !== 'struct' && k !== 'union') throw new LookupError(`${this.type} has no members (asked for .${path})`);
    const m = this.btf.memberOfType(this.resolved, path);
    if (!m) throw new LookupError(`${this.type} has no member ${path}`);
    const bits = m.bitSize ? { shift: m.bitOffset % 8, size: m.bitSize } : undefined;
    return this.at(this.address + BigInt(m.offset), m.type, bits);
  }

  /** Element `i` of an array, or `ptr[i]` of a pointer. */
  index(i: number): KernelObject {
    if (!Number.isSafeInteger(i)) throw new LookupError(`bad index ${i}`);
    const t = this.btf.type(this.resolved);
    if (t?.kind === BTF_KIND.ARRAY) {
      const a = t.array!;
      if (a.nelems !== 0 && (i < 0 || i >= a.nelems)) throw new LookupError(`index ${i} outside ${this.type}`);
      return this.at(this.address + BigInt(i * (this.btf.sizeOfId(a.type) ?? 0)), a.type);
    }
    if (t?.kind === BTF_KIND.PTR) {
      const target = this.deref();
      return this.at(target.address + BigInt(i * target.size), target.typeId);
    }
    throw new LookupError(`${this.type} is neither an array nor a pointer`);
  }

  /** The object a pointer points to. */
  deref(): KernelObject {
    const t = this.btf.type(this.resolved);
    if (t?.kind !== BTF_KIND.PTR) throw new LookupError(`${this.type} is not a pointer`);
    const p = this.read().readBigUInt64LE(0);
    if (p === 0n) throw new LookupError(`NULL ${this.type} at 0x${this.address.toString(16)}`);
    return this.at(p, t.type!);
  }

  /** The object's bytes (bitfields: the bytes that hold the field). */
  read(): Buffer {
    const n = this.bits ? Math.ceil((this.bits.shift + this.bits.size) / 8) : this.size;
    if (n <= 0) throw new LookupError(`${this.type} has no size to read`);
    return this.mem.readVirtual(this.address, n);
  }

  /**
   * The value of a scalar: integers and enums as a number (a bigint when wider than 32 bits),
   * bool as boolean, pointers as bigint addresses. Structs, unions and arrays throw.
   */
  value(): number | bigint | boolean {
    const k = this.kind;
    if (k === 'pointer') return this.read().readBigUInt64LE(0);
    if (k === 'bool') return this.read().some((b) => b !== 0);
    if (k === 'float') return this.size === 8 ? this.read().readDoubleLE(0) : this.read().readFloatLE(0);
    if (k !== 'int' && k !== 'char' && k !== 'enum') throw new LookupError(`${this.type} is not a scalar: use member(), index() or format()`);
    const t = this.btf.type(this.resolved)!;
    const raw = scalarInt(this.btf, this.typeId, this.read(), this.bits)!;
    const width = this.bits?.size ?? t.size! * 8;
    const signed = t.kind === BTF_KIND.INT ? (t.int!.encoding & 1) !== 0 : t.kindFlag;
    const v = signed ? BigInt.asIntN(width, raw) : raw;
    return width <= 32 ? Number(v) : v;
  }

  /** A char array up to its first NUL, or the NUL-terminated string a char pointer points to. */
  string(max = 4096): string {
    const k = this.kind;
    if (k === 'array') {
      const b = this.read();
      const z = b.indexOf(0);
      return b.toString('utf8', 0, Math.min(z < 0 ? b.length : z, max));
    }
    if (k === 'pointer') {
      const p = this.read().readBigUInt64LE(0);
      if (p === 0n) throw new LookupError(`NULL ${this.type} at 0x${this.address.toString(16)}`);
      return this.mem.readCString(p, max);
    }
    throw new LookupError(`${this.type} is not a string`);
  }

  /** The value as crash's `p` (gdb) prints it: structs in braces, chars quoted, pointers symbolised. */
  format(): string {
    return formatBtfValue(this.btf, this.typeId, this.read(), 0, { symbolize: this.symbolize, topLevel: true }, '', 0, this.bits);
  }
}

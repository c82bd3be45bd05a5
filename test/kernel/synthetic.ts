// Synthetic kernel data for the kernel-layer tests: a BTF writer, a printk ring buffer and
// kallsyms tables laid out as the kernel lays them out.
import { BTF_KIND as K } from '../../src/kernel/btf.js';
import type { KallsymsEncoding, KallsymsTables } from '../../src/kernel/kallsyms.js';
import { LOG_NEWLINE } from '../../src/kernel/printk.js';
import { DumpReadError } from '../../src/vmcore/types.js';

/** A tiny BTF writer, following include/uapi/linux/btf.h. */
export class BtfWriter {
  private strs: string[] = [''];
  private strOff = new Map<string, number>([['', 0]]);
  private strLen = 1;
  private types: Buffer[] = [];

  s(name: string): number {
    let o = this.strOff.get(name);
    if (o === undefined) {
      o = this.strLen;
      this.strOff.set(name, o);
      this.strs.push(name);
      this.strLen += Buffer.byteLength(name) + 1;
    }
    return o;
  }

  /** Add a type; returns its id. */
  t(kind: number, name: string, sizeOrType: number, extra: number[] = [], vlen = 0, kindFlag = false): number {
    const b = Buffer.alloc(12 + extra.length * 4);
    b.writeUInt32LE(this.s(name), 0);
    b.writeUInt32LE((((kindFlag ? 1 : 0) << 31) | (kind << 24) | vlen) >>> 0, 4);
    b.writeUInt32LE(sizeOrType >>> 0, 8);
    extra.forEach((v, i) => b.writeUInt32LE(v >>> 0, 12 + i * 4));
    this.types.push(b);
    return this.types.length;
  }

  struct(kind: number, name: string, size: number, members: [string, number, number][], kindFlag = false): number {
    const extra = members.flatMap(([n, type, off]) => [this.s(n), type, off]);
    return this.t(kind, name, size, extra, members.length, kindFlag);
  }

  build(): Buffer {
    const types = Buffer.concat(this.types);
    const strs = Buffer.from(this.strs.join('\0') + '\0', 'latin1');
    const h = Buffer.alloc(24);
    h.writeUInt16LE(0xeb9f, 0);
    h[2] = 1;
    h.writeUInt32LE(24, 4);
    h.writeUInt32LE(0, 8);
    h.writeUInt32LE(types.length, 12);
    h.writeUInt32LE(types.length, 16);
    h.writeUInt32LE(strs.length, 20);
    return Buffer.concat([h, types, strs]);
  }
}

export function sampleBtf(): Buffer {
  const w = new BtfWriter();
  const int = w.t(K.INT, 'int', 4, [(1 << 24) | 32]); // 1
  const char = w.t(K.INT, 'char', 1, [(2 << 24) | 8]); // 2
  const comm = w.t(K.ARRAY, '', 0, [char, int, 16]); // 3
  const taskPtr = w.t(K.PTR, '', 5); // 4 -> task_struct
  // 5: struct task_struct, kind_flag set: member offsets carry bitfield sizes
  w.struct(
    K.STRUCT,
    'task_struct',
    64,
    [
      ['pid', int, 0],
      ['flags', int, (3 << 24) | 32],
      ['comm', comm, 64],
      ['', 6, 192],
      ['parent', taskPtr, 384],
    ],
    true,
  );
  w.struct(K.UNION, '', 16, [
    ['x', int, 0],
    ['', 7, 0],
  ]); // 6
  w.struct(K.STRUCT, '', 16, [
    ['a', 8, 0],
    ['b', 8, 64],
  ]); // 7
  w.t(K.TYPEDEF, 'u64', 9); // 8
  w.t(K.INT, 'long long unsigned int', 8, [64]); // 9
  w.t(K.ENUM, 'desc_state', 4, [w.s('desc_reserved'), 0, w.s('desc_finalized'), 2, w.s('desc_miss'), -1], 3, true); // 10
  const v = w.t(K.VAR, '__preempt_count', int, [1]); // 11
  w.t(K.DATASEC, '.data..percpu', 0x35000, [v, 0x1fb40, 4], 1); // 12
  const proto = w.t(K.FUNC_PROTO, '', int, [w.s('x'), int], 1); // 13
  w.t(K.FUNC, 'irq_fpu_usable', proto); // 14
  w.t(K.CONST, '', 5); // 15
  w.t(K.FLOAT, 'double', 8); // 16
  w.t(K.DECL_TAG, 'tag', 5, [0xffffffff]); // 17
  w.t(K.TYPE_TAG, 'user', int); // 18
  w.t(K.ENUM64, 'big', 8, [w.s('BIG'), 1, 2], 1); // 19
  w.t(K.FWD, 'fwd_struct', 0); // 20
  w.t(K.VOLATILE, '', int); // 21
  w.struct(K.STRUCT, 'pt_regs', 168, [
    ['r15', 9, 0],
    ['ip', 9, 128 * 8],
  ]); // 22
  w.t(K.RESTRICT, '', taskPtr); // 23
  return w.build();
}


export class Flat {
  readonly buf = Buffer.alloc(0x10000);
  constructor(readonly base: bigint) {}
  readVirtual(vaddr: bigint, len: number): Buffer {
    const o = Number(vaddr - this.base);
    if (o < 0 || o + len > this.buf.length) throw new DumpReadError(`unmapped 0x${vaddr.toString(16)}`);
    return Buffer.from(this.buf.subarray(o, o + len));
  }
  u64(a: bigint, v: bigint) {
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), Number(a - this.base));
  }
  u32(a: bigint, v: number) {
    this.buf.writeUInt32LE(v >>> 0, Number(a - this.base));
  }
  u16(a: bigint, v: number) {
    this.buf.writeUInt16LE(v, Number(a - this.base));
  }
  u8(a: bigint, v: number) {
    this.buf[Number(a - this.base)] = v;
  }
  str(a: bigint, s: string) {
    this.buf.write(s, Number(a - this.base), 'latin1');
  }
}

// The 6.1 x86_64 VMCOREINFO printk entries, as the real dumps carry them.
export const RING_VMCOREINFO = `SYMBOL(prb)=ffffffff82000000
SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(printk_ringbuffer.fail)=80
SIZE(prb_desc_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
SIZE(prb_data_blk_lpos)=16
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
SIZE(prb_data_ring)=32
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
OFFSET(prb_data_ring.head_lpos)=16
OFFSET(prb_data_ring.tail_lpos)=24
SIZE(atomic_long_t)=8
OFFSET(atomic_long_t.counter)=0
`;

export const B = 0xffffffff82000000n;
export const RB = B + 0x100n;
const DESCS = B + 0x1000n;
const INFOS = B + 0x2000n;
const DATA = B + 0x4000n;
const SIZE_BITS = 8; // 256-byte data ring
const COUNT_BITS = 3; // 8 descriptors

const STATE = { reserved: 0n, committed: 1n, finalized: 2n, reusable: 3n };

export function ring() {
  const m = new Flat(B);
  m.u64(B, RB); // prb -> printk_rb_static
  m.u32(RB + 0n, COUNT_BITS);
  m.u64(RB + 8n, DESCS);
  m.u64(RB + 16n, INFOS);
  m.u32(RB + 48n, SIZE_BITS);
  m.u64(RB + 56n, DATA);
  const put = (
    id: bigint,
    state: keyof typeof STATE,
    begin: bigint,
    next: bigint,
    info: { seq: bigint; ts: bigint; textLen: number; level: number; flags: number; caller: number },
    stateId = id,
  ) => {
    const idx = Number(id % 8n);
    const d = DESCS + BigInt(idx * 24);
    m.u64(d, (STATE[state] << 62n) | stateId);
    m.u64(d + 8n, begin);
    m.u64(d + 16n, next);
    const i = INFOS + BigInt(idx * 88);
    m.u64(i, info.seq);
    m.u64(i + 8n, info.ts);
    m.u16(i + 16n, info.textLen);
    m.u8(i + 19n, (info.level << 5) | info.flags);
    m.u32(i + 20n, info.caller);
  };
  const block = (lposIdx: number, id: bigint, text: string) => {
    m.u64(DATA + BigInt(lposIdx), id);
    m.str(DATA + BigInt(lposIdx) + 8n, text);
  };
  const W = 256n; // one wrap of the data ring
  const inf = (n: number, text = '', extra: Partial<{ level: number; flags: number; caller: number }> = {}) => ({
    seq: BigInt(100 + n),
    ts: BigInt(n) * 1_000_000_000n + 2000n,
    textLen: text.length,
    level: extra.level ?? 6,
    flags: extra.flags ?? LOG_NEWLINE,
    caller: extra.caller ?? 50 + n,
  });
  // id 16: reusable (its block, at index 0 of wrap 2, has since been overwritten)
  put(16n, 'reusable', 2n * W, 2n * W + 16n, inf(16, 'gone'));
  // id 17: finalized, regular block at index 24
  block(24, 17n, 'first record!');
  put(17n, 'finalized', 2n * W + 24n, 2n * W + 48n, inf(17, 'first record!', { level: 4 }));
  // id 18: reserved (writer still busy)
  put(18n, 'reserved', 2n * W + 48n, 2n * W + 56n, inf(18, 'x'));
  // id 19: data-less empty line (NO_LPOS)
  put(19n, 'finalized', 3n, 3n, inf(19, ''));
  // id 20: committed, multi-line, from CPU 1 (caller id bit 31)
  block(56, 20n, 'multi\nline');
  put(20n, 'committed', 2n * W + 56n, 2n * W + 80n, inf(20, 'multi\nline', { caller: 0x80000001 }));
  // id 21: FAILED_LPOS: text lost
  put(21n, 'finalized', 1n, 1n, inf(21, 'lost!'));
  // id 22: wraps: begins at index 240 of wrap 2, stored at index 0 of wrap 3
  block(0, 22n, 'wrapped-record!!');
  put(22n, 'finalized', 2n * W + 240n, 3n * W + 24n, inf(22, 'wrapped-record!!', { level: 0 }));
  // id 23: its slot still holds the older id 15: a miss
  put(23n, 'finalized', 3n * W + 24n, 3n * W + 40n, inf(23, 'stale'), 15n);
  m.u64(RB + 24n, 23n); // head_id
  m.u64(RB + 32n, 16n); // tail_id
  return m;
}


/** Flat fake kernel memory: one buffer at a base address. */
class FlatK {
  readonly buf = Buffer.alloc(0x40000);
  constructor(readonly base: bigint) {}
  readVirtual(vaddr: bigint, len: number): Buffer {
    const o = Number(vaddr - this.base);
    if (o < 0 || o + len > this.buf.length) throw new DumpReadError(`unmapped 0x${vaddr.toString(16)}+${len}`);
    return Buffer.from(this.buf.subarray(o, o + len));
  }
}

// Token table: index i < 128 is the single character i (printable ASCII); a few multi-character
// tokens live in otherwise unused slots, as scripts/kallsyms.c's compressor would produce.
const MULTI: Record<number, string> = { 1: 'irq_', 2: '_fpu', 3: 'Tpan', 4: '__per_cpu', 5: 'usable' };

function tokenStrings(): string[] {
  const t: string[] = [];
  for (let i = 0; i < 256; i++) t.push(MULTI[i] ?? (i >= 0x21 && i < 0x7f ? String.fromCharCode(i) : '?'));
  return t;
}

function compress(s: string): number[] {
  const out: number[] = [];
  let i = 0;
  outer: while (i < s.length) {
    for (const [k, v] of Object.entries(MULTI)) {
      if (s.startsWith(v, i)) {
        out.push(Number(k));
        i += v.length;
        continue outer;
      }
    }
    out.push(s.charCodeAt(i));
    i++;
  }
  return out;
}

interface Sym {
  type: string;
  name: string;
  addr: bigint;
}

const BASE = 0xffffffff82000000n;
const A = {
  numSyms: BASE + 0x0n,
  relBase: BASE + 0x10n,
  tokenIndex: BASE + 0x100n,
  tokenTable: BASE + 0x400n,
  offsets: BASE + 0x1000n,
  addresses: BASE + 0x3000n,
  names: BASE + 0x8000n,
};

export function buildKallsyms(syms: Sym[], enc: KallsymsEncoding, relativeBase = 0xffffffff81000000n): { mem: FlatK; tables: KallsymsTables } {
  const mem = new FlatK(BASE);
  const w = (a: bigint) => Number(a - BASE);
  mem.buf.writeUInt32LE(syms.length, w(A.numSyms));
  mem.buf.writeBigUInt64LE(relativeBase, w(A.relBase));
  const tokens = tokenStrings();
  let off = 0;
  tokens.forEach((t, i) => {
    mem.buf.writeUInt16LE(off, w(A.tokenIndex) + i * 2);
    mem.buf.write(t + '\0', w(A.tokenTable) + off, 'latin1');
    off += t.length + 1;
  });
  let p = w(A.names);
  syms.forEach((s, i) => {
    const toks = compress(s.type + s.name);
    if (toks.length > 0x7f) {
      mem.buf[p++] = 0x80 | (toks.length & 0x7f);
      mem.buf[p++] = toks.length >> 7;
    } else mem.buf[p++] = toks.length;
    for (const t of toks) mem.buf[p++] = t;
    const o = w(A.offsets) + i * 4;
    switch (enc) {
      case 'absolute':
        mem.buf.writeBigUInt64LE(s.addr, w(A.addresses) + i * 8);
        break;
      case 'absolute-percpu':
        if (s.type === 'A') mem.buf.writeInt32LE(Number(s.addr), o);
        else mem.buf.writeInt32LE(Number(relativeBase - 1n - s.addr), o); // off = base - 1 - addr (< 0)
        break;
      case 'base-relative':
        mem.buf.writeUInt32LE(Number(s.addr - relativeBase), o);
        break;
      case 'pc-relative':
        mem.buf.writeInt32LE(Number(s.addr - (A.offsets + BigInt(i) * 4n)), o);
        break;
    }
  });
  const tables: KallsymsTables = {
    names: A.names,
    numSyms: A.numSyms,
    tokenTable: A.tokenTable,
    tokenIndex: A.tokenIndex,
    ...(enc === 'absolute' ? { addresses: A.addresses } : { offsets: A.offsets }),
    ...(enc === 'absolute-percpu' || enc === 'base-relative' ? { relativeBase: A.relBase } : {}),
  };
  return { mem, tables };
}

export const LONG = 'a_very_long_rust_symbol_' + 'x'.repeat(160); // > 127 tokens: 2-byte length
export const STEXT = 0xffffffff81000000n;

export function kallsymsSample(percpu: boolean): Sym[] {
  const s: Sym[] = [];
  if (percpu) {
    s.push({ type: 'A', name: '__per_cpu_start', addr: 0n });
    s.push({ type: 'A', name: 'in_kernel_fpu', addr: 0x1fb18n });
    s.push({ type: 'A', name: '__preempt_count', addr: 0x1fb40n });
  }
  s.push({ type: 'T', name: '_stext', addr: STEXT });
  s.push({ type: 'T', name: 'startup_64', addr: STEXT });
  s.push({ type: 'T', name: 'irq_fpu_usable', addr: STEXT + 0x406d0n });
  s.push({ type: 't', name: 'local_helper', addr: STEXT + 0x40710n });
  s.push({ type: 'T', name: LONG, addr: STEXT + 0x40800n });
  s.push({ type: 'T', name: 'panic', addr: STEXT + 0x50000n });
  s.push({ type: 't', name: 'dup', addr: STEXT + 0x50100n });
  s.push({ type: 'T', name: 'dup', addr: STEXT + 0x50200n });
  s.push({ type: 'D', name: '__per_cpu_offset', addr: STEXT + 0x1000000n });
  s.push({ type: 'B', name: '_end', addr: STEXT + 0x2000000n });
  return s;
}


import { describe, expect, it } from 'vitest';
import { Btf, BTF_KIND as K } from '../../src/kernel/btf.js';

/** A tiny BTF writer, following include/uapi/linux/btf.h. */
class BtfWriter {
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

function sample(): Buffer {
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

describe('BTF', () => {
  const btf = Btf.parse(sample());

  it('parses every kind', () => {
    expect(btf.count).toBe(24);
    expect(btf.type(14)).toMatchObject({ kindName: 'func', name: 'irq_fpu_usable', type: 13 });
    expect(btf.type(13)?.params).toEqual([{ name: 'x', type: 1 }]);
    expect(btf.type(19)?.enumValues).toEqual([{ name: 'BIG', value: 0x200000001n }]);
    expect(btf.type(10)?.enumValues?.[2]).toEqual({ name: 'desc_miss', value: -1n });
    expect(btf.type(1)?.int).toEqual({ encoding: 1, offset: 0, bits: 32 });
    expect(btf.type(17)).toMatchObject({ kindName: 'decl_tag', extra: 0xffffffff });
    expect(btf.typeName(4)).toBe('struct task_struct *');
    expect(btf.typeName(3)).toBe('char[16]');
    expect(btf.typeName(15)).toBe('const struct task_struct');
  });

  it('finds members by path, through anonymous unions and structs, arrays and bitfields', () => {
    expect(btf.member('task_struct.comm')).toMatchObject({ offset: 8, size: 16 });
    expect(btf.offsetOf('task_struct', 'pid')).toBe(0);
    expect(btf.offsetOf('task_struct', 'x')).toBe(24);
    expect(btf.offsetOf('task_struct', 'b')).toBe(32);
    expect(btf.offsetOf('task_struct', 'comm[3]')).toBe(11);
    expect(btf.member('task_struct', 'flags')).toMatchObject({ bitOffset: 32, bitSize: 3, offset: 4 });
    expect(btf.member('task_struct', 'parent')).toMatchObject({ offset: 48, size: 8 });
    expect(btf.offsetOf('pt_regs', 'ip')).toBe(128);
    expect(btf.offsetOf('task_struct', 'nope')).toBeUndefined();
    expect(btf.offsetOf('no_struct', 'pid')).toBeUndefined();
    expect(btf.offsetOf('task_struct', 'comm[99]')).toBeUndefined();
  });

  it('sizes, variables, enums', () => {
    expect(btf.sizeOf('task_struct')).toBe(64);
    expect(btf.sizeOf('u64')).toBe(8);
    expect(btf.sizeOf('pt_regs')).toBe(168);
    expect(btf.findVar('__preempt_count')).toEqual({ id: 11, type: 1, section: '.data..percpu', offset: 0x1fb40 });
    expect(btf.enumValue('desc_finalized')).toBe(2n);
    expect(btf.enumValue('desc_finalized', 'desc_state')).toBe(2n);
    expect(btf.findByName('fwd_struct', K.FWD)).toEqual([20]);
    expect(btf.resolve(8)).toBe(9);
    expect(btf.resolve(21)).toBe(1);
  });

  it('rejects bad or hostile blobs with one-line errors', () => {
    const good = sample();
    const bad = Buffer.from(good);
    bad.writeUInt16LE(0x1234, 0);
    expect(() => Btf.parse(bad)).toThrow(/not BTF/);
    expect(() => Btf.parse(good.subarray(0, 10))).toThrow(/too short/);
    const long = Buffer.from(good);
    long.writeUInt32LE(0x7fffffff, 12);
    expect(() => Btf.parse(long)).toThrow(/run past/);
    const kind = Buffer.from(good);
    kind.writeUInt32LE(30 << 24, 24 + 4); // type 1: kind 30
    expect(() => Btf.parse(kind)).toThrow(/unknown kind 30/);
    const vlen = Buffer.from(good);
    // task_struct is type 5: make its vlen huge
    let p = 24;
    const sizes = [16, 16, 24, 12];
    for (const s of sizes) p += s;
    vlen.writeUInt32LE((K.STRUCT << 24) | 0xffff, p + 4);
    expect(() => Btf.parse(vlen)).toThrow(/runs past the type section/);
    expect(() => Btf.fromMemory({ readVirtual: () => Buffer.alloc(0) }, 0x2000n, 0x1000n)).toThrow(/implausible BTF bounds/);
  });
});

import { describe, expect, it } from 'vitest';
import { Btf, BTF_KIND as K } from '../../src/kernel/btf.js';
import { sampleBtf as sample } from './synthetic.js';

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

describe('BTF loops', () => {
  it('an array of itself and a typedef cycle end in undefined or a one-line error', async () => {
    const { BtfWriter } = await import('./synthetic.js');
    const w = new BtfWriter();
    w.t(K.INT, 'int', 4, [32]); // 1
    w.t(K.ARRAY, '', 0, [2, 1, 4]); // 2: array of itself
    w.t(K.TYPEDEF, 'a', 4); // 3 -> 4
    w.t(K.TYPEDEF, 'b', 3); // 4 -> 3
    w.struct(K.STRUCT, 's', 8, [
      ['arr', 2, 0],
      ['cyc', 3, 32],
    ]); // 5
    const btf = Btf.parse(w.build());
    expect(btf.sizeOfId(2)).toBeUndefined();
    expect(btf.member('s', 'arr')?.size).toBeUndefined();
    expect(() => btf.sizeOf('a')).toThrow(/too deep/);
  });
});

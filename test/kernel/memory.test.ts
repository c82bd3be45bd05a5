import { describe, expect, it } from 'vitest';
import { KernelMemory, TranslationError } from '../../src/kernel/memory.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { MemDump } from './helpers.js';

const P = 0x1n | 0x2n; // present | rw
const PS = 1n << 7n;
const NX = 1n << 63n;

/** Page tables in a MemDump, root at `root`; tables allocated from `next`. */
class PageTables {
  private nextTable: bigint;
  constructor(
    readonly dump: MemDump,
    readonly root: bigint,
    readonly levels: 4 | 5,
    firstFree = 0x100000n,
  ) {
    this.nextTable = firstFree;
    dump.page(root >> 12n);
  }

  private entry(table: bigint, idx: bigint): bigint {
    return this.dump.readPhysical(table + idx * 8n, 8).readBigUInt64LE(0);
  }

  private table(table: bigint, idx: bigint): bigint {
    const e = this.entry(table, idx);
    if (e & 1n) return e & 0x000ffffffffff000n;
    const t = this.nextTable;
    this.nextTable += 0x1000n;
    this.dump.page(t >> 12n);
    this.dump.writeU64(table + idx * 8n, t | P);
    return t;
  }

  /** Map one page of `size` (4K, 2M, 1G) at vaddr -> paddr. */
  map(vaddr: bigint, paddr: bigint, size: bigint = 0x1000n, extra = 0n): void {
    let t = this.root;
    const leafLevel = size === 0x1000n ? 1 : size === 0x200000n ? 2 : 3;
    for (let level = this.levels; level > leafLevel; level--) {
      const idx = (vaddr >> (12n + 9n * BigInt(level - 1))) & 0x1ffn;
      t = this.table(t, idx);
    }
    const idx = (vaddr >> (12n + 9n * BigInt(leafLevel - 1))) & 0x1ffn;
    this.dump.writeU64(t + idx * 8n, paddr | P | extra | (leafLevel > 1 ? PS : 0n));
  }
}

function setup(levels: 4 | 5, physBase = 0n) {
  const dump = new MemDump();
  // init_top_pgt at image address 0xffffffff82000000 -> physical 0x2000000 + phys_base
  const topV = 0xffffffff82000000n;
  const root = topV - 0xffffffff80000000n + physBase;
  const text = [
    'OSRELEASE=6.1.0-test',
    'PAGESIZE=4096',
    `NUMBER(phys_base)=${physBase}`,
    `SYMBOL(init_top_pgt)=${topV.toString(16)}`,
    `NUMBER(pgtable_l5_enabled)=${levels === 5 ? 1 : 0}`,
    'KERNELOFFSET=1000000',
  ].join('\n');
  const vi = parseVmcoreinfo(text);
  const pt = new PageTables(dump, root, levels);
  return { dump, vi, pt, mem: () => new KernelMemory(dump, vi) };
}

describe('KernelMemory', () => {
  it('translates kernel-image addresses with a negative phys_base', () => {
    const { dump, mem } = setup(4, -0x1000000n);
    dump.write(0x1234000n, Buffer.from('hello image'));
    const m = mem();
    // 0xffffffff82234000 - 0xffffffff80000000 - 0x1000000 = 0x1234000
    expect(m.translate(0xffffffff82234000n)).toBe(0x1234000n);
    expect(m.readCString(0xffffffff82234000n, 64)).toBe('hello image');
    expect(m.translateDetailed(0xffffffff82234000n).via).toBe('image');
  });

  it('walks 4-level tables with 4 KiB, 2 MiB and 1 GiB pages; reads cross pages', () => {
    const { dump, pt, mem } = setup(4);
    // two virtually adjacent 4K pages backed by non-adjacent frames
    pt.map(0xffffc90000001000n, 0x50000n);
    pt.map(0xffffc90000002000n, 0x70000n, 0x1000n, NX);
    dump.write(0x50ffcn, Buffer.from('abcd'));
    dump.write(0x70000n, Buffer.from('efgh'));
    // 2 MiB page
    pt.map(0xffffea0000200000n, 0x400000n, 0x200000n);
    dump.write(0x400000n + 0x12345n, Buffer.from([0x11, 0x22, 0x33, 0x44]));
    // 1 GiB page
    pt.map(0xffff888000000000n, 0x40000000n, 0x40000000n);
    dump.write(0x40000000n + 0x3456780n, Buffer.from([0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0]));
    const m = mem();
    expect(m.translate(0xffffc90000001ffcn)).toBe(0x50ffcn);
    expect(m.readVirtual(0xffffc90000001ffcn, 8).toString()).toBe('abcdefgh');
    expect(m.readU32(0xffffea0000212345n)).toBe(0x44332211);
    const t2 = m.translateDetailed(0xffffea0000212345n);
    expect(t2).toEqual({ paddr: 0x412345n, via: 'page-table', pageSize: 0x200000n });
    expect(m.readU64(0xffff888003456780n)).toBe(0x12345678n);
    expect(m.translateDetailed(0xffff888003456780n).pageSize).toBe(0x40000000n);
  });

  it('ends the direct map where KASLR put vmalloc (4-level, vmalloc 26 TiB above the direct map)', () => {
    // The layout of a real Debian 11 boot: page_offset_base and vmalloc_base 26 TiB apart, so a
    // vmalloc'd task stack lies inside the unrandomized 64 TiB direct-map span.
    const { dump, pt, mem } = setup(4);
    const pob = 0xffff9a4000000000n;
    const vmalloc = pob + (26n << 40n);
    const stack = vmalloc + 0x1234000n;
    pt.map(stack, 0x60000n);
    dump.write(0x60000n, Buffer.from('stack'));
    const m = mem();
    m.setPageOffsetBase(pob);
    // Without the bound the stack would be read at physical 26 TiB + ...
    m.setRegionBase('vmalloc', vmalloc);
    m.setRegionBase('vmemmap', vmalloc + (40n << 40n));
    expect(m.translateDetailed(stack)).toEqual({ paddr: 0x60000n, via: 'page-table', pageSize: 0x1000n });
    expect(m.readCString(stack)).toBe('stack');
    expect(m.translateDetailed(pob + 0x5000n).via).toBe('direct-map');
    expect(m.regionOf(stack)).toBe('vmalloc');
    expect(m.regionOf(pob + 0x5000n)).toBe('direct map');
    expect(m.regionOf(vmalloc + (41n << 40n))).toBe('vmemmap');
    expect(m.regionOf(0xffffffffc0123000n)).toBe('modules');
    expect(m.regionOf(0x7fff00001000n)).toBe('user space');
    expect(m.regionOf(0x0000900000000000n)).toBe('non-canonical');
    // A failed read names the address and the region it was taken for.
    expect(() => m.readU64(stack + 0x10000n)).toThrow(/0xffffb44001244000 \(vmalloc\) is not mapped/);
  });

  it('walks 5-level tables', () => {
    const { dump, pt, mem } = setup(5);
    const v = 0xff11000000003000n; // L5 direct-map region
    pt.map(v, 0x9000n);
    dump.write(0x9000n, Buffer.from('five'));
    const m = mem();
    expect(m.levels).toBe(5);
    expect(m.readCString(v)).toBe('five');
    // The same address under a 4-level reading would not be canonical.
    const m4 = new KernelMemory(dump, parseVmcoreinfo('NUMBER(pgtable_l5_enabled)=0\nSYMBOL(init_top_pgt)=ffffffff82000000\nNUMBER(phys_base)=0'));
    expect(() => m4.translate(v)).toThrow(/not a canonical address/);
  });

  it('refuses a page-table loop instead of following it', () => {
    const { dump, pt, mem } = setup(4);
    const v = 0xffffc90000005000n;
    const pgdIdx = (v >> 39n) & 0x1ffn;
    // PGD entry pointing back at the PGD itself, and the PGD slot for the PUD index too.
    dump.writeU64(pt.root + pgdIdx * 8n, pt.root | P);
    const pudIdx = (v >> 30n) & 0x1ffn;
    dump.writeU64(pt.root + pudIdx * 8n, pt.root | P);
    const m = mem();
    expect(() => m.translate(v)).toThrow(TranslationError);
    expect(() => m.translate(v)).toThrow(/loop/);
  });

  it('reports unmapped addresses and unreadable tables', () => {
    const { dump, pt, mem } = setup(4);
    pt.map(0xffffc90000001000n, 0x50000n);
    const m = mem();
    expect(() => m.translate(0xffffc90000009000n)).toThrow(/not mapped \(PTE/);
    expect(() => m.translate(0xffffd00000000000n)).toThrow(/not mapped \(PGD/);
    // A PUD pointing outside the dump
    const v = 0xffffc98000000000n;
    dump.writeU64(pt.root + ((v >> 39n) & 0x1ffn) * 8n, 0x7fff0000000n | P);
    expect(() => m.translate(v)).toThrow(/unreadable/);
    expect(m.tryU64(v)).toBeUndefined();
  });

  it('uses the direct map once page_offset_base is known, and bounds reads', () => {
    const { dump, mem } = setup(4);
    dump.write(0x3000n, Buffer.from('direct'));
    const m = mem();
    expect(() => m.readCString(0xffff888000003000n)).toThrow();
    m.setPageOffsetBase(0xffff888000000000n);
    expect(m.readCString(0xffff888000003000n)).toBe('direct');
    expect(m.translateDetailed(0xffff888000003000n).via).toBe('direct-map');
    expect(() => m.setPageOffsetBase(0x1234n)).toThrow(/implausible/);
    expect(() => m.readVirtual(0xffff888000003000n, 1e12)).toThrow(/refusing/);
    expect(m.walks).toBe(1);
  });
});

// arm64 address translation on synthetic page tables: every granule (4, 16, 64 KiB) and VA size
// the kernel builds (39, 42, 47, 48, 52 bits), blocks at each level that allows them, the linear
// map and the kernel image, and 52-bit physical addresses in 64K descriptors. The real dump
// (arm64-dump.test.ts) checks 4K/48 against drgn.
import { describe, expect, it } from 'vitest';
import { Arm64Memory, arm64Layout } from '../../src/kernel/arch/arm64/memory.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { MemDump } from './helpers.js';

const KIMAGE_VOFFSET = 0xffff7fffc8000000n; // image 0xffff800008000000 at physical 0x40000000

function setup(pageSize: number, vaBits: number, opts: { t1sz?: number; physBits?: number } = {}) {
  const dump = new MemDump();
  const pgdVirt = 0xffff800009000000n;
  const vi = parseVmcoreinfo([
    'OSRELEASE=6.1.0-test-arm64',
    `PAGESIZE=${pageSize}`,
    `SYMBOL(swapper_pg_dir)=${pgdVirt.toString(16)}`,
    'SYMBOL(_stext)=ffff800008010000',
    `NUMBER(VA_BITS)=${vaBits}`,
    `NUMBER(kimage_voffset)=0x${KIMAGE_VOFFSET.toString(16)}`,
    'NUMBER(PHYS_OFFSET)=0x40000000',
    `NUMBER(TCR_EL1_T1SZ)=0x${(opts.t1sz ?? 64 - vaBits).toString(16)}`,
    ...(opts.physBits ? [`NUMBER(MAX_PHYSMEM_BITS)=${opts.physBits}`] : []),
    '',
  ].join('\n'));
  const layout = arm64Layout(vi);
  const pgdPhys = pgdVirt - KIMAGE_VOFFSET;
  let nextTable = 0x50000000n;
  const shift = Math.log2(pageSize);
  const stride = shift - 3;
  const tables = new Map<string, bigint>();
  /** Map vaddr -> paddr with a leaf at `leafLevel` (0 = top). */
  const map = (vaddr: bigint, paddr: bigint, leafLevel = layout.levels - 1, raw?: bigint) => {
    let table = pgdPhys;
    for (let level = 0; level < layout.levels; level++) {
      const s = shift + stride * (layout.levels - 1 - level);
      const bits = level === 0 ? layout.translatedBits - s : stride;
      const idx = (vaddr >> BigInt(s)) & ((1n << BigInt(bits)) - 1n);
      if (level === leafLevel) {
        const desc = raw ?? (paddr | (level === layout.levels - 1 ? 3n : 1n));
        dump.writeU64(table + idx * 8n, desc);
        return;
      }
      const key = `${table}:${idx}`;
      let next = tables.get(key);
      if (next === undefined) {
        next = nextTable;
        nextTable += BigInt(pageSize);
        tables.set(key, next);
        dump.writeU64(table + idx * 8n, next | 3n);
      }
      table = next;
    }
  };
  return { dump, vi, layout, map, mem: () => new Arm64Memory(dump, vi) };
}

describe('arm64 layout from VMCOREINFO', () => {
  it.each([
    [4096, 39, 3],
    [4096, 48, 4],
    [16384, 47, 3],
    [16384, 48, 4],
    [65536, 42, 2],
    [65536, 48, 3],
    [65536, 52, 3],
  ])('%i-byte granule, %i-bit VA: %i levels (ARM64_HW_PGTABLE_LEVELS)', (page, va, levels) => {
    expect(setup(page, va).layout.levels).toBe(levels);
  });

  it('PAGE_OFFSET and PAGE_END from VA_BITS; a 52-bit kernel on 48-bit hardware translates 48 bits', () => {
    const l48 = setup(4096, 48).layout;
    expect(l48.pageOffset).toBe(0xffff000000000000n);
    expect(l48.pageEnd).toBe(0xffff800000000000n);
    const l52 = setup(65536, 52, { t1sz: 16 }).layout;
    expect(l52.pageOffset).toBe(0xfff0000000000000n);
    expect(l52.pageEnd).toBe(0xffff800000000000n);
    expect(l52.translatedBits).toBe(48);
    expect(l52.levels).toBe(3);
  });
});

describe('arm64 translation', () => {
  it('linear map and kernel image need no table', () => {
    const { mem } = setup(4096, 48);
    const m = mem();
    expect(m.translateDetailed(0xffff000000123456n)).toMatchObject({ paddr: 0x40123456n, via: 'direct-map' });
    expect(m.translateDetailed(0xffff800008010010n)).toMatchObject({ paddr: 0x40010010n, via: 'image' });
    expect(m.regionOf(0xffff000000001000n)).toBe('linear map');
  });

  for (const [page, va] of [[4096, 39], [4096, 48], [16384, 47], [16384, 48], [65536, 42], [65536, 48], [65536, 52]] as const) {
    it(`${page / 1024}K granule, ${va}-bit VA: pages, then blocks at every level that has them`, () => {
      const { mem, map, layout } = setup(page, va);
      // Above the linear map: vmalloc, modules and the image live there.
      const vmalloc = layout.pageEnd + 0x10000000n + (0x1234n << BigInt(Math.log2(page)));
      map(vmalloc, 0x45670000n * BigInt(page / 4096));
      const m = mem();
      const off = 0x18n;
      expect(m.translateDetailed(vmalloc + off)).toEqual({ paddr: 0x45670000n * BigInt(page / 4096) + off, via: 'page-table', pageSize: BigInt(page) });
      // Blocks: 4K at levels 1 (1 GiB) and 2 (2 MiB); 16K at level 2 (32 MiB); 64K at level 2 (512 MiB).
      const shift = Math.log2(page);
      for (let leaf = layout.levels - 2; leaf >= Math.max(1, layout.levels - 3); leaf--) {
        if (page !== 4096 && leaf < layout.levels - 2) continue;
        const size = 1n << BigInt(shift + (shift - 3) * (layout.levels - 1 - leaf));
        const va2 = (layout.pageEnd + (1n << BigInt(Math.min(layout.translatedBits, 48) - 3))) & ~(size - 1n);
        map(va2, 0x80000000n & ~(size - 1n), leaf);
        expect(mem().translateDetailed(va2 + 0x1234n)).toEqual({ paddr: (0x80000000n & ~(size - 1n)) + 0x1234n, via: 'page-table', pageSize: size });
      }
    });
  }

  it('52-bit physical addresses in a 64K descriptor: PA[51:48] in bits [15:12]', () => {
    const { mem, map } = setup(65536, 52, { physBits: 52 });
    const va = 0xffff800010000000n;
    map(va, 0n, undefined, 0x0000123456780000n | (0x5n << 12n) | 3n);
    expect(mem().translate(va + 8n)).toBe(0x0005123456780008n);
  });

  it('an invalid descriptor, a reserved last-level one, and an address outside the kernel half say so', () => {
    const { mem, map } = setup(4096, 48);
    const va = 0xffff800010000000n;
    map(va, 0n, undefined, 0x41000000n | 1n); // valid, bit 1 clear at the last level: reserved
    const m = mem();
    expect(() => m.translate(va)).toThrow(/reserved level 3 descriptor/);
    expect(() => m.translate(0xffff900000000000n)).toThrow(/is not mapped \(level 0 descriptor 0x0 invalid\)/);
    expect(() => m.translate(0x0000400000000000n)).toThrow(/outside the 48-bit kernel address space/);
  });

  it('refuses a layout it cannot trust', () => {
    expect(() => setup(8192, 48)).toThrow(/not an arm64 granule/);
    expect(() => setup(4096, 50)).toThrow(/VA_BITS\)=50 is not an arm64 configuration/);
  });
});

describe('A64 pc-relative targets for dis', () => {
  it('B, BL, B.cond, CBZ, TBZ, ADR, ADRP from their words', async () => {
    const { arm64PcRelTarget } = await import('../../src/util/disasm.js');
    const pc = 0xffffdec384a35060n;
    expect(arm64PcRelTarget(0x94124315, pc)).toBe(0xffffdec384ec5cb4n); // bl panic (the real dump)
    expect(arm64PcRelTarget(0x17ffffff, pc)).toBe(pc - 4n); // b .-4
    expect(arm64PcRelTarget(0x54000040, pc)).toBe(pc + 8n); // b.eq .+8
    expect(arm64PcRelTarget(0x34000040, pc)).toBe(pc + 8n); // cbz w0, .+8
    expect(arm64PcRelTarget(0x36000040, pc)).toBe(pc + 8n); // tbz w0, #0, .+8
    expect(arm64PcRelTarget(0x10000040, pc)).toBe(pc + 8n); // adr x0, .+8
    expect(arm64PcRelTarget(0xb0000000, pc)).toBe((pc & ~0xfffn) + 0x1000n); // adrp x0, page+1
    expect(arm64PcRelTarget(0xd503201f, pc)).toBeUndefined(); // nop
  });
});

describe('__per_cpu_offset from code (a kernel without CONFIG_KALLSYMS_ALL)', () => {
  it('nr_iowait_cpu() of the Debian 12 arm64 6.1.192 kernel: adrp/add of __per_cpu_offset and runqueues, ldr [x2, w0, sxtw #3], add', async () => {
    const { perCpuOffsetFromCode } = await import('../../src/kernel/arch/arm64/percpu-locate.js');
    const words = [0xaa1e03e9, 0xd503201f, 0xb000df22, 0x91004042, 0xb000b9c1, 0x913e0021, 0xf860d840, 0xd503233f, 0xd50323bf, 0x8b000021, 0xb949e820, 0xd65f03c0];
    const code = Buffer.alloc(words.length * 4);
    words.forEach((w, i) => code.writeUInt32LE(w, i * 4));
    expect(perCpuOffsetFromCode(code, 0xffffdec3842de960n)).toEqual({ perCpuOffset: 0xffffdec385ec3010n, runqueues: 0xffffdec385a17f80n });
    // Without the indexed load there is no per-CPU offset to find.
    expect(perCpuOffsetFromCode(code.subarray(0, 24), 0xffffdec3842de960n)).toBeUndefined();
  });
});

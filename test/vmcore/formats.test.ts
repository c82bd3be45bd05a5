import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DumpReadError, dumpSummary, ioStats, openDump, openDumpAsync, prepareDecompressors } from '../../src/vmcore/index.js';
import { InputError } from '../../src/util/errors.js';
import {
  flatten, patternPage, prstatusNote, tmpDir, vector, vmcoreinfoNote, writeElf, writeKdump, buildKdump, type Note,
} from './gen.js';

const dir = tmpDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const f = (name: string): string => path.join(dir, name);
const VMCI = 'OSRELEASE=6.1.0-test\nPAGESIZE=4096\nSYMBOL(init_top_pgt)=ffffffff8260a000\n';
const NOTES: Note[] = [
  prstatusNote(97, { rip: 0xffffffff81234567n, rsp: 0xffffc90000123f00n, r15: 15n, gs: 0x2bn, rdx: 0x80110002n }),
  prstatusNote(0, { rip: 0xffffffff81000000n, rsp: 0xffffc90000003000n }),
  { name: 'QEMU', type: 0, desc: Buffer.alloc(0x1b8) },
  vmcoreinfoNote(VMCI),
];

function expectReadError(fn: () => unknown, state: string): DumpReadError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DumpReadError);
    expect((e as DumpReadError).state).toBe(state);
    return e as DumpReadError;
  }
  throw new Error('expected a DumpReadError');
}

describe('ELF64 cores', () => {
  it('QEMU paging:false style: physical PT_LOADs, notes, registers, VMCOREINFO', () => {
    const p = f('qemu.elf');
    writeElf(p, {
      notes: NOTES,
      segments: [
        { paddr: 0n, data: Buffer.concat([patternPage(0), patternPage(1), patternPage(2)]) },
        { paddr: 0x100000n, data: patternPage(0x100) },
      ],
    });
    const d = openDump(p);
    expect(d.info.format).toBe('elf');
    expect(d.info.details.pnXnum).toBe(false);
    expect(d.info.details.producer).toBe('qemu dump-guest-memory');
    expect(d.virtualSegments).toEqual([]);
    expect(d.vmcoreinfo).toBe(VMCI);
    expect(d.notes.map((n) => n.name)).toEqual(['CORE', 'CORE', 'QEMU', 'VMCOREINFO']);
    expect(d.notes[2].desc.length).toBe(0x1b8);
    expect(d.prstatus).toHaveLength(2);
    expect(d.prstatus[0].pid).toBe(97);
    expect(d.prstatus[0].regs.rip).toBe(0xffffffff81234567n);
    expect(d.prstatus[0].regs.rsp).toBe(0xffffc90000123f00n);
    expect(d.prstatus[0].regs.r15).toBe(15n);
    expect(d.prstatus[0].regs.rdx).toBe(0x80110002n);
    expect(d.prstatus[0].regs.gs).toBe(0x2bn);
    expect(Object.keys(d.prstatus[0].regs)).toHaveLength(27);
    expect(d.prstatus[1].index).toBe(1);
    // Reads within and across pages.
    expect(d.readPhysical(4096n + 8n, 8).readBigUInt64LE(0)).toBe(patternPage(1).readBigUInt64LE(8));
    const across = d.readPhysical(4096n - 16n, 32);
    expect(across.subarray(0, 16).equals(patternPage(0).subarray(4080))).toBe(true);
    expect(across.subarray(16).equals(patternPage(1).subarray(0, 16))).toBe(true);
    expect(d.readPhysical(0x100000n, 4096).equals(patternPage(0x100))).toBe(true);
    expect(d.pagesTouched).toEqual(new Set([0n, 1n, 0x100n]));
    expect(d.pageState(0x2000n)).toBe('present');
    expect(d.pageState(0x3000n)).toBe('absent');
    const e = expectReadError(() => d.readPhysical(0x2ff0n, 32), 'absent');
    expect(e.message).toMatch(/0x3000 is not in the dump/);
    expect(e.paddr).toBe(0x3000n);
    d.close();
  });

  it('kdump /proc/vmcore style: virtual addresses exposed as virtualSegments', () => {
    const p = f('kdump.elf');
    writeElf(p, {
      notes: NOTES.filter((n) => n.name !== 'QEMU'),
      segments: [
        { paddr: 0x1000000n, vaddr: 0xffffffff81000000n, data: patternPage(0x1000) },
        { paddr: 0x0n, vaddr: 0xffff888000000000n, data: patternPage(0) },
      ],
    });
    const d = openDump(p);
    expect(d.info.details.producer).toBe('kdump (/proc/vmcore)');
    expect(d.virtualSegments).toEqual([
      { vaddr: 0xffff888000000000n, paddr: 0n, size: 4096n },
      { vaddr: 0xffffffff81000000n, paddr: 0x1000000n, size: 4096n },
    ]);
    expect(d.readPhysical(0x1000000n, 8).readBigUInt64LE(0)).toBe(patternPage(0x1000).readBigUInt64LE(0));
    d.close();
  });

  it('p_filesz < p_memsz reads zeroes past the file part', () => {
    const p = f('zerofill.elf');
    writeElf(p, { segments: [{ paddr: 0x10000n, data: patternPage(0x10).subarray(0, 1024), memsz: 3n * 4096n }] });
    const d = openDump(p);
    expect(d.info.details.zeroFillSegments).toBe(1);
    const b = d.readPhysical(0x10000n, 3 * 4096);
    expect(b.subarray(0, 1024).equals(patternPage(0x10).subarray(0, 1024))).toBe(true);
    expect(b.subarray(1024).every((x) => x === 0)).toBe(true);
    expect(d.pageState(0x12000n)).toBe('present');
    expect(d.pageState(0x13000n)).toBe('absent');
    d.close();
  });

  it('segments that are not page aligned, and overlapping segments (first wins)', () => {
    const p = f('unaligned.elf');
    const a = Buffer.alloc(0x800, 0xaa);
    const b = Buffer.alloc(0x1000, 0xbb);
    writeElf(p, { segments: [{ paddr: 0x5400n, data: a }, { paddr: 0x5800n, data: b }] });
    const d = openDump(p);
    const r = d.readPhysical(0x5400n, 0x800 + 0x1000 - 0x400);
    expect(r.subarray(0, 0x800).every((x) => x === 0xaa)).toBe(true);
    expect(r.subarray(0x800).every((x) => x === 0xbb)).toBe(true);
    expectReadError(() => d.readPhysical(0x5000n, 0x800), 'absent'); // 0x5000..0x5400: uncovered part of a covered page
    d.close();
  });

  it('PN_XNUM: more than 65535 program headers (QEMU paging:true style)', () => {
    const p = f('xnum.elf');
    const n = 66000;
    const segments = [{ paddr: 0n, vaddr: 0xffff888000000000n, data: patternPage(0) }];
    for (let i = 1; i < n; i++) segments.push({ paddr: BigInt(i) * 4096n, vaddr: 0xffffc90000000000n + BigInt(i) * 4096n, data: Buffer.alloc(0), sameAs: 0 } as never);
    writeElf(p, { segments, notes: NOTES });
    const d = openDump(p);
    expect(d.info.details.pnXnum).toBe(true);
    expect(d.info.details.programHeaders).toBe(n + 1);
    expect(d.info.details.loadSegments).toBe(n);
    expect(d.prstatus).toHaveLength(2);
    expect(d.readPhysical(BigInt(n - 1) * 4096n, 16).equals(patternPage(0).subarray(0, 16))).toBe(true);
    expect(d.virtualSegments).toHaveLength(n);
    d.close();
  });

  it('PN_XNUM encoding with a small count is honoured too', () => {
    const p = f('xnum-small.elf');
    writeElf(p, { forceXnum: true, segments: [{ paddr: 0n, data: patternPage(0) }] });
    const d = openDump(p);
    expect(d.info.details.pnXnum).toBe(true);
    expect(d.info.details.loadSegments).toBe(1);
    d.close();
  });

  it('flattened ELF (makedumpfile -F -E) reads like the plain file', () => {
    const p = f('plain-for-flat.elf');
    writeElf(p, { notes: NOTES, segments: [{ paddr: 0x3000n, vaddr: 0xffff888000003000n, data: Buffer.concat([patternPage(3), patternPage(4)]) }] });
    fs.writeFileSync(f('flat.elf'), flatten(fs.readFileSync(p), 777));
    const d = openDump(f('flat.elf'));
    expect(d.info.format).toBe('elf');
    expect(d.info.details.flattened).toBe(true);
    expect(d.prstatus).toHaveLength(2);
    expect(d.virtualSegments).toHaveLength(1);
    expect(d.readPhysical(0x4000n, 4096).equals(patternPage(4))).toBe(true);
    d.close();
  });

  it('file offsets above 4 GiB (sparse file)', () => {
    const p = f('big-offset.elf');
    const off = 5 * 1024 * 1024 * 1024 + 4096;
    writeElf(p, { segments: [{ paddr: 0x7000n, data: patternPage(7) }, { paddr: 0x100000000n, data: patternPage(0x100000), offset: off }] });
    expect(fs.statSync(p).size).toBeGreaterThan(off);
    const d = openDump(p);
    expect(d.readPhysical(0x100000000n, 4096).equals(patternPage(0x100000))).toBe(true);
    expect(d.readPhysical(0x7000n, 4096).equals(patternPage(7))).toBe(true);
    d.close();
    fs.rmSync(p);
  });

  it('the page cache is bounded and pagesTouched counts every page read', () => {
    const p = f('many.elf');
    const pages = 2000;
    writeElf(p, { segments: [{ paddr: 0n, data: Buffer.concat(Array.from({ length: pages }, (_, i) => patternPage(i))) }] });
    const d = openDump(p);
    for (let i = 0; i < pages; i++) expect(d.readPhysical(BigInt(i) * 4096n + 8n, 8).readBigUInt64LE(0)).toBe(patternPage(i).readBigUInt64LE(8));
    expect(d.pagesTouched.size).toBe(pages);
    d.close();
    fs.rmSync(p);
  });
});

describe('kdump-compressed', () => {
  beforeAll(async () => {
    await prepareDecompressors();
  });

  const allCodecs = () => [
    { pfn: 1, codec: 'none' as const, data: patternPage(1) },
    { pfn: 2, codec: 'zlib' as const, data: patternPage(2) },
    { pfn: 3, codec: 'snappy' as const, data: patternPage(3) },
    ...[0, 1, 2, 3, 4].map((i) => ({ pfn: 8 + i, codec: 'lzo' as const, compressed: vector(`page${i}.lzo`), data: vector(`page${i}.bin`) })),
    ...[0, 1, 2, 3, 4].map((i) => ({ pfn: 16 + i, codec: 'zstd' as const, compressed: vector(`page${i}.zst`), data: vector(`page${i}.bin`) })),
    ...[0, 4].map((i) => ({ pfn: 24 + i, codec: 'snappy' as const, compressed: vector(`page${i}.snappy`) })),
    { pfn: 5, state: 'excluded' as const },
    { pfn: 6, state: 'excluded' as const },
  ];

  it('reads raw, zlib, snappy, LZO and zstd pages; excluded vs absent', () => {
    const p = f('codecs.kdump');
    writeKdump(p, { maxMapnr: 64, pages: allCodecs(), notes: NOTES, vmcoreinfoInNotes: true, dumpLevel: 31, physBase: 0xfffffffffb400000n, nrCpus: 2 });
    const d = openDump(p);
    expect(d.info.format).toBe('kdump-compressed');
    expect(d.info.details.headerVersion).toBe(6);
    expect(d.info.details.dumpLevel).toBe(31);
    expect(d.info.details.physBase).toBe('0xfffffffffb400000');
    expect(d.info.details.nrCpus).toBe(2);
    expect(d.info.details.producer).toBe('qemu dump-guest-memory');
    expect([...d.info.compression].sort()).toEqual(['lzo', 'snappy', 'zlib', 'zstd']);
    expect(d.vmcoreinfo).toBe(VMCI);
    expect(d.prstatus.map((x) => x.pid)).toEqual([97, 0]);
    expect(d.prstatus[0].regs.rip).toBe(0xffffffff81234567n);
    for (const pfn of [1, 2, 3]) expect(d.readPhysical(BigInt(pfn) * 4096n, 4096).equals(patternPage(pfn))).toBe(true);
    for (let i = 0; i < 5; i++) {
      expect(d.readPhysical(BigInt(8 + i) * 4096n, 4096).equals(vector(`page${i}.bin`))).toBe(true);
      expect(d.readPhysical(BigInt(16 + i) * 4096n, 4096).equals(vector(`page${i}.bin`))).toBe(true);
    }
    expect(d.readPhysical(24n * 4096n, 4096).equals(vector('page0.bin'))).toBe(true);
    expect(d.readPhysical(28n * 4096n + 100n, 50).equals(vector('page4.bin').subarray(100, 150))).toBe(true);
    expect(d.pageState(5n * 4096n)).toBe('excluded');
    expect(d.pageState(7n * 4096n)).toBe('absent');
    expect(d.pageState(1n * 4096n)).toBe('present');
    expect(d.pageState(1000n * 4096n)).toBe('absent');
    expect(expectReadError(() => d.readPhysical(5n * 4096n + 12n, 4), 'excluded').message).toMatch(/excluded .*dump level 31/);
    expectReadError(() => d.readPhysical(7n * 4096n, 4), 'absent');
    expectReadError(() => d.readPhysical(4096n * 4096n, 4), 'absent');
    // A read spanning a present and an excluded page fails on the excluded one.
    expectReadError(() => d.readPhysical(4n * 4096n, 8192), 'absent');
    expect(dumpSummary(d).format).toBe('kdump-compressed');
    d.close();
  });

  it('makedumpfile header version 1 (no notes) and 3 (VMCOREINFO by offset only)', () => {
    const p1 = f('v1.kdump');
    writeKdump(p1, { headerVersion: 1, maxMapnr: 16, pages: [{ pfn: 3, data: patternPage(3) }] });
    const d1 = openDump(p1);
    expect(d1.vmcoreinfo).toBeNull();
    expect(d1.prstatus).toEqual([]);
    expect(d1.readPhysical(3n * 4096n, 4096).equals(patternPage(3))).toBe(true);
    d1.close();
    const p3 = f('v3.kdump');
    writeKdump(p3, { headerVersion: 3, maxMapnr: 16, notes: [vmcoreinfoNote(VMCI)], vmcoreinfoInNotes: true, pages: [{ pfn: 3, data: patternPage(3) }] });
    const d3 = openDump(p3);
    expect(d3.vmcoreinfo).toBe(VMCI);
    expect(d3.notes).toEqual([]); // v3 has no offset_note
    d3.close();
  });

  it('large max_mapnr: rank over a 2 MiB bitmap is lazy and correct', () => {
    const p = f('big-bitmap.kdump');
    const maxMapnr = 1 << 24; // 64 GiB of 4 KiB pages
    const pfns = [0, 1, 100, 32767, 32768, 32769, 1 << 20, (1 << 24) - 9, (1 << 24) - 1];
    writeKdump(p, { maxMapnr, pages: pfns.map((pfn) => ({ pfn, codec: 'zlib' as const, data: patternPage(pfn) })) });
    const d = openDump(p);
    expect(d.info.details.maxMapnr).toBe(maxMapnr);
    for (const pfn of [...pfns].reverse()) expect(d.readPhysical(BigInt(pfn) * 4096n, 4096).equals(patternPage(pfn))).toBe(true);
    expect(d.pageState(BigInt(1 << 23) * 4096n)).toBe('absent');
    d.close();
    fs.rmSync(p);
  });

  it('block size other than 4096', () => {
    const p = f('bs16k.kdump');
    writeKdump(p, { blockSize: 16384, maxMapnr: 8, pages: [{ pfn: 2, codec: 'zlib', data: patternPage(2, 16384) }] });
    const d = openDump(p);
    expect(d.readPhysical(2n * 16384n, 16384).equals(patternPage(2, 16384))).toBe(true);
    d.close();
  });

  it('64 KiB blocks (QEMU\'s arm64 kdump files): pages read are counted in 4 KiB frames, so trim keeps only those', () => {
    const p = f('bs64k.kdump');
    writeKdump(p, { blockSize: 65536, maxMapnr: 4, pages: [{ pfn: 1, codec: 'zlib', data: patternPage(1, 65536) }] });
    const d = openDump(p);
    // 16 bytes straddling the 4 KiB frames 0x1e and 0x1f of block 1 (0x10000-0x1ffff)
    d.readPhysical(0x1eff8n, 16);
    expect([...d.pagesTouched].sort()).toEqual([0x1en, 0x1fn]);
    d.close();
  });

  it('flattened format (makedumpfile -F, QEMU before 8.2) reads the same as the reassembled file', () => {
    const { buf } = buildKdump({ maxMapnr: 64, pages: allCodecs(), notes: NOTES, vmcoreinfoInNotes: true });
    const p = f('codecs.flat');
    fs.writeFileSync(p, flatten(buf, 700));
    const d = openDump(p);
    expect(d.info.details.flattened).toBe(true);
    expect(d.info.details.flatRecords).toBeGreaterThan(10);
    expect(d.vmcoreinfo).toBe(VMCI);
    expect(d.prstatus).toHaveLength(2);
    for (let i = 0; i < 5; i++) expect(d.readPhysical(BigInt(8 + i) * 4096n, 4096).equals(vector(`page${i}.bin`))).toBe(true);
    expect(d.readPhysical(2n * 4096n, 4096).equals(patternPage(2))).toBe(true);
    expect(d.pageState(5n * 4096n)).toBe('excluded');
    d.close();
  });

  it('openDumpAsync prepares zstd itself', async () => {
    const p = f('zstd.kdump');
    writeKdump(p, { maxMapnr: 8, pages: [{ pfn: 1, codec: 'zstd', compressed: vector('page3.zst') }] });
    const d = await openDumpAsync(p);
    expect(d.readPhysical(4096n, 4096).equals(vector('page3.bin'))).toBe(true);
    d.close();
  });
});

describe('format detection', () => {
  it('names the problem in one line', () => {
    const p = f('junk.bin');
    fs.writeFileSync(p, Buffer.from('hello world, this is not a dump'));
    expect(() => openDump(p)).toThrow(InputError);
    expect(() => openDump(p)).toThrow(/junk\.bin: not a vmcore/);
    expect(() => openDump(f('missing'))).toThrow(/cannot open \(ENOENT\)/);
    fs.writeFileSync(p, Buffer.alloc(0));
    expect(() => openDump(p)).toThrow(/too short/);
    expect(() => openDump(dir)).toThrow(InputError);
  });
});

describe('cost of opening does not grow with memory size', () => {
  it('64 GiB sparse ELF and a kdump with a 64 GiB bitmap: under 64 KiB read at open', () => {
    const p = f('sparse64.elf');
    const ram = 64 * 2 ** 30;
    writeElf(p, { notes: NOTES, segments: [{ paddr: 0n, data: patternPage(0) }] });
    // Grow the one PT_LOAD to 64 GiB of file-backed memory in a sparse file.
    const b = fs.readFileSync(p);
    const off = Number(b.readBigUInt64LE(64 + 56 + 8));
    b.writeBigUInt64LE(BigInt(ram), 64 + 56 + 32);
    b.writeBigUInt64LE(BigInt(ram), 64 + 56 + 40);
    fs.writeFileSync(p, b);
    fs.truncateSync(p, off + ram);
    const before = ioStats.bytes;
    const d = openDump(p);
    expect(ioStats.bytes - before).toBeLessThan(64 * 1024);
    expect(d.readPhysical(BigInt(ram) - 4096n, 4096).every((x) => x === 0)).toBe(true);
    expect(d.readPhysical(0n, 4096).equals(patternPage(0))).toBe(true);
    d.close();
    fs.rmSync(p);

    const k = f('sparse64.kdump');
    writeKdump(k, { maxMapnr: ram / 4096, pages: [{ pfn: 1, data: patternPage(1) }, { pfn: ram / 4096 - 1, codec: 'zlib', data: patternPage(7) }] });
    const before2 = ioStats.bytes;
    const dk = openDump(k);
    expect(ioStats.bytes - before2).toBeLessThan(64 * 1024);
    expect(dk.readPhysical(4096n, 4096).equals(patternPage(1))).toBe(true);
    const before3 = ioStats.bytes;
    expect(dk.readPhysical(BigInt(ram) - 4096n, 4096).equals(patternPage(7))).toBe(true);
    // The rank of the last pfn needs the popcount of the whole 2 MiB bitmap2, read once.
    expect(ioStats.bytes - before3).toBeLessThan(3 * 1024 * 1024);
    const before4 = ioStats.bytes;
    expect(dk.readPhysical(BigInt(ram) - 4096n + 8n, 8).length).toBe(8);
    expect(ioStats.bytes - before4).toBe(0); // page cache
    dk.close();
    fs.rmSync(k);
  });
});

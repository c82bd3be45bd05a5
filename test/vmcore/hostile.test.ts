// Corrupted and hostile dumps: every failure is a one-line InputError (at open) or DumpReadError
// (at read), in bounded time and memory; nothing else escapes.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DumpReadError, openDump, prepareDecompressors, type DumpFile } from '../../src/vmcore/index.js';
import { InputError } from '../../src/util/errors.js';
import { buildKdump, flatten, patternPage, prstatusNote, tmpDir, vector, vmcoreinfoNote, writeElf, type KdumpSpec } from './gen.js';

const dir = tmpDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const f = (name: string): string => path.join(dir, name);

function oneLine(e: unknown): void {
  expect(e instanceof InputError || e instanceof DumpReadError).toBe(true);
  expect((e as Error).message).not.toMatch(/\n/);
}

/** Open and read every page of the first `pages` pfns; returns what happened. */
function exercise(p: string, pages = 40): string {
  let d: DumpFile;
  try {
    d = openDump(p);
  } catch (e) {
    oneLine(e);
    return 'open-error';
  }
  try {
    void d.vmcoreinfo;
    void d.virtualSegments.length;
    for (let i = 0; i < pages; i++) {
      try {
        d.pageState(BigInt(i) * 4096n);
        expect(d.readPhysical(BigInt(i) * 4096n, 4096).length).toBe(4096);
      } catch (e) {
        oneLine(e);
      }
    }
  } finally {
    d.close();
  }
  return 'opened';
}

const NOTES = [prstatusNote(1, { rip: 1n }), vmcoreinfoNote('OSRELEASE=6.1.0\n')];
const KSPEC: KdumpSpec = {
  maxMapnr: 40,
  notes: NOTES,
  vmcoreinfoInNotes: true,
  pages: [
    { pfn: 1, data: patternPage(1) },
    { pfn: 2, codec: 'zlib', data: patternPage(2) },
    { pfn: 3, codec: 'lzo', compressed: vector('page4.lzo') },
    { pfn: 4, codec: 'snappy', data: patternPage(4) },
    { pfn: 5, codec: 'zstd', compressed: vector('page3.zst') },
    { pfn: 6, state: 'excluded' },
  ],
};

describe('zstd before prepareDecompressors()', () => {
  it('is a DumpReadError that says what to call', () => {
    const p = f('zstd-unprepared.kdump');
    fs.writeFileSync(p, buildKdump({ maxMapnr: 8, pages: [{ pfn: 1, codec: 'zstd', compressed: vector('page0.zst') }] }).buf);
    const d = openDump(p);
    expect(() => d.readPhysical(4096n, 8)).toThrow(/prepareDecompressors/);
    d.close();
  });
});

describe('truncation at any point', () => {
  it('ELF core truncated every 61 bytes (and at every header boundary)', () => {
    const p = f('full.elf');
    writeElf(p, { notes: NOTES, segments: [{ paddr: 0n, data: Buffer.concat([patternPage(0), patternPage(1)]) }, { paddr: 0x3000n, data: patternPage(3) }] });
    const full = fs.readFileSync(p);
    const cuts = new Set<number>([0, 1, 3, 4, 16, 63, 64, 65, 64 + 56, 64 + 56 * 3 - 1, 64 + 56 * 3]);
    for (let n = 0; n < full.length; n += 61) cuts.add(n);
    const seen = new Set<string>();
    for (const n of cuts) {
      fs.writeFileSync(f('cut.elf'), full.subarray(0, n));
      seen.add(exercise(f('cut.elf'), 5));
    }
    expect(seen).toEqual(new Set(['open-error', 'opened']));
  });

  it('kdump-compressed truncated every 53 bytes', async () => {
    await prepareDecompressors();
    const { buf } = buildKdump(KSPEC);
    const seen = new Set<string>();
    for (let n = 0; n < buf.length; n += 53) {
      fs.writeFileSync(f('cut.kdump'), buf.subarray(0, n));
      seen.add(exercise(f('cut.kdump'), 8));
    }
    expect(seen).toEqual(new Set(['open-error', 'opened']));
  });

  it('flattened stream truncated every 97 bytes', async () => {
    await prepareDecompressors();
    const flat = flatten(buildKdump(KSPEC).buf, 500);
    for (let n = 0; n < flat.length; n += 97) {
      fs.writeFileSync(f('cut.flat'), flat.subarray(0, n));
      exercise(f('cut.flat'), 8);
    }
  });
});

describe('absurd values', () => {
  function patchElf(mut: (b: Buffer) => void): string {
    const p = f('patched.elf');
    writeElf(p, { notes: NOTES, segments: [{ paddr: 0n, data: patternPage(0) }] });
    const b = fs.readFileSync(p);
    mut(b);
    fs.writeFileSync(p, b);
    return p;
  }

  it('ELF: wrong magic, class, machine, type, phentsize', () => {
    expect(() => openDump(patchElf((b) => b.write('\x7fELG', 0, 'latin1')))).toThrow(/not a vmcore/);
    expect(() => openDump(patchElf((b) => (b[4] = 1)))).toThrow(/not ELF64/);
    expect(() => openDump(patchElf((b) => b.writeUInt16LE(243, 18)))).toThrow(/a dump taken on riscv64 \(ELF e_machine 243\).*reads x86_64 and aarch64 dumps only/);
    expect(() => openDump(patchElf((b) => b.writeUInt16LE(999, 18)))).toThrow(/ELF machine 999 is not x86_64/);
    expect(() => openDump(patchElf((b) => b.writeUInt16LE(2, 16)))).toThrow(/not a core file/);
    expect(() => openDump(patchElf((b) => b.writeUInt16LE(32, 54)))).toThrow(/e_phentsize/);
  });

  it('ELF: huge e_phnum, PN_XNUM without section header, PN_XNUM count absurd', () => {
    expect(() => openDump(patchElf((b) => b.writeUInt16LE(0xfffe, 56)))).toThrow(/past the end of the file/);
    expect(() => openDump(patchElf((b) => b.writeUInt16LE(0xffff, 56)))).toThrow(/PN_XNUM/);
    const p = f('xnum-absurd.elf');
    writeElf(p, { forceXnum: true, segments: [{ paddr: 0n, data: patternPage(0) }] });
    const b = fs.readFileSync(p);
    b.writeUInt32LE(0xffffffff, Number(b.readBigUInt64LE(40)) + 44);
    fs.writeFileSync(p, b);
    expect(() => openDump(p)).toThrow(/implausible/);
  });

  it('ELF: segment offsets past EOF, huge sizes, wrapping addresses, bad notes', () => {
    // PT_LOAD (second phdr) p_offset far past EOF: opens, reads fail as truncated.
    const p1 = patchElf((b) => b.writeBigUInt64LE(1n << 40n, 64 + 56 + 8));
    const d = openDump(p1);
    expect(d.info.details.segmentsPastEof).toBe(1);
    expect(() => d.readPhysical(0n, 8)).toThrow(/truncated/);
    expect(d.pageState(0n)).toBe('absent');
    d.close();
    expect(() => openDump(patchElf((b) => b.writeBigUInt64LE(0xffffffffffff0000n, 64 + 56 + 24)))).toThrow(InputError);
    expect(() => openDump(patchElf((b) => b.writeBigUInt64LE(1n << 62n, 64 + 56 + 40)))).toThrow(InputError);
    // PT_NOTE size huge / note namesz huge.
    expect(() => openDump(patchElf((b) => b.writeBigUInt64LE(1n << 40n, 64 + 32)))).toThrow(InputError);
    const noteOff = (b: Buffer): number => Number(b.readBigUInt64LE(64 + 8));
    expect(() => openDump(patchElf((b) => b.writeUInt32LE(0xfffffff0, noteOff(b))))).toThrow(/runs past the note area/);
    expect(() => openDump(patchElf((b) => b.writeUInt32LE(0xfffffff0, noteOff(b) + 4)))).toThrow(/runs past the note area/);
  });

  it('ELF: many PT_NOTEs pointing at one large area, and a flood of empty notes', () => {
    const p = f('notes-flood.elf');
    const area = Buffer.alloc(2 << 20); // 2 MiB of zero-size notes with a 4-byte name: 16 bytes each
    for (let o = 0; o + 16 <= area.length; o += 16) {
      area.writeUInt32LE(4, o);
      area.writeUInt32LE(0, o + 4);
      area.writeUInt32LE(9, o + 8);
      area.write('ABC', o + 12, 'latin1');
    }
    writeElf(p, { segments: [{ paddr: 0n, data: area }] });
    const b = fs.readFileSync(p);
    // Point the PT_NOTE at the segment data: 131072 notes.
    b.writeBigUInt64LE(b.readBigUInt64LE(64 + 56 + 8), 64 + 8);
    b.writeBigUInt64LE(BigInt(area.length), 64 + 32);
    fs.writeFileSync(p, b);
    expect(() => openDump(p)).toThrow(/more than 100000 notes/);
    // 40 PT_NOTEs of 2 MiB each: refused by the total size limit before reading them all.
    const phs: { paddr: bigint; data: Buffer }[] = [];
    for (let i = 0; i < 40; i++) phs.push({ paddr: BigInt(i) << 24n, data: Buffer.alloc(0) });
    writeElf(p, { segments: [{ paddr: 0n, data: area }, ...phs] });
    const c = fs.readFileSync(p);
    const off = c.readBigUInt64LE(64 + 56 + 8);
    for (let i = 0; i < 41; i++) {
      const h = 64 + i * 56;
      c.writeUInt32LE(4, h);
      c.writeBigUInt64LE(off, h + 8);
      c.writeBigUInt64LE(2n << 20n, h + 32);
    }
    fs.writeFileSync(p, c);
    expect(() => openDump(p)).toThrow(/PT_NOTE segments total more than/);
  });

  it('kdump: bad signature/block size/bitmap_blocks past EOF/sub_hdr_size', () => {
    const patch = (mut: (b: Buffer) => void): string => {
      const { buf } = buildKdump(KSPEC);
      mut(buf);
      fs.writeFileSync(f('patched.kdump'), buf);
      return f('patched.kdump');
    };
    expect(() => openDump(patch((b) => b.write('DISKDUMP', 0, 'latin1')))).toThrow(/old diskdump/);
    expect(() => openDump(patch((b) => b.writeInt32LE(4095, 428)))).toThrow(/block_size/);
    expect(() => openDump(patch((b) => b.writeInt32LE(0, 428)))).toThrow(/block_size/);
    expect(() => openDump(patch((b) => b.writeUInt32LE(0xfffffffe, 436)))).toThrow(/bitmaps .* extend past the end/);
    expect(() => openDump(patch((b) => b.writeUInt32LE(3, 436)))).toThrow(/bitmap_blocks/);
    expect(() => openDump(patch((b) => b.writeInt32LE(0x7fffffff, 432)))).toThrow(/sub_hdr_size/);
    expect(() => openDump(patch((b) => b.writeBigUInt64LE(1n << 50n, 4096 + 56)))).toThrow(InputError); // size_note
    expect(() => openDump(patch((b) => b.writeBigUInt64LE(1n << 62n, 4096 + 48)))).toThrow(InputError); // offset_note
    // max_mapnr_64 larger than the bitmap: clamped to the bitmap, pages beyond are absent.
    const d = openDump(patch((b) => b.writeBigUInt64LE(1n << 40n, 4096 + 96)));
    expect(d.pageState((1n << 30n) * 4096n)).toBe('absent');
    d.close();
  });

  it('kdump: bad page descriptors and pages that expand beyond a block', async () => {
    await prepareDecompressors();
    const cases: [string, (b: Buffer, desc: (pfn: number) => number) => void, RegExp][] = [
      ['offset past EOF', (b, d) => b.writeBigInt64LE(1n << 40n, d(1)), /past the end of the file/],
      ['negative offset', (b, d) => b.writeBigInt64LE(-5n, d(1)), /past the end of the file/],
      ['size > block', (b, d) => b.writeUInt32LE(5000, d(2) + 8), /size 5000 is invalid/],
      ['raw size != block', (b, d) => b.writeUInt32LE(100, d(1) + 8), /size 100 is invalid/],
      ['two codecs', (b, d) => b.writeUInt32LE(3, d(2) + 12), /several codecs/],
      ['empty descriptor', (b, d) => b.fill(0, d(2), d(2) + 16), /empty page descriptor/],
      ['zlib garbage', (b, d) => b.writeUInt32LE(1, d(1) + 12), /zlib/],
      ['raw read as lzo', (b, d) => b.writeUInt32LE(2, d(1) + 12), /lzo/],
      ['raw read as zstd', (b, d) => b.writeUInt32LE(0x20, d(1) + 12), /zstd/],
      ['raw read as snappy', (b, d) => b.writeUInt32LE(4, d(1) + 12), /snappy/],
    ];
    for (const [what, mut, re] of cases) {
      const { buf, layout } = buildKdump(KSPEC);
      mut(buf, (pfn) => layout.descOff.get(pfn) ?? -1);
      fs.writeFileSync(f('desc.kdump'), buf);
      const d = openDump(f('desc.kdump'));
      const pfn = what === 'size > block' || what === 'two codecs' || what === 'empty descriptor' ? 2n : 1n;
      let err: unknown = null;
      try {
        d.readPhysical(pfn * 4096n, 8);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(DumpReadError);
      expect((err as Error).message, what).toMatch(re);
      d.close();
    }
    // Pages that decompress to more than one block.
    const zbig = zlib.deflateSync(Buffer.alloc(8192, 1));
    for (const [codec, compressed] of [['zlib', zbig], ['lzo', vector('big.lzo')], ['snappy', vector('big.snappy')], ['zstd', vector('big.zst')]] as const) {
      fs.writeFileSync(f('bomb.kdump'), buildKdump({ maxMapnr: 8, pages: [{ pfn: 1, codec, compressed }] }).buf);
      const d = openDump(f('bomb.kdump'));
      expect(() => d.readPhysical(4096n, 8), codec).toThrow(DumpReadError);
      d.close();
    }
    // A zlib bomb: 4 MiB of zeroes compressed into less than a page; inflating stops at the block.
    const bomb = zlib.deflateSync(Buffer.alloc(4 << 20));
    expect(bomb.length).toBeLessThan(4096);
    fs.writeFileSync(f('bomb.kdump'), buildKdump({ maxMapnr: 8, pages: [{ pfn: 1, codec: 'zlib', compressed: bomb }] }).buf);
    const d = openDump(f('bomb.kdump'));
    const before = process.memoryUsage().rss;
    expect(() => d.readPhysical(4096n, 8)).toThrow(/zlib/);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
    d.close();
  });

  it('kdump: a bitmap claiming far more dumped pages than the file holds', () => {
    const { buf, layout } = buildKdump({ ...KSPEC, maxMapnr: 8 * 4096 * 8 });
    buf.fill(0xff, layout.bitmap1Off, layout.pdOff); // every pfn "exists" and "was dumped"
    fs.writeFileSync(f('claims.kdump'), buf);
    const d = openDump(f('claims.kdump'));
    expect(d.pageState(30000n * 4096n)).toBe('present');
    const e = (() => {
      try {
        d.readPhysical(30000n * 4096n, 8);
      } catch (err) {
        return err as Error;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(DumpReadError);
    expect(e?.message).toMatch(/past the end of the file/);
    d.close();
  });

  it('flattened: wrong type/version, bad record, overlapping records, not kdump inside', () => {
    const flat = flatten(buildKdump(KSPEC).buf, 500);
    const w = (b: Buffer): string => {
      fs.writeFileSync(f('x.flat'), b);
      return f('x.flat');
    };
    const t = Buffer.from(flat);
    t.writeBigInt64BE(2n, 16);
    expect(() => openDump(w(t))).toThrow(/type 2/);
    const v = Buffer.from(flat);
    v.writeBigInt64BE(9n, 24);
    expect(() => openDump(w(v))).toThrow(/makedumpfile -R/);
    const r = Buffer.from(flat);
    r.writeBigInt64BE(-7n, 4096);
    expect(() => openDump(w(r))).toThrow(/bad record/);
    const o = Buffer.from(flat);
    const second = 4096 + 16 + Number(o.readBigInt64BE(4096 + 8));
    o.writeBigInt64BE(o.readBigInt64BE(4096) + 1n, second); // second record overlaps the first
    expect(() => openDump(w(o))).toThrow(/overlap|makedumpfile -R/);
    const notKdump = flatten(Buffer.alloc(8192, 7), 4096);
    expect(() => openDump(w(notKdump))).toThrow(/neither .* makedumpfile -R out < in/);
  });
});

describe('random corruption', () => {
  it('300 mutated kdump and ELF files: only InputError/DumpReadError', async () => {
    await prepareDecompressors();
    const k = buildKdump(KSPEC).buf;
    writeElf(f('base.elf'), { notes: NOTES, segments: [{ paddr: 0n, data: patternPage(0) }, { paddr: 0x2000n, data: patternPage(2), memsz: 0x3000n }] });
    const e = fs.readFileSync(f('base.elf'));
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const t0 = Date.now();
    for (let i = 0; i < 300; i++) {
      const base = i % 2 ? k : e;
      const b = Buffer.from(base);
      // Hit the headers hard: most mutations in the first 4 KiB and in the metadata blocks.
      const hot = Math.min(b.length, i % 2 ? 5 * 4096 + 200 : 1024);
      for (let j = 0; j < 4; j++) b[rnd(hot)] = rnd(256);
      if (i % 7 === 0) b[rnd(b.length)] = rnd(256);
      fs.writeFileSync(f('mut.bin'), b);
      exercise(f('mut.bin'), 8);
    }
    expect(Date.now() - t0).toBeLessThan(60_000);
  });
});

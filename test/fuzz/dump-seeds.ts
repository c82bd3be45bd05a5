// Seeds for the dump parsers: small pieces cut from the real fixture dumps (headers, notes,
// bitmaps, the first page descriptors; never the whole file) and small generated dumps that carry
// the real notes and every codec. Field lists say where counts, sizes and offsets live.
import fs from 'node:fs';
import path from 'node:path';
import { openDump } from '../../src/vmcore/index.js';
import { buildKdump, encodeNotes, flatten, patternPage, vector, writeElf, type Note } from '../vmcore/gen.js';
import { FIXTURES, readSlice, tempDir, type Field } from './harness.js';
import { REAL_DUMP } from './targets.js';

export const REAL_KDUMP = path.join(FIXTURES, 'vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib');

/** The real dump's notes (VMCOREINFO, 2 x NT_PRSTATUS), as ELF note records. */
export function realNotes(): Note[] {
  const d = openDump(REAL_DUMP);
  const notes = d.notes.map((n) => ({ name: n.name, type: n.type, desc: Buffer.from(n.desc) }));
  d.close();
  return notes;
}

// ---- ELF core

export const ELF_HEADER_FIELDS: Field[] = [
  { off: 32, size: 8 }, // e_phoff
  { off: 40, size: 8 }, // e_shoff
  { off: 54, size: 2 }, // e_phentsize
  { off: 56, size: 2 }, // e_phnum
  { off: 58, size: 2 }, // e_shentsize
  { off: 60, size: 2 }, // e_shnum
];

export function elfFields(seed: Buffer): Field[] {
  const f = [...ELF_HEADER_FIELDS];
  const phoff = Number(seed.readBigUInt64LE(32));
  for (let i = 0; i < 4; i++) {
    const h = phoff + i * 56;
    if (h + 56 > seed.length) break;
    f.push({ off: h, size: 4 }, { off: h + 8, size: 8 }, { off: h + 16, size: 8 }, { off: h + 24, size: 8 }, { off: h + 32, size: 8 }, { off: h + 40, size: 8 });
  }
  // Note headers (namesz, descsz) of the first PT_NOTE.
  const noteOff = Number(seed.readBigUInt64LE(phoff + 8));
  let o = noteOff;
  for (let i = 0; i < 3 && o + 12 <= seed.length; i++) {
    f.push({ off: o, size: 4 }, { off: o + 4, size: 4 }, { off: o + 8, size: 4 });
    o += 12 + ((seed.readUInt32LE(o) + 3) & ~3) + ((seed.readUInt32LE(o + 4) + 3) & ~3);
  }
  return f;
}

let elfCache: Buffer[] | undefined;
/** Real: the first 64 KiB of the trimmed fixture (headers, notes, the first segments). Generated: real notes + small segments. */
export function elfSeeds(): Buffer[] {
  if (elfCache) return elfCache;
  const real = readSlice(REAL_DUMP, 0, 64 * 1024);
  const dir = tempDir('elfseed');
  const p = path.join(dir, 'gen.elf');
  writeElf(p, { notes: realNotes(), segments: [{ paddr: 0n, data: Buffer.concat([patternPage(0), patternPage(1)]) }, { paddr: 0x3000n, data: patternPage(3), memsz: 0x3000n }] });
  const gen = fs.readFileSync(p);
  writeElf(p, { forceXnum: true, segments: [{ paddr: 0n, data: patternPage(0) }] });
  const xnum = fs.readFileSync(p);
  fs.rmSync(dir, { recursive: true, force: true });
  elfCache = [real, gen, xnum];
  return elfCache;
}

// ---- kdump-compressed

export const KDUMP_FIELDS: Field[] = [
  { off: 8, size: 4 }, // header_version
  { off: 424, size: 4 }, // status
  { off: 428, size: 4 }, // block_size
  { off: 432, size: 4 }, // sub_hdr_size
  { off: 436, size: 4 }, // bitmap_blocks
  { off: 440, size: 4 }, // max_mapnr
  { off: 460, size: 4 }, // nr_cpus
  { off: 4096 + 0, size: 8 }, // phys_base
  { off: 4096 + 32, size: 8 }, // offset_vmcoreinfo
  { off: 4096 + 40, size: 8 }, // size_vmcoreinfo
  { off: 4096 + 48, size: 8 }, // offset_note
  { off: 4096 + 56, size: 8 }, // size_note
  { off: 4096 + 64, size: 8 }, // offset_eraseinfo
  { off: 4096 + 72, size: 8 }, // size_eraseinfo
  { off: 4096 + 80, size: 8 }, // start_pfn_64
  { off: 4096 + 88, size: 8 }, // end_pfn_64
  { off: 4096 + 96, size: 8 }, // max_mapnr_64
];

/** Page descriptor fields (offset, size, flags) of the first `n` descriptors at `pdOff`. */
export function descFields(pdOff: number, n: number): Field[] {
  const f: Field[] = [];
  for (let i = 0; i < n; i++) f.push({ off: pdOff + i * 24, size: 8 }, { off: pdOff + i * 24 + 8, size: 4 }, { off: pdOff + i * 24 + 12, size: 4 });
  return f;
}

export interface KdumpSeeds {
  seeds: Buffer[];
  fields: Field[];
  hot: [number, number][];
}

let kdumpCache: KdumpSeeds | undefined;
export function kdumpSeeds(): KdumpSeeds {
  if (kdumpCache) return kdumpCache;
  // Real: header, sub-header with notes, 6 bitmap blocks, ~1100 descriptors (pages lie beyond the cut).
  const real = readSlice(REAL_KDUMP, 0, 64 * 1024);
  const realPd = (1 + real.readInt32LE(432) + real.readUInt32LE(436)) * real.readInt32LE(428);
  const spec = {
    maxMapnr: 40,
    notes: realNotes(),
    vmcoreinfoInNotes: true,
    pages: [
      { pfn: 1, data: patternPage(1) },
      { pfn: 2, codec: 'zlib' as const, data: patternPage(2) },
      { pfn: 3, codec: 'lzo' as const, compressed: vector('page4.lzo') },
      { pfn: 4, codec: 'snappy' as const, data: patternPage(4) },
      { pfn: 5, codec: 'zstd' as const, compressed: vector('page3.zst') },
      { pfn: 6, state: 'excluded' as const },
      { pfn: 7, codec: 'zlib' as const, data: Buffer.alloc(4096) },
    ],
  };
  const gen = buildKdump(spec);
  const seeds = [real, gen.buf];
  kdumpCache = {
    seeds,
    fields: [...KDUMP_FIELDS, ...descFields(realPd, 4), ...descFields(gen.layout.pdOff, 6)],
    hot: [
      [0, 480],
      [4096, 4096 + 104 + 5000],
      [realPd, realPd + 24 * 64],
      [gen.layout.bitmap1Off, gen.layout.dataOff],
    ],
  };
  return kdumpCache;
}

// ---- flattened (makedumpfile -F)

export const FLAT_FIELDS: Field[] = [
  { off: 16, size: 8, be: true }, // type
  { off: 24, size: 8, be: true }, // version
  { off: 4096, size: 8, be: true }, // first record: offset
  { off: 4104, size: 8, be: true }, // first record: size
];

export function flatSeeds(): Buffer[] {
  const k = kdumpSeeds();
  return [flatten(k.seeds[1], 500), flatten(k.seeds[0].subarray(0, 40 * 1024), 4096), flatten(elfSeeds()[1], 1000)];
}

export { encodeNotes };

// kdump-compressed dumps (src/vmcore/kdump.ts: disk_dump_header, kdump_sub_header, bitmaps, page
// descriptors, per-page decompression). Seeds: the first 64 KiB of the real zlib fixture (header,
// sub-header with the real notes, 6 bitmap blocks, the first descriptors) and a generated dump with
// the real notes and one page per codec (raw, zlib, lzo, snappy, zstd, excluded).
// Property: as for ELF cores (see elf-core.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { each, fuzz, mutatedBytes, printCounts, SCALE } from './harness.js';
import { kdumpSeeds } from './dump-seeds.js';
import { checkDump } from './targets.js';

afterAll(printCounts);

describe('fuzz: kdump-compressed', () => {
  const { seeds, fields, hot } = kdumpSeeds();

  it('truncated at every prefix length of the header and sub-header, then every few bytes', async () => {
    const gen = seeds[1];
    const cuts: Buffer[] = [];
    for (let n = 0; n <= gen.length; n += n < 4096 + 104 + 64 ? (SCALE >= 5 ? 1 : 8) : 97) cuts.push(gen.subarray(0, n));
    for (let n = 0; n <= seeds[0].length; n += 509) cuts.push(seeds[0].subarray(0, n));
    const seen = await each('kdump', cuts, checkDump, { ext: 'bin' });
    expect(seen).toEqual(new Set(['ok', 'rejected']));
  });

  it('mutated headers, bitmaps and descriptors', async () => {
    await fuzz('kdump', mutatedBytes(seeds, { hot, fields }), checkDump, { runs: 1500, ext: 'bin' });
  });

  it('absurd integers in many fields at once', async () => {
    await fuzz('kdump', mutatedBytes(seeds, { fields, maxOps: 20 }), checkDump, { runs: 400, ext: 'bin' });
  });
});

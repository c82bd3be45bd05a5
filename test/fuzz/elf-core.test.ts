// ELF core dumps (src/vmcore/elf.ts, notes.ts) through openDump(path): the mutated bytes are
// written to a temp file (never to a fixture). Seeds: the first 64 KiB of the real trimmed fixture
// (81 program headers, real notes), a generated core with the real notes, a PN_XNUM core.
// Property: a DumpFile whose reads give a page or a DumpReadError, or an InputError at open; one
// line; within the time bound.
import { afterAll, describe, expect, it } from 'vitest';
import { each, fuzz, mutatedBytes, printCounts, SCALE } from './harness.js';
import { elfFields, elfSeeds } from './dump-seeds.js';
import { checkDump } from './targets.js';

afterAll(printCounts);

describe('fuzz: ELF core', () => {
  const seeds = elfSeeds();
  const fields = seeds.flatMap((s) => elfFields(s)).filter((f, i, a) => a.findIndex((g) => g.off === f.off && g.size === f.size) === i);

  it('truncated at every prefix length of the headers and notes', async () => {
    const real = seeds[0];
    const end = Number(real.readBigUInt64LE(64 + 8)) + Number(real.readBigUInt64LE(64 + 32)); // end of the notes
    const step = SCALE >= 5 ? 1 : 3;
    const cuts: Buffer[] = [];
    for (let n = 0; n <= end + 64; n += n < 64 + 56 * 2 ? 1 : step) cuts.push(real.subarray(0, n));
    const seen = await each('elf-core', cuts, checkDump, { ext: 'bin' });
    expect(seen).toEqual(new Set(['ok', 'rejected']));
  });

  it('mutated headers, program headers and notes (flips, absurd fields, splices, random bytes)', async () => {
    await fuzz('elf-core', mutatedBytes(seeds, { hot: [[0, 64 + 56 * 4], [4600, 8640]], fields }), checkDump, { runs: 1500, ext: 'bin' });
  });

  it('absurd values in every header field at once', async () => {
    await fuzz('elf-core', mutatedBytes(seeds, { fields, maxOps: 24 }), checkDump, { runs: 400, ext: 'bin' });
  });
});

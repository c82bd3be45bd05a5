// .ko reader and lint-kmod (src/analyzers/kmod: ELF REL reader, relocations, DWARF inline names,
// capstone call graph, probe discovery). Seeds: real modules built from this repository against
// Debian's 6.1 headers (test/fuzz/seeds/ko/README.md): kprobe_mutex.ko with its DWARF, and
// hazard.ko / ftrace_atomic.ko with debug info stripped (small, so mutations hit code and tables).
// Property: a lint result whose text has no control characters, or a one-line InputError, within
// the time bound.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { each, fuzz, mutatedBytes, printCounts, SCALE, type Field } from './harness.js';
import { checkElfModule, checkKmod } from './targets.js';

afterAll(printCounts);

const SEED_DIR = path.join(import.meta.dirname, 'seeds/ko');
const SEEDS = fs
  .readdirSync(SEED_DIR)
  .filter((f) => f.endsWith('.ko'))
  .sort()
  .map((f) => fs.readFileSync(path.join(SEED_DIR, f)));

/** ELF header counts/offsets, then every section header's offset, size, link, info and entsize. */
function koFields(b: Buffer): Field[] {
  const f: Field[] = [
    { off: 40, size: 8 }, // e_shoff
    { off: 58, size: 2 }, // e_shentsize
    { off: 60, size: 2 }, // e_shnum
    { off: 62, size: 2 }, // e_shstrndx
  ];
  const shoff = Number(b.readBigUInt64LE(40));
  const shnum = b.readUInt16LE(60);
  for (let i = 0; i < shnum && shoff + (i + 1) * 64 <= b.length; i++) {
    const h = shoff + i * 64;
    f.push({ off: h, size: 4 }, { off: h + 24, size: 8 }, { off: h + 32, size: 8 }, { off: h + 40, size: 4 }, { off: h + 44, size: 4 }, { off: h + 56, size: 8 });
  }
  return f;
}

/** Header and section table of each seed, where most length fields live. */
function hot(b: Buffer): [number, number][] {
  const shoff = Number(b.readBigUInt64LE(40));
  return [
    [0, 64],
    [shoff, shoff + b.readUInt16LE(60) * 64],
  ];
}

/** File ranges of the sections the linter reads past the header: code, symbols, relocations, data. */
function contents(b: Buffer): [number, number][] {
  const shoff = Number(b.readBigUInt64LE(40));
  const shnum = b.readUInt16LE(60);
  const out: [number, number][] = [];
  for (let i = 1; i < shnum; i++) {
    const h = shoff + i * 64;
    const type = b.readUInt32LE(h + 4);
    const off = Number(b.readBigUInt64LE(h + 24));
    const size = Number(b.readBigUInt64LE(h + 32));
    // PROGBITS (code, data), SYMTAB, RELA
    if ((type === 1 || type === 2 || type === 4) && size > 0) out.push([off, off + size]);
  }
  return out;
}

describe('fuzz: .ko reader and lint-kmod', () => {
  // Field offsets differ per seed, so each seed has its own campaign.
  const small = SEEDS.filter((s) => s.length < 64 * 1024);

  it('truncated at every prefix of the ELF header, then through the file', async () => {
    const s = small[0];
    const cuts: Buffer[] = [];
    for (let n = 0; n <= s.length; n += n < 256 ? 1 : SCALE >= 5 ? 7 : 211) cuts.push(s.subarray(0, n));
    const seen = await each('ko', cuts, checkElfModule, { ext: 'bin' });
    expect(seen.has('rejected')).toBe(true);
  });

  for (const [i, s] of SEEDS.entries()) {
    it(`mutated section table, symbols, relocations and code (seed ${i}, ${s.length} bytes)`, async () => {
      const fields = koFields(s);
      await fuzz('ko', mutatedBytes([s], { hot: hot(s), fields }), checkKmod, { runs: s.length > 64 * 1024 ? 60 : 150, ext: 'bin' });
    });
  }

  for (const [i, s] of SEEDS.entries()) {
    it(`section contents only (symbols, relocations, code, probe structs), headers intact (seed ${i})`, async () => {
      // No field writes and no insert/delete: the layout stays valid so the call-graph and probe
      // analysis run on corrupted symbols, relocation records and instructions.
      const arb = mutatedBytes([s], { hot: contents(s), maxOps: 6 }).filter((b) => b.length === s.length && b.subarray(0, 64).equals(s.subarray(0, 64)));
      await fuzz('ko', arb, checkKmod, { runs: s.length > 64 * 1024 ? 40 : 100, ext: 'bin' });
    });
  }

  it('the reader alone: absurd values in many header fields at once', async () => {
    const s = small[0];
    await fuzz('ko', mutatedBytes([s], { fields: koFields(s), maxOps: 20 }), (b) => checkElfModule(b), { runs: 600, ext: 'bin' });
  });
});

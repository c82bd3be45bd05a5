// Page decompressors (src/vmcore/decompress.ts, lzo.ts): zlib (node:zlib), LZO1X (own decoder),
// snappy, zstd (WebAssembly). Seeds: real compressed pages (test/vmcore/vectors, pages of the real
// dumps compressed by the real tools) mutated, truncated at every length, and random streams.
// Property: exactly one 4096-byte page, or DecompressError/LzoError; no allocation beyond the
// block (RSS bound), within the time bound.
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import snappy from 'snappyjs';
import { afterAll, describe, it } from 'vitest';
import { VECTORS } from '../vmcore/gen.js';
import { each, fuzz, mutatedBytes, printCounts } from './harness.js';
import { checkDecompress, decompressInput } from './targets.js';

afterAll(printCounts);

const vec = (n: string) => fs.readFileSync(path.join(VECTORS, n));
const PAGES = [0, 1, 2, 3, 4].map((i) => vec(`page${i}.bin`));
const SEEDS: Record<'zlib' | 'lzo' | 'snappy' | 'zstd', Buffer[]> = {
  zlib: [...PAGES.map((p) => zlib.deflateSync(p)), zlib.deflateSync(Buffer.alloc(8192, 1)), zlib.deflateSync(Buffer.alloc(1 << 22))],
  lzo: [...[0, 1, 2, 3, 4].map((i) => vec(`page${i}.lzo`)), vec('big.lzo')],
  snappy: [...PAGES.map((p) => Buffer.from(snappy.compress(p))), vec('big.snappy')],
  zstd: [...[0, 1, 2, 3, 4].map((i) => vec(`page${i}.zst`)), vec('big.zst')],
};

describe('fuzz: decompressors', () => {
  for (const codec of ['zlib', 'lzo', 'snappy', 'zstd'] as const) {
    it(`${codec}: every truncation of a real page`, async () => {
      const cuts = SEEDS[codec].slice(0, 2).flatMap((s) => Array.from({ length: s.length + 1 }, (_, n) => decompressInput(codec, s.subarray(0, n))));
      await each('decompress', cuts, checkDecompress, { ext: 'bin' });
    });

    it(`${codec}: mutated real pages`, async () => {
      const arb = mutatedBytes(SEEDS[codec], { maxOps: 6 }).map((b) => decompressInput(codec, b));
      await fuzz('decompress', arb, checkDecompress, { runs: 1500, ext: 'bin' });
    });
  }

  it('random streams for every codec (and raw pages of the wrong size)', async () => {
    const arb = fc.tuple(fc.constantFrom<'none' | 'zlib' | 'lzo' | 'snappy' | 'zstd'>('none', 'zlib', 'lzo', 'snappy', 'zstd'), fc.uint8Array({ maxLength: 5000 })).map(([c, b]) => decompressInput(c, b));
    await fuzz('decompress', arb, checkDecompress, { runs: 2000, ext: 'bin' });
  });

  it('LZO streams built from valid instructions with absurd lengths and distances', async () => {
    // First byte > 17 starts with a literal run; then match/literal opcodes with long zero-run lengths.
    const op = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 15 }), fc.nat({ max: 40 })).map(([t, zeros]) => [t, ...Array(zeros).fill(0), 255]), // long literal run
      fc.tuple(fc.integer({ min: 16, max: 31 }), fc.nat({ max: 255 }), fc.nat({ max: 255 })).map(([a, b, c]) => [a, b, c]), // M4
      fc.tuple(fc.integer({ min: 32, max: 63 }), fc.nat({ max: 20 }), fc.nat({ max: 255 }), fc.nat({ max: 255 })).map(([a, z, b, c]) => [a, ...Array(z).fill(0), b, c]), // M3
      fc.tuple(fc.integer({ min: 64, max: 255 }), fc.nat({ max: 255 })).map(([a, b]) => [a, b]), // M2
      fc.uint8Array({ maxLength: 8 }).map((a) => [...a]),
    );
    const arb = fc.tuple(fc.integer({ min: 18, max: 255 }), fc.array(op, { maxLength: 40 })).map(([first, ops]) => decompressInput('lzo', Uint8Array.from([first, ...Array(Math.max(0, first - 17)).fill(0x41), ...ops.flat(), 17, 0, 0])));
    await fuzz('decompress', arb, checkDecompress, { runs: 2000, ext: 'bin' });
  });
});

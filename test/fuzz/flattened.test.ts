// Flattened makedumpfile streams (src/vmcore/source.ts FlattenedSource): record headers (offset,
// size, big-endian) in front of each piece. Seeds: the generated kdump and ELF cores flattened,
// and the real kdump header piece flattened.
import { afterAll, describe, it } from 'vitest';
import { fuzz, mutatedBytes, printCounts } from './harness.js';
import { FLAT_FIELDS, flatSeeds } from './dump-seeds.js';
import { checkDump } from './targets.js';

afterAll(printCounts);

describe('fuzz: flattened', () => {
  const seeds = flatSeeds();
  // Every record header is a field: walk the first seed's records.
  const fields = [...FLAT_FIELDS];
  let o = 4096;
  const s = seeds[0];
  while (o + 16 <= s.length && fields.length < 60) {
    fields.push({ off: o, size: 8, be: true }, { off: o + 8, size: 8, be: true });
    const n = Number(s.readBigInt64BE(o + 8));
    if (n < 0) break;
    o += 16 + n;
  }

  it('mutated stream headers and record headers', async () => {
    await fuzz('flattened', mutatedBytes(seeds, { hot: [[0, 32], [4096, 4096 + 2048]], fields }), checkDump, { runs: 1000, ext: 'bin' });
  });
});

// `info` draws its two-column table itself when uncoloured and printable ASCII; it must come out
// exactly as cli-table3 (which it falls back to otherwise) draws it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { infoTable } from '../../src/cli/commands/dump-commands.js';
import { table } from '../../src/cli/style.js';

function reference(rows: [string, string][]): string {
  const t = table(['', ''], { colWidths: [18, 92] });
  for (const r of rows) t.push(r);
  return t.toString();
}

describe('info table', () => {
  // Uncoloured whatever the test runner's stdout is: the drawn-here path.
  beforeAll(() => vi.stubEnv('NO_COLOR', '1'));
  afterAll(() => vi.unstubAllEnvs());

  it('matches cli-table3 on long, spaced, empty and cut-at-the-edge values', async () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = 'abc_XYZ019,:;()+-.   ';
    const word = () => Array.from({ length: 1 + rnd(40) }, () => alphabet[rnd(alphabet.length)]).join('');
    const cases: [string, string][][] = [
      [['a', '']],
      [['panicCpuEvidence', 'x'.repeat(90)]],
      [['k', 'x'.repeat(90) + ' y']],
      [['k', 'x'.repeat(91) + '  y  ']],
      [['  lead', '  leading and trailing  ']],
      [['seventeen_chars_k', 'y'.repeat(181)]],
    ];
    for (let i = 0; i < 200; i++) cases.push(Array.from({ length: 1 + rnd(4) }, () => [word(), Array.from({ length: rnd(12) }, word).join(rnd(2) ? ' ' : '   ')] as [string, string]));
    for (const rows of cases) expect(await infoTable(rows), JSON.stringify(rows)).toBe(reference(rows));
  });
});

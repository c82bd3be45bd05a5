// Corpus check: every labelled log in syzkaller's report testdata (see the corpus README).
// Prints the figures; the floors below are what the parser reaches, so a regression fails.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/analyzers/log/index.js';
import { sharedPath } from '../paths.js';

const DIR = sharedPath('corpus/syzkaller-linux-report');

interface Labels { title: string | null; alt: string[]; frame: string | null; corrupted: boolean }

function split(file: string): { labels: Labels; log: string } {
  const text = readFileSync(file, 'latin1');
  const lines = text.split('\n');
  const labels: Labels = { title: null, alt: [], frame: null, corrupted: false };
  let k = 0;
  for (; k < lines.length && lines[k].trim() !== ''; k++) {
    const m = /^([A-Z]+): ?(.*)$/.exec(lines[k]);
    if (!m) continue;
    if (m[1] === 'TITLE') labels.title = m[2].trim();
    else if (m[1] === 'ALT') labels.alt.push(m[2].trim());
    else if (m[1] === 'FRAME') labels.frame = m[2].trim();
    else if (m[1] === 'CORRUPTED') labels.corrupted = true;
  }
  return { labels, log: lines.slice(k + 1).join('\n') };
}

// Floors: the figures reached when this test was written (raise them as the parser improves).
const FLOOR_EXACT = 0.94;
const FLOOR_NOCRASH = 0.985;
const FLOOR_FRAME = 0.73;
// Share of the CORRUPTED labels flagged `corrupted`, and at most this share of the other reports
// flagged (a flag on everything would pass the first floor).
const FLOOR_CORRUPT = 0.87;
const CEIL_FALSE_CORRUPT = 0.012;

describe('syzkaller-linux-report corpus', () => {
  it('matches titles, "no crash" and guilty frames', () => {
    const files = readdirSync(DIR).filter((f) => /^\d+$/.test(f)).sort((a, b) => +a - +b);
    let exact = 0;
    let noCrash = 0;
    let frameTotal = 0;
    let frameOk = 0;
    const misses: string[] = [];
    let corruptLabels = 0; let corruptFlagged = 0; let cleanFlagged = 0; let cleanTotal = 0;
    for (const f of files) {
      const { labels, log } = split(`${DIR}/${f}`);
      const r = parseLog(log).reports[0];
      const got = r ? r.title : null;
      const ok = labels.title === null ? got === null : got === labels.title || labels.alt.includes(got ?? '');
      if (ok) exact++;
      else misses.push(`${f}: want ${labels.title} / got ${got}`);
      if ((labels.title === null) === (got === null)) noCrash++;
      if (labels.title !== null) {
        if (labels.corrupted) { corruptLabels++; if (r?.corrupted) corruptFlagged++; }
        else { cleanTotal++; if (r?.corrupted) cleanFlagged++; }
      }
      if (labels.frame) {
        frameTotal++;
        // `FRAME: corrupted` labels a title `... in corrupted`: no frame could be extracted.
        const gotFrame = r ? r.guiltyFrame ?? (r.corrupted ? 'corrupted' : null) : null;
        if (gotFrame === labels.frame) frameOk++;
      }
    }
    const n = files.length;
    const pct = (x: number, d: number) => `${((100 * x) / d).toFixed(1)}%`;
    console.log(`corpus: ${n} files`);
    console.log(`  exact titles (TITLE or ALT): ${exact}/${n} = ${pct(exact, n)}`);
    console.log(`  "no crash" agreement:        ${noCrash}/${n} = ${pct(noCrash, n)}`);
    console.log(`  guilty frame (FRAME:):       ${frameOk}/${frameTotal} = ${pct(frameOk, frameTotal)}`);
    console.log(`  CORRUPTED labels flagged:   ${corruptFlagged}/${corruptLabels} = ${pct(corruptFlagged, corruptLabels)} (flagged without the label: ${cleanFlagged}/${cleanTotal})`);
    if (process.env.KTRIAGE_CORPUS_MISSES) console.log(misses.join('\n'));
    expect(n).toBeGreaterThanOrEqual(570);
    expect(exact / n).toBeGreaterThanOrEqual(FLOOR_EXACT);
    expect(noCrash / n).toBeGreaterThanOrEqual(FLOOR_NOCRASH);
    expect(frameOk / frameTotal).toBeGreaterThanOrEqual(FLOOR_FRAME);
    expect(corruptFlagged / corruptLabels).toBeGreaterThanOrEqual(FLOOR_CORRUPT);
    expect(cleanFlagged / cleanTotal).toBeLessThanOrEqual(CEIL_FALSE_CORRUPT);
  });
});

// Held-out corpus of real oopses collected from public sources (test/log/realworld/SOURCES.md),
// labelled by hand: the crash function and the frames of the report's own stack. The files are
// split by a hash of their name into a half rules were developed on and a half only measured;
// both are scored and floored here.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/analyzers/log/index.js';
import type { CrashReport } from '../../src/analyzers/report-model.js';

const DIR = fileURLToPath(new URL('./realworld/', import.meta.url));

interface Label { half: 'dev' | 'measure'; kind: string; crashFunction: string | null; frames: string[] }
const LABELS = JSON.parse(readFileSync(`${DIR}labels.json`, 'utf8')) as Record<string, Label>;

/** Base name as labels write it: no ppc64 dot, no `.isra.0`/`.constprop.0`/`.part.1` suffix. */
function base(n: string): string {
  const m = /^\.?([A-Za-z0-9_$]+)/.exec(n);
  return m ? m[1] : n;
}

/** The function the report blames: where the CPU was (crash address), else the guilty frame. */
export function crashFunction(r: CrashReport): string | null {
  const f = r.rip?.function ?? r.guiltyFrame;
  return f ? base(f) : null;
}

function frameNames(r: CrashReport): string[] {
  return r.frames.filter((f) => f.function && !f.unreliable && !f.exceptionRip).map((f) => base(f.function!));
}

function score(half: 'dev' | 'measure') {
  let fnTotal = 0; let fnOk = 0; let frTotal = 0; let frOk = 0;
  const misses: string[] = [];
  for (const [file, l] of Object.entries(LABELS)) {
    if (l.half !== half) continue;
    const r = parseLog(readFileSync(`${DIR}${file}`, 'latin1')).reports[0];
    if (l.crashFunction) {
      fnTotal++;
      const got = r ? crashFunction(r) : null;
      if (got === l.crashFunction) fnOk++;
      else misses.push(`${file}: crash function want ${l.crashFunction} got ${got}`);
    }
    if (l.frames.length) {
      frTotal++;
      const got = r ? frameNames(r) : [];
      if (JSON.stringify(got) === JSON.stringify(l.frames)) frOk++;
      else misses.push(`${file}: frames want ${l.frames.slice(0, 4).join(',')}..(${l.frames.length}) got ${got.slice(0, 4).join(',')}..(${got.length})`);
    }
  }
  return { fnTotal, fnOk, frTotal, frOk, misses };
}

// Floors: what the parser reaches (issue 13 asks 95% crash function, 90% frame lists, both halves).
// Dev 41/42 and 62/65, measure 39/39 and 58/60 when last raised (the dev miss: a lockdep report whose
// acquiring site is down_trylock, labelled so; titles name the held lock's site instead).
const FLOORS = { dev: { fn: 0.97, frames: 0.95 }, measure: { fn: 1.0, frames: 0.96 } };

describe('real-world oops corpus (test/log/realworld)', () => {
  it('is split by file-name hash, not by hand', () => {
    for (const [file, l] of Object.entries(LABELS)) {
      const h = createHash('sha256').update(file).digest()[0] % 2 === 0 ? 'dev' : 'measure';
      expect(l.half, file).toBe(h);
    }
    expect(Object.keys(LABELS).length).toBeGreaterThanOrEqual(100);
  });
  for (const half of ['dev', 'measure'] as const) {
    it(`${half} half: crash function and frame lists`, () => {
      const s = score(half);
      const pct = (x: number, d: number) => `${((100 * x) / d).toFixed(1)}%`;
      console.log(`realworld ${half}: crash function ${s.fnOk}/${s.fnTotal} = ${pct(s.fnOk, s.fnTotal)}, frame lists ${s.frOk}/${s.frTotal} = ${pct(s.frOk, s.frTotal)}`);
      if (process.env.KTRIAGE_CORPUS_MISSES) console.log(s.misses.join('\n'));
      expect(s.fnOk / s.fnTotal).toBeGreaterThanOrEqual(FLOORS[half].fn);
      expect(s.frOk / s.frTotal).toBeGreaterThanOrEqual(FLOORS[half].frames);
    });
  }
});

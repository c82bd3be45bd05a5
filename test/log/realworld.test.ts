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

/** arm64 logs: `arm64-*` files and the lkml ones named so (SOURCES.md). */
const isArm64 = (file: string): boolean => /(?:^|-)arm64-/.test(file);

function score(half: 'dev' | 'measure' | 'arm64') {
  let fnTotal = 0; let fnOk = 0; let frTotal = 0; let frOk = 0;
  const misses: string[] = [];
  for (const [file, l] of Object.entries(LABELS)) {
    if (half === 'arm64' ? !isArm64(file) : l.half !== half) continue;
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
// acquiring site is down_trylock, labelled so; titles name the held lock's site instead). With the
// 17 arm64-* logs (issue 11): dev 49/50 and 69/72, measure 47/47 and 67/68 (before the arm64
// rules, on the same labels: dev 45/50 and 69/72, measure 41/47 and 63/68).
const FLOORS = { dev: { fn: 0.97, frames: 0.95 }, measure: { fn: 1.0, frames: 0.96 }, arm64: { fn: 1.0, frames: 1.0 } };

describe('real-world oops corpus (test/log/realworld)', () => {
  it('is split by file-name hash, not by hand', () => {
    for (const [file, l] of Object.entries(LABELS)) {
      const h = createHash('sha256').update(file).digest()[0] % 2 === 0 ? 'dev' : 'measure';
      expect(l.half, file).toBe(h);
    }
    expect(Object.keys(LABELS).length).toBeGreaterThanOrEqual(100);
  });
  // Issue 11: a dozen real arm64 oopses at least; both halves hold some (the split is the hash's).
  it('holds real arm64 logs in both halves', () => {
    const arm = Object.entries(LABELS).filter(([f]) => isArm64(f));
    expect(arm.filter(([f]) => f.startsWith('arm64-')).length).toBeGreaterThanOrEqual(12);
    expect(new Set(arm.map(([, l]) => l.half)).size).toBe(2);
  });
  // arm64 subset (17 arm64-* and 2 lkml-arm64-* logs): 18/18 and 17/17 (before the arm64 rules:
  // 8/18 and 13/17). Frames with a context other than "unknown": 320/350 (0 before); the rest are
  // frames below an SError or IRQ vector in traces cut before their task's entry, where nothing in
  // the log tells.
  it('arm64 subset: crash function, frame lists and frame contexts', () => {
    const s = score('arm64');
    let known = 0; let total = 0;
    for (const file of Object.keys(LABELS).filter(isArm64)) {
      const r = parseLog(readFileSync(`${DIR}${file}`, 'latin1')).reports[0];
      for (const f of r?.frames ?? []) { total++; if (f.context !== 'unknown') known++; }
    }
    console.log(`realworld arm64: crash function ${s.fnOk}/${s.fnTotal}, frame lists ${s.frOk}/${s.frTotal}, frames with a known context ${known}/${total}`);
    if (process.env.KTRIAGE_CORPUS_MISSES) console.log(s.misses.join('\n'));
    expect(s.fnOk / s.fnTotal).toBeGreaterThanOrEqual(FLOORS.arm64.fn);
    expect(s.frOk / s.frTotal).toBeGreaterThanOrEqual(FLOORS.arm64.frames);
    expect(known / total).toBeGreaterThanOrEqual(0.85);
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

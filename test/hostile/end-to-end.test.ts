// Hostile input, end to end: mutated real fixtures through the same paths the CLI takes
// (console-log analysis, VMCOREINFO, dump open + full vmcore analysis). Decompressors have their
// own corruption tests in test/vmcore/hostile.test.ts.
// fast-check with a fixed seed (reproducible, shrinks failures, runs inside vitest, no native
// agent as a coverage-guided fuzzer would need). Every input must end in a result or a typed
// error, within a time bound. FUZZ_RUNS scales the campaign (npm run fuzz sets it high).
// The per-parser property tests live beside each parser's tests (test/kernel/hostile.test.ts,
// test/vmcore/hostile.test.ts, test/log/bad-input.test.ts, test/unwind/unwinder.test.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { copyFileSync, mkdtempSync, openSync, closeSync, readFileSync, readSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLog } from '../../src/analyzers/log/index.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { openDumpAsync } from '../../src/vmcore/index.js';
import { analyzeOpenDump } from '../../src/analyzers/vmcore-analysis.js';
import { DumpReadError } from '../../src/vmcore/types.js';
import { InputError } from '../../src/util/errors.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const FIX = new URL('../../fixtures/', import.meta.url).pathname;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** Errors a hostile input may legitimately end in: typed, with a one-line message. */
function acceptable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e.message.includes('\n')) return false;
  return e instanceof InputError || e instanceof DumpReadError || e.name.endsWith('Error') && !(e instanceof TypeError) && !(e instanceof RangeError && /Maximum call stack|Invalid array length|Array buffer allocation/.test(e.message));
}

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

describe('console log: mutated real logs', () => {
  const seeds = [readFileSync(join(FIX, 'log-debian-6.1.192-serial/console.log'), 'latin1'), readFileSync(join(FIX, 'log-rhel9-seed/report.zh.txt'), 'utf8')];
  it('always parses, in bounded time, with no control characters in any output string', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 400 }), fc.string({ unit: 'binary', maxLength: 40 })), { maxLength: 12 }),
        (which, edits) => {
          let t = seeds[which];
          for (const [pos, del, ins] of edits) {
            const p = pos % (t.length + 1);
            t = t.slice(0, p) + ins + t.slice(p + del);
          }
          const t0 = performance.now();
          const a = parseLog(t);
          expect(performance.now() - t0).toBeLessThan(10_000); // runaway guard, not a speed test
          for (const s of strings(a.reports)) expect(CONTROL.test(s), JSON.stringify(s)).toBe(false);
        },
      ),
      { numRuns: 60 * RUNS, seed: SEED },
    );
  });
});

describe('VMCOREINFO: mutated real note text', () => {
  it('parses or rejects lines, never throws', async () => {
    const dump = await openDumpAsync(join(FIX, 'vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib'));
    const text = dump.vmcoreinfo ?? '';
    dump.close();
    expect(text).toContain('OSRELEASE=');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat({ max: 30 }), fc.string({ maxLength: 30 })), { maxLength: 20 }), (edits) => {
        let t = text;
        for (const [pos, del, ins] of edits) {
          const p = pos % (t.length + 1);
          t = t.slice(0, p) + ins + t.slice(p + del);
        }
        parseVmcoreinfo(t);
      }),
      { numRuns: 300 * RUNS, seed: SEED },
    );
  });
});

/**
 * Mutate a copy of a real dump in place (headers, notes, bitmaps, descriptors: the first 256 KiB,
 * plus random positions), run the whole vmcore analysis, restore the bytes. The analysis must end
 * in a diagnosis (possibly with notes on what is missing) or a typed one-line error.
 */
function dumpCampaign(name: string, file: string, runs: number) {
  const src = join(FIX, file);
  it(`${name}: mutated headers, notes and page index`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktriage-hostile-'));
    const copy = join(dir, 'dump');
    copyFileSync(src, copy);
    const size = readFileSync(src).length;
    const cases = fc.sample(
      fc.array(fc.tuple(fc.oneof(fc.nat({ max: 262143 }), fc.nat({ max: size - 1 })), fc.uint8Array({ minLength: 1, maxLength: 8 })), { minLength: 1, maxLength: 6 }),
      { numRuns: runs, seed: SEED },
    );
    let diagnosed = 0;
    let rejected = 0;
    for (const edits of cases) {
      const fd = openSync(copy, 'r+');
      const saved = edits.map(([pos, bytes]) => {
        const old = Buffer.alloc(bytes.length);
        const n = readSync(fd, old, 0, bytes.length, pos);
        writeSync(fd, bytes, 0, Math.min(n, bytes.length), pos);
        return [pos, old.subarray(0, n)] as const;
      });
      closeSync(fd);
      const t0 = performance.now();
      try {
        const dump = await openDumpAsync(copy);
        try {
          const d = await analyzeOpenDump(dump, copy);
          for (const s of strings([d.reports, d.cpus, d.notes])) expect(CONTROL.test(s), JSON.stringify(s)).toBe(false);
          diagnosed++;
        } finally {
          dump.close();
        }
      } catch (e) {
        expect(acceptable(e), `${String(e)} for edits ${JSON.stringify(edits.map(([p, b]) => [p, Array.from(b)]))}`).toBe(true);
        rejected++;
      }
      expect(performance.now() - t0).toBeLessThan(20_000);
      const fd2 = openSync(copy, 'r+');
      for (const [pos, old] of [...saved].reverse()) writeSync(fd2, old, 0, old.length, pos);
      closeSync(fd2);
    }
    console.log(`[hostile] ${name}: ${cases.length} mutated dumps: ${diagnosed} diagnosed, ${rejected} rejected with a typed error`);
  });
}

describe('vmcore analysis on mutated real dumps', () => {
  dumpCampaign('kdump-compressed (zlib)', 'vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib', 12 * RUNS);
  dumpCampaign('trimmed ELF', 'vmcore-debian-6.1.192-buggy-2cpu/trimmed/vmcore.trimmed.elf', 12 * RUNS);
});

// Console-log parser (src/analyzers/log): mutated real logs and generated oopses with hostile
// fields. Property: a result within the time bound, and no control character or escape sequence in
// any string of the result. See harness.ts for why fast-check and how to scale the campaign.
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { sharedPath } from '../paths.js';
import { FIXTURES, fuzz, mutatedText, printCounts } from './harness.js';
import { oopsFields, oopsText } from './log-gen.js';
import { checkAnalyzeLog, checkCodeLine, checkLog } from './targets.js';

const CORPUS = sharedPath('corpus/syzkaller-linux-report');

/** Real logs: the fixtures, plus a fixed sample of the syzkaller corpus. */
function seeds(): string[] {
  const s = [
    fs.readFileSync(path.join(FIXTURES, 'log-debian-6.1.192-serial/console.log'), 'latin1'),
    fs.readFileSync(path.join(FIXTURES, 'log-rhel9-seed/report.zh.txt'), 'utf8'),
    fs.readFileSync(path.join(FIXTURES, 'vmcore-debian-6.1.192-buggy-2cpu/serial.log'), 'latin1'),
  ];
  const names = fs.readdirSync(CORPUS).sort();
  for (let i = 0; i < names.length; i += 37) {
    const t = fs.readFileSync(path.join(CORPUS, names[i]), 'latin1');
    if (t.length < 200_000) s.push(t);
  }
  return s;
}

const SEEDS = seeds();
const json = (t: string) => JSON.stringify(t);

afterAll(printCounts);

describe('fuzz: console log', () => {
  it('mutated real logs (splices, deletions, injected escapes, random text)', async () => {
    await fuzz('log', mutatedText(SEEDS), checkLog, { runs: 600, ext: 'json', encode: json });
  });

  it('generated oopses with escape sequences in Comm, modules, WARN files, task names', async () => {
    await fuzz('log', oopsFields.map(oopsText), checkLog, { runs: 800, ext: 'json', encode: json });
  });

  it('random bytes as latin1 and as UTF-8', async () => {
    const arb = fc.tuple(fc.uint8Array({ maxLength: 4096 }), fc.boolean()).map(([b, u]) => Buffer.from(b).toString(u ? 'utf8' : 'latin1'));
    await fuzz('log', arb, checkLog, { runs: 400, ext: 'json', encode: json });
  });

  it('pathological lines: very long, many frames, many reports', async () => {
    const arb = fc
      .tuple(fc.constantFrom('WARNING: ', ' foo+0x1/0x2', 'Call Trace:\n', ' <TASK>\n', '[ 1.0] ', 'Code: 90 ', 'BUG: ', '\n', 'x'), fc.integer({ min: 1, max: 60_000 }), oopsFields)
      .map(([unit, n, f]) => unit.repeat(n) + '\n' + oopsText(f));
    await fuzz('log', arb, checkLog, { runs: 20, ext: 'json', encode: json });
  });

  it('analyzeLog: Code: lines disassembled (capstone) on generated oopses', async () => {
    await fuzz('log', oopsFields.map(oopsText), checkAnalyzeLog, { runs: 40, ext: 'json', encode: json });
  });

  it('decodeCodeLine: any byte text', async () => {
    const arb = fc.oneof(
      fc.array(fc.oneof(fc.stringMatching(/^[0-9a-f]{2}$/), fc.stringMatching(/^<[0-9a-f]{2}>$/), fc.stringMatching(/^\([0-9a-f]{2,4}\)$/), fc.string({ maxLength: 3 })), { maxLength: 80 }).map((a) => 'Code: ' + a.join(' ')),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    await fuzz('code-line', arb, checkCodeLine, { runs: 400, ext: 'json', encode: json });
  });
});

// What reaches the terminal: the CLI run in process (stdout/stderr captured, not a TTY) on hostile
// console logs, small hostile dumps and kernel modules, with every output format. Property (checkCliRun): exit
// code 0, 1 or 2, or 4/5 (partial result) with the output saying the dump is incomplete; no C0/C1 control character or ESC anywhere in stdout or stderr; on exit 2
// exactly one stderr line and no "internal error"; --json parses; --markdown fences balance
// (text from the input cannot close a code block early and break out into Markdown).
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { FIXTURES, fuzz, mutatedBytes, mutatedText, NASTY, printCounts } from './harness.js';
import { kdumpSeeds } from './dump-seeds.js';
import { oopsFields, oopsText } from './log-gen.js';
import { checkCliBytes } from './targets.js';

afterAll(printCounts);

const LOGS = [
  fs.readFileSync(path.join(FIXTURES, 'log-debian-6.1.192-serial/console.log'), 'latin1'),
  fs.readFileSync(path.join(FIXTURES, 'log-rhel9-seed/report.zh.txt'), 'utf8'),
];

/** The seed log with hostile text in the fields a report copies out (Comm, module, WARN file). */
function poisoned(t: string, nasty: string): string {
  return t
    .replace(/Comm: (\S+)/g, `Comm: $1${nasty}`)
    .replace(/\[(hazard|async_memory_reclaim_for_cold_file_area)\]/g, `[$1${nasty}]`)
    .replace(/at (\S+\.c):(\d+)/g, `at $1${nasty}:$2`)
    .replace(/Kernel panic - not syncing: /g, `Kernel panic - not syncing: ${nasty}`);
}

describe('fuzz: CLI output is terminal-safe', () => {
  it('real logs with escape sequences in Comm, module names, WARN files and the panic line', async () => {
    const arb = fc.tuple(fc.nat({ max: LOGS.length - 1 }), fc.array(fc.constantFrom(...NASTY), { minLength: 1, maxLength: 3 })).map(([i, n]) => Buffer.from(poisoned(LOGS[i], n.join('')), 'utf8'));
    await fuzz('cli', arb, checkCliBytes, { runs: 25, ext: 'bin' });
  });

  it('mutated real logs', async () => {
    await fuzz('cli', mutatedText(LOGS).map((t) => Buffer.from(t, 'latin1')), checkCliBytes, { runs: 25, ext: 'bin' });
  });

  it('generated oopses with hostile fields', async () => {
    await fuzz('cli', oopsFields.map((f) => Buffer.from(oopsText(f), 'utf8')), checkCliBytes, { runs: 40, ext: 'bin' });
  });

  it('mutated kernel modules (section contents: symbols, strings, relocations)', async () => {
    const dir = path.join(import.meta.dirname, 'seeds/ko');
    const ko = fs.readdirSync(dir).filter((f) => f.endsWith('.ko')).sort().map((f) => fs.readFileSync(path.join(dir, f)));
    await fuzz('cli', mutatedBytes(ko, { maxOps: 4 }), checkCliBytes, { runs: 20, ext: 'bin' });
  });

  it('mutated small dumps (real kdump header and notes, generated pages)', async () => {
    const { seeds, fields, hot } = kdumpSeeds();
    await fuzz('cli', mutatedBytes(seeds, { hot, fields }), checkCliBytes, { runs: 40, ext: 'bin' });
  });
});

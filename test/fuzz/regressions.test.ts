// Replays every input a fuzz campaign ever saved (test/fuzz/regressions/<parser>/): each must now
// give a result or a typed one-line error within the bounds, like any campaign input. A failing
// input found by `npm run fuzz` is written there automatically; commit it with the fix.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guarded, REGRESSIONS, regressionInputs } from './harness.js';
import { checkCodeLine, checkDecompress, checkDump, checkKallsyms, checkBtf, checkPrintk, checkPageTables, checkKmod, checkLog, checkVmcoreinfo, checkVmcoreAnalysis, checkCliBytes, checkSystemMap, checkVmlinux, checkUnwind } from './targets.js';

const text = (b: Buffer): string => JSON.parse(b.toString('utf8')) as string;
const json = (b: Buffer): string => b.toString('utf8');

/** Parser folder -> the check its campaign runs, applied to the saved bytes. */
const REPLAY: Record<string, (b: Buffer) => unknown> = {
  log: (b) => checkLog(text(b)),
  'code-line': (b) => checkCodeLine(text(b)),
  vmcoreinfo: (b) => checkVmcoreinfo(text(b)),
  'elf-core': checkDump,
  kdump: checkDump,
  flattened: checkDump,
  decompress: checkDecompress,
  kallsyms: (b) => checkKallsyms(json(b)),
  printk: (b) => checkPrintk(json(b)),
  btf: (b) => checkBtf(json(b)),
  'page-tables': (b) => checkPageTables(json(b)),
  'vmcore-analysis': (b) => checkVmcoreAnalysis(json(b)),
  ko: checkKmod,
  cli: checkCliBytes,
  unwind: (b) => checkUnwind(json(b)),
  'system-map': (b) => checkSystemMap(text(b)),
  vmlinux: checkVmlinux,
};

describe('fuzz regressions: every saved input replays cleanly', () => {
  const dirs = fs.existsSync(REGRESSIONS) ? fs.readdirSync(REGRESSIONS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];

  it('every regressions folder belongs to a known campaign', () => {
    expect(dirs.filter((d) => !(d in REPLAY))).toEqual([]);
  });

  for (const parser of dirs.filter((d) => d in REPLAY).sort()) {
    for (const { file, bytes } of regressionInputs(parser)) {
      const ext = file.split('.').at(-1) ?? 'bin';
      it(`${parser}/${file.split('/').at(-1)}`, async () => {
        await guarded(parser, ext, bytes, () => REPLAY[parser](bytes));
      });
    }
  }
});

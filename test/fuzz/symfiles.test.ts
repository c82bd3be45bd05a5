// Symbol files (src/kernel/symfiles.ts): System.map text and the .symtab of an ELF given as
// --vmlinux. Seeds: a System.map written from the real dump's own kallsyms (every 40th symbol plus
// _stext, in System.map's "address type name" form, KASLR undone so the shift must be found again),
// and the committed .ko seeds (ELF64 files with a .symtab). Property: a symbol table or a one-line
// InputError, within the time bound.
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { readKallsyms, kallsymsTablesFromVmcoreinfo } from '../../src/kernel/kallsyms.js';
import { fuzz, mutatedBytes, mutatedText, printCounts } from './harness.js';
import { checkSystemMap, checkVmlinux, realKernel } from './targets.js';

afterAll(printCounts);
const json = (t: string) => JSON.stringify(t);

function systemMap(): string {
  const k = realKernel();
  const t = readKallsyms(k.mem, kallsymsTablesFromVmcoreinfo(k.vi)!, k.vi.symbols.get('_stext')).table;
  const shift = k.vi.kernelOffset ?? 0n;
  const lines: string[] = [];
  t.all().forEach((s, i) => {
    if (i % 40 !== 0 && s.name !== '_stext') return;
    const a = s.type === 'A' || s.address < 0xffffffff80000000n ? s.address : s.address - shift;
    lines.push(`${BigInt.asUintN(64, a).toString(16).padStart(16, '0')} ${s.type} ${s.name}`);
  });
  return lines.join('\n') + '\n';
}

describe('fuzz: symbol files', () => {
  it('System.map: the real kernel symbols, mutated', async () => {
    await fuzz('system-map', mutatedText([systemMap()], 16), checkSystemMap, { runs: 150, ext: 'json', encode: json });
  });

  it('System.map: absurd address and type fields', async () => {
    const line = fc.tuple(fc.oneof(fc.stringMatching(/^[0-9a-f]{1,20}$/), fc.constantFrom('ffffffffffffffff', '0', '10000000000000000')), fc.constantFrom('T', 't', 'A', 'D', '?', '\x1b'), fc.stringMatching(/^[a-z_]{1,12}$/));
    const arb = fc.array(line, { minLength: 90, maxLength: 300 }).map((ls) => ls.map(([a, t, n]) => `${a} ${t} ${n}`).join('\n') + '\n_stext');
    await fuzz('system-map', arb, checkSystemMap, { runs: 60, ext: 'json', encode: json });
  });

  it('--vmlinux: ELF64 files with a .symtab, mutated', async () => {
    const dir = path.join(import.meta.dirname, 'seeds/ko');
    const elves = fs.readdirSync(dir).filter((f) => f.endsWith('.ko')).sort().map((f) => fs.readFileSync(path.join(dir, f)));
    await fuzz('vmlinux', mutatedBytes(elves, { hot: [[0, 64]], maxOps: 6 }), checkVmlinux, { runs: 300, ext: 'bin' });
  });
});

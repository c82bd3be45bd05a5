// Cross-check of our .ko section reader against the `elfy` package, on real modules built for
// Debian's kernel. elfy is kept as a dev dependency for this alone: an independent reader agreeing
// on every section's name, offset, size, link and info is evidence that ours walks the section
// table right. It is not used at run time because it mis-reads two ELF64 fields; the last test
// pins that down so the reason stays true (if elfy is fixed, that test says so).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parseElfModule } from '../../src/analyzers/kmod/elf.js';
import { REPO } from '../paths.js';
import { join } from 'node:path';

interface ElfySection { name: string; off: number; size: number; link: number; info: number; addralign: number; entsize: number }
const elfy = createRequire(import.meta.url)('elfy') as { parse(b: Buffer): { body: { sections: ElfySection[] } } };

const modules = ['hazard.stripped.ko', 'ftrace_atomic.stripped.ko', 'kprobe_mutex.ko'].map((f) => join(REPO, 'test/fuzz/seeds/ko', f));

describe('.ko section headers: ours against elfy', () => {
  for (const path of modules) {
    it(path.replace(/.*\//, ''), () => {
      const bytes = readFileSync(path);
      const ours = parseElfModule(bytes, path).sections;
      const theirs = elfy.parse(bytes).body.sections;
      expect(ours.length).toBeGreaterThan(10);
      expect(ours.map((s) => [s.name, s.offset, s.size, s.link, s.info])).toEqual(
        theirs.map((s) => [s.name, s.off, s.size, s.link, s.info]),
      );
    });
  }

  it('elfy reads sh_addralign/sh_entsize from the wrong offsets (why src/ does not use it)', () => {
    const bytes = readFileSync(modules[2]);
    const symtab = elfy.parse(bytes).body.sections.find((s) => s.name === '.symtab')!;
    const ours = parseElfModule(bytes, 'kprobe_mutex.ko').sections.find((s) => s.name === '.symtab')!;
    expect(ours.entsize).toBe(24); // sizeof(Elf64_Sym)
    expect(symtab.entsize).not.toBe(24);
  });
});

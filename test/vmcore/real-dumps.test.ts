// openDump on the committed dumps of the incident (fixtures/vmcore-*: makedumpfile -c and -E of
// the same /proc/vmcore, and the trimmed ELF cut from one), checked against readelf (notes, program
// headers), gdb (NT_PRSTATUS registers), makedumpfile itself (-F) and against each other: the
// kdump-zlib and the ELF of a fixture were written from the same panic, so every page they both
// hold must be identical. Release and CPU count come from each fixture's referee record.
// readelf, gdb, makedumpfile and xz are required (.ci/run installs them): a missing tool fails.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DumpReadError, openDump, type DumpFile } from '../../src/vmcore/index.js';
import { fixtureDumps, type FixtureDump } from '../fixture-dumps.js';

function tool(name: string): string {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return name;
  } catch {
    throw new Error(`${name} is not installed (apt-get install ${name === 'readelf' ? 'binutils' : name}): this test checks the reader against it`);
  }
}

function readelfNotes(p: string): { owner: string; size: number }[] {
  const out = execFileSync(tool('readelf'), ['-n', '-W', p], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return [...out.matchAll(/^\s+(\S+)\s+0x([0-9a-f]+)\s/gm)].map((m) => ({ owner: m[1], size: parseInt(m[2], 16) }));
}

function readelfLoads(p: string): { offset: bigint; vaddr: bigint; paddr: bigint; filesz: bigint; memsz: bigint }[] {
  const out = execFileSync(tool('readelf'), ['-l', '-W', p], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return [...out.matchAll(/^\s+LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+)/gm)].map((m) => ({
    offset: BigInt(`0x${m[1]}`), vaddr: BigInt(`0x${m[2]}`), paddr: BigInt(`0x${m[3]}`), filesz: BigInt(`0x${m[4]}`), memsz: BigInt(`0x${m[5]}`),
  }));
}

const GDB_REGS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base', 'orig_rax'];

/** gdb's view of each thread's registers in a core file, by LWP (= NT_PRSTATUS pr_pid). */
function gdbRegs(p: string): Map<number, Record<string, bigint>> {
  const args = ['-batch', '-nx', '-ex', 'set architecture i386:x86-64', '-ex', `core-file ${p}`, '-ex', `thread apply all info registers ${GDB_REGS.join(' ')}`];
  const out = execFileSync(tool('gdb'), args, { encoding: 'utf8', timeout: 60_000 });
  const map = new Map<number, Record<string, bigint>>();
  for (const block of out.split(/^Thread \d+ \(LWP /m).slice(1)) {
    const lwp = parseInt(block, 10);
    map.set(lwp, Object.fromEntries([...block.matchAll(/^(\w+)\s+0x([0-9a-f]+)/gm)].map((m) => [m[1], BigInt(`0x${m[2]}`)])));
  }
  return map;
}

function comparePages(a: DumpFile, b: DumpFile, pfns: Iterable<bigint>): number {
  let n = 0;
  for (const pfn of pfns) {
    const sa = a.pageState(pfn * 4096n);
    const sb = b.pageState(pfn * 4096n);
    expect(sb, `pfn 0x${pfn.toString(16)}`).toBe(sa);
    if (sa !== 'present') continue;
    const pa = a.readPhysical(pfn * 4096n, 4096);
    const pb = b.readPhysical(pfn * 4096n, 4096);
    if (!pa.equals(pb)) throw new Error(`pfn 0x${pfn.toString(16)} differs`);
    n++;
  }
  return n;
}

/** Notes and PT_LOADs as readelf sees them, registers as gdb sees them. */
function checkElfAgainstTools(p: string, cpus: number, release: string): DumpFile {
  const d = openDump(p);
  expect(d.notes.map((n) => ({ owner: n.name, size: n.desc.length }))).toEqual(readelfNotes(p));
  const loads = readelfLoads(p);
  expect(d.info.details.loadSegments).toBe(loads.length);
  expect(d.info.details.zeroFillSegments).toBe(loads.filter((l) => l.filesz < l.memsz).length);
  const virt = loads.filter((l) => l.vaddr !== 0n && l.vaddr !== l.paddr);
  expect(d.virtualSegments).toHaveLength(virt.length);
  for (const v of virt) expect(d.virtualSegments).toContainEqual({ vaddr: v.vaddr, paddr: v.paddr, size: v.memsz });
  expect(d.vmcoreinfo).toMatch(new RegExp(`^OSRELEASE=${release.replace(/\./g, '\\.')}\n`));
  expect(d.prstatus).toHaveLength(cpus);
  {
    // gdb names threads by pr_pid; CPUs sharing a pid (idle tasks are all pid 0) are ambiguous there.
    const g = gdbRegs(p);
    const unique = d.prstatus.filter((x) => d.prstatus.filter((y) => y.pid === x.pid).length === 1);
    expect(unique.length).toBeGreaterThanOrEqual(2);
    for (const pr of unique) {
      const gr = g.get(pr.pid);
      expect(gr, `gdb thread for pid ${pr.pid}`).toBeDefined();
      for (const r of GDB_REGS) expect(BigInt.asUintN(64, pr.regs[r]), `cpu ${pr.index} ${r}`).toBe(BigInt.asUintN(64, gr?.[r] ?? -1n));
    }
  }
  return d;
}

const all = fixtureDumps();
const byFixture = new Map<string, FixtureDump[]>();
for (const f of all) byFixture.set(f.fixture, [...(byFixture.get(f.fixture) ?? []), f]);

for (const [fixture, dumps] of byFixture) {
  const zlib = dumps.find((d) => d.kind === 'kdump-zlib')!;
  const elf = dumps.find((d) => d.kind === 'elf')!;
  const cpus = Number(zlib.referee.cpus);
  const release = zlib.referee.release;

  describe(fixture, () => {
    it('makedumpfile -E ELF of /proc/vmcore: notes and PT_LOADs match readelf, registers match gdb; virtual PT_LOADs', () => {
      const d = checkElfAgainstTools(elf.file(), cpus, release);
      expect(d.info.details.producer).toBe('kdump (/proc/vmcore)');
      expect(d.virtualSegments.some((v) => v.vaddr >= 0xffffffff80000000n)).toBe(true);
      d.close();
    });

    it('makedumpfile -c (kdump-compressed, zlib, -d 31): header facts, and the ELF holds every page it holds, equal', () => {
      const z = openDump(zlib.file());
      const e = openDump(elf.file());
      expect(z.info.format).toBe('kdump-compressed');
      expect(z.info.compression).toEqual(['zlib']);
      expect(z.info.details).toMatchObject({ producer: 'makedumpfile', headerVersion: 6, dumpLevel: 31, release, nrCpus: cpus });
      expect(z.vmcoreinfo).toMatch(new RegExp(`^OSRELEASE=${release.replace(/\./g, '\\.')}\n`));
      expect(z.vmcoreinfo).toBe(e.vmcoreinfo);
      expect(z.prstatus).toEqual(e.prstatus);
      expect(z.prstatus.map((p) => p.pid)).toContain(zlib.referee.panic_task.pid);
      // -E cannot say "excluded": makedumpfile leaves long runs of excluded pages out (holes, or
      // filesz < memsz) but keeps runs shorter than PFN_EXCLUDED (256) pages with their contents
      // (makedumpfile.c, write_elf_pages_cyclic). Every page the kdump file holds is in the ELF, equal.
      const max = Number(z.info.details.maxMapnr);
      let present = 0;
      let excluded = 0;
      let zeroOrAbsent = 0;
      let keptExcluded = 0;
      for (let i = 0; i < max; i++) {
        const pa = BigInt(i) * 4096n;
        const st = z.pageState(pa);
        if (st === 'present') {
          present++;
          if (!e.readPhysical(pa, 4096).equals(z.readPhysical(pa, 4096))) throw new Error(`pfn 0x${i.toString(16)} differs`);
          continue;
        }
        if (st === 'excluded') excluded++;
        try {
          if (e.readPhysical(pa, 4096).every((x) => x === 0)) zeroOrAbsent++;
          else keptExcluded++;
        } catch (err) {
          expect(err).toBeInstanceOf(DumpReadError);
          zeroOrAbsent++; // absent, or partly covered (e.g. the page holding 0x9fc00, the end of low RAM)
        }
      }
      expect(present).toBeGreaterThan(1000);
      expect(excluded).toBeGreaterThan(1000);
      expect(keptExcluded).toBeGreaterThan(0);
      expect(zeroOrAbsent).toBeGreaterThan(1000);
      z.close();
      e.close();
    });

    // one fixture is enough for the format; every 5th page keeps it to a few seconds
    if (fixture === [...byFixture.keys()][0]) it('makedumpfile -F (flattened) of the kdump-zlib file reads the same pages', () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ktriage-flat-'));
      const flat = path.join(tmp, 'd31.flat');
      try {
        const out = fs.openSync(flat, 'w');
        execFileSync(tool('makedumpfile'), ['-F', '-c', '-d', '31', zlib.file()], { stdio: ['ignore', out, 'ignore'] });
        fs.closeSync(out);
        const f = openDump(flat);
        const z = openDump(zlib.file());
        expect(f.info.details.flattened).toBe(true);
        expect(f.info.details.flatRecords).toBeGreaterThan(100);
        expect(f.vmcoreinfo).toBe(z.vmcoreinfo);
        expect(f.prstatus).toEqual(z.prstatus);
        const max = Number(z.info.details.maxMapnr);
        expect(comparePages(z, f, Array.from({ length: Math.ceil(max / 5) }, (_, i) => BigInt(i * 5)))).toBeGreaterThan(200);
        f.close();
        z.close();
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });

    const trimmed = dumps.find((d) => d.kind === 'trimmed');
    if (trimmed) {
      it('the trimmed ELF (physical addresses, QEMU paging:false style): readelf and gdb agree; its pages are the original\'s', () => {
        const t = checkElfAgainstTools(trimmed.file(), cpus, release);
        expect(t.virtualSegments).toEqual([]);
        const z = openDump(zlib.file());
        expect(t.prstatus).toEqual(z.prstatus);
        expect(t.vmcoreinfo).toBe(z.vmcoreinfo);
        let same = 0;
        for (const l of readelfLoads(trimmed.file())) {
          for (let pa = l.paddr; pa < l.paddr + l.filesz; pa += 4096n) {
            expect(t.readPhysical(pa, 4096).equals(z.readPhysical(pa, 4096)), `paddr 0x${pa.toString(16)}`).toBe(true);
            same++;
          }
        }
        expect(same).toBeGreaterThan(1000);
        t.close();
        z.close();
      });
    }
  });
}

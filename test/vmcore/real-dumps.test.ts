// openDump on the real QEMU/makedumpfile dumps of the incident (see /work/dumps/README.txt), checked
// against readelf (notes, program headers), gdb (NT_PRSTATUS registers) and against each other:
// the QEMU ELF and the QEMU kdump-zlib dump were taken at the same instant, and the zlib -d 31
// dump was written by makedumpfile from the LZO one, so their pages must be identical.
// Skipped when the dumps are not present (KTRIAGE_DUMPS overrides /work/dumps).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DumpReadError, openDump, prepareDecompressors, type DumpFile } from '../../src/vmcore/index.js';

const DIR = process.env.KTRIAGE_DUMPS ?? '/work/dumps';
const file = (n: string): string => path.join(DIR, n);
const have = (...names: string[]): boolean => names.every((n) => fs.existsSync(file(n)));
const tool = (name: string): boolean => {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

function readelfNotes(p: string): { owner: string; size: number }[] {
  const out = execFileSync('readelf', ['-n', '-W', p], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return [...out.matchAll(/^\s+(\S+)\s+0x([0-9a-f]+)\s/gm)].map((m) => ({ owner: m[1], size: parseInt(m[2], 16) }));
}

function readelfLoads(p: string): { offset: bigint; vaddr: bigint; paddr: bigint; filesz: bigint; memsz: bigint }[] {
  const out = execFileSync('readelf', ['-l', '-W', p], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return [...out.matchAll(/^\s+LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+)/gm)].map((m) => ({
    offset: BigInt(`0x${m[1]}`), vaddr: BigInt(`0x${m[2]}`), paddr: BigInt(`0x${m[3]}`), filesz: BigInt(`0x${m[4]}`), memsz: BigInt(`0x${m[5]}`),
  }));
}

const GDB_REGS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base', 'orig_rax'];

/** gdb's view of each thread's registers in a core file, by LWP (= NT_PRSTATUS pr_pid). */
function gdbRegs(p: string): Map<number, Record<string, bigint>> {
  const args = ['-batch', '-nx', '-ex', 'set architecture i386:x86-64', '-ex', `core-file ${p}`, '-ex', `thread apply all info registers ${GDB_REGS.join(' ')}`];
  const out = execFileSync('gdb', args, { encoding: 'utf8', timeout: 60_000 });
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
function checkElfAgainstTools(p: string, cpus: number): DumpFile {
  const d = openDump(p);
  expect(d.notes.map((n) => ({ owner: n.name, size: n.desc.length }))).toEqual(readelfNotes(p));
  const loads = readelfLoads(p);
  expect(d.info.details.loadSegments).toBe(loads.length);
  expect(d.info.details.zeroFillSegments).toBe(loads.filter((l) => l.filesz < l.memsz).length);
  const virt = loads.filter((l) => l.vaddr !== 0n && l.vaddr !== l.paddr);
  expect(d.virtualSegments).toHaveLength(virt.length);
  for (const v of virt) expect(d.virtualSegments).toContainEqual({ vaddr: v.vaddr, paddr: v.paddr, size: v.memsz });
  expect(d.vmcoreinfo).toMatch(/^OSRELEASE=6\.1\.0-56-amd64\n/);
  expect(d.prstatus).toHaveLength(cpus);
  if (tool('gdb')) {
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

describe.skipIf(!have('buggy-2cpu.elf'))('QEMU ELF (paging:false)', () => {
  it('notes and PT_LOADs match readelf, registers match gdb', () => {
    const p = file('buggy-2cpu.elf');
    const d = checkElfAgainstTools(p, 2);
    expect(d.notes.filter((n) => n.name === 'QEMU')).toHaveLength(2);
    expect(d.info.details.physicalBytes).toBe(Number(readelfLoads(p).reduce((s, l) => s + l.memsz, 0n)));
    expect(d.virtualSegments).toEqual([]);
    expect(d.vmcoreinfo).toMatch(/\nKERNELOFFSET=2ce00000\n/);
    d.close();
  });
});

describe.skipIf(!have('buggy-2cpu-kdump.d31.elf'))('makedumpfile -E ELF of /proc/vmcore (2 CPUs)', () => {
  it('virtual PT_LOADs, zero-fill segments, notes and registers', () => {
    const d = checkElfAgainstTools(file('buggy-2cpu-kdump.d31.elf'), 2);
    expect(d.info.details.producer).toBe('kdump (/proc/vmcore)');
    expect(d.virtualSegments.some((v) => v.vaddr >= 0xffffffff80000000n)).toBe(true);
    d.close();
  });
});

describe.skipIf(!have('buggy-4cpu.d31.elf', 'buggy-4cpu.d31.kdump-lzo', 'buggy-4cpu.d31.kdump-zlib'))('one panic, three makedumpfile outputs (-E, -l, -c; -d 31)', () => {
  beforeAll(async () => {
    await prepareDecompressors();
  });

  it('ELF matches readelf/gdb; LZO and zlib agree page for page; the ELF holds every dumped page', () => {
    const e = checkElfAgainstTools(file('buggy-4cpu.d31.elf'), 4);
    const l = openDump(file('buggy-4cpu.d31.kdump-lzo'));
    const z = openDump(file('buggy-4cpu.d31.kdump-zlib'));
    expect(l.prstatus).toEqual(e.prstatus);
    expect(z.prstatus).toEqual(e.prstatus);
    expect(l.vmcoreinfo).toBe(e.vmcoreinfo);
    expect(z.vmcoreinfo).toBe(e.vmcoreinfo);
    expect(l.info.details).toMatchObject({ dumpLevel: 31, nrCpus: 4 });
    const max = Number(l.info.details.maxMapnr);
    const pfns = Array.from({ length: max }, (_, i) => BigInt(i));
    const present = comparePages(l, z, pfns);
    expect(present).toBeGreaterThan(1000);
    // -E cannot say "excluded": makedumpfile leaves long runs of excluded pages out (holes, or
    // filesz < memsz) but keeps runs shorter than PFN_EXCLUDED (256) pages with their contents
    // (makedumpfile.c, write_elf_pages_cyclic). Every page the kdump files hold is in the ELF, equal.
    let zeroOrAbsent = 0;
    let keptExcluded = 0;
    for (const pfn of pfns) {
      const st = l.pageState(pfn * 4096n);
      if (st === 'present') {
        expect(e.readPhysical(pfn * 4096n, 4096).equals(l.readPhysical(pfn * 4096n, 4096)), `pfn 0x${pfn.toString(16)}`).toBe(true);
        continue;
      }
      try {
        if (e.readPhysical(pfn * 4096n, 4096).every((x) => x === 0)) zeroOrAbsent++;
        else keptExcluded++;
      } catch (err) {
        expect(err).toBeInstanceOf(DumpReadError);
        zeroOrAbsent++; // absent, or partly covered (e.g. the page holding 0x9fc00, the end of low RAM)
      }
    }
    expect(keptExcluded).toBeGreaterThan(0);
    expect(zeroOrAbsent).toBeGreaterThan(1000);
    e.close();
    l.close();
    z.close();
  });
});

describe.skipIf(!have('buggy-2cpu.elf', 'buggy-2cpu.paging.elf'))('QEMU ELF (paging:true, PN_XNUM)', () => {
  it('65718 program headers as readelf counts them; same physical pages as the paging:false dump', () => {
    const p = file('buggy-2cpu.paging.elf');
    const d = openDump(p);
    const loads = readelfLoads(p);
    expect(d.info.details.pnXnum).toBe(true);
    expect(d.info.details.programHeaders).toBe(loads.length + 1);
    expect(d.virtualSegments.length).toBe(loads.filter((l) => l.vaddr !== 0n && l.vaddr !== l.paddr).length);
    expect(d.virtualSegments[0].vaddr <= d.virtualSegments[1].vaddr).toBe(true);
    const plain = openDump(file('buggy-2cpu.elf'));
    expect(d.prstatus).toEqual(plain.prstatus);
    // The paging:true dump holds only mapped pages; every page it holds equals the plain dump's.
    let same = 0;
    for (let pfn = 0n; pfn < 65536n; pfn += 13n) {
      if (d.pageState(pfn * 4096n) !== 'present') continue;
      expect(d.readPhysical(pfn * 4096n, 4096).equals(plain.readPhysical(pfn * 4096n, 4096))).toBe(true);
      same++;
    }
    expect(same).toBeGreaterThan(4000);
    d.close();
    plain.close();
  });
});

describe.skipIf(!have('buggy-2cpu.elf', 'buggy-2cpu.kdump-zlib'))('QEMU kdump-zlib (flattened)', () => {
  it('every page, note and register equals the ELF dump taken at the same instant', () => {
    const k = openDump(file('buggy-2cpu.kdump-zlib'));
    const e = openDump(file('buggy-2cpu.elf'));
    expect(k.info.format).toBe('kdump-compressed');
    expect(k.info.details.flattened).toBe(true);
    expect(k.info.details.producer).toBe('qemu dump-guest-memory');
    expect(k.info.compression).toEqual(['zlib']);
    expect(k.vmcoreinfo).toBe(e.vmcoreinfo);
    expect(k.prstatus).toEqual(e.prstatus);
    expect(k.notes.map((n) => [n.name, n.type, n.desc.toString('hex')])).toEqual(e.notes.map((n) => [n.name, n.type, n.desc.toString('hex')]));
    const pfns = [...Array.from({ length: 65536 }, (_, i) => BigInt(i)), ...Array.from({ length: 64 }, (_, i) => 0xfffc0n + BigInt(i))];
    expect(comparePages(e, k, pfns)).toBe(65536 + 64);
    expect(k.pageState(0x10000000n)).toBe('absent');
    k.close();
    e.close();
  });
});

describe.skipIf(!have('buggy-2cpu-kdump.kdump-lzo-d31', 'buggy-2cpu-kdump.kdump-zlib-d31'))('makedumpfile -d 31: LZO and zlib', () => {
  beforeAll(async () => {
    await prepareDecompressors();
  });

  it('the LZO dump decodes to the same pages as makedumpfile\'s zlib re-encoding of it', () => {
    const l = openDump(file('buggy-2cpu-kdump.kdump-lzo-d31'));
    const z = openDump(file('buggy-2cpu-kdump.kdump-zlib-d31'));
    expect(l.info.compression).toEqual(['lzo']);
    expect(z.info.compression).toEqual(['zlib']);
    expect(l.info.details).toMatchObject({ producer: 'makedumpfile', headerVersion: 6, dumpLevel: 31, release: '6.1.0-56-amd64', nrCpus: 2 });
    expect(l.vmcoreinfo).toBe(z.vmcoreinfo);
    expect(l.vmcoreinfo).toMatch(/^OSRELEASE=6\.1\.0-56-amd64\n/);
    expect(l.prstatus).toEqual(z.prstatus);
    expect(l.prstatus.map((p) => p.pid)).toEqual([101, 100]); // README: WARN on CPU 1, PID 100
    const max = BigInt(l.info.details.maxMapnr as number);
    const pfns = Array.from({ length: Number(max) }, (_, i) => BigInt(i));
    const present = comparePages(l, z, pfns);
    const excluded = pfns.filter((p) => l.pageState(p * 4096n) === 'excluded').length;
    expect(present).toBeGreaterThan(1000);
    expect(excluded).toBeGreaterThan(1000);
    l.close();
    z.close();
  });
});

describe.skipIf(!have('buggy-2cpu-kdump.kdump-lzo-d31') || !tool('makedumpfile'))('makedumpfile -F (flattened) output', () => {
  it('reads the same pages as the reassembled dump it was made from', () => {
    const tmp = fs.mkdtempSync('/tmp/ktriage-flat-');
    const flat = path.join(tmp, 'd31.flat');
    try {
      const out = fs.openSync(flat, 'w');
      execFileSync('makedumpfile', ['-F', '-l', '-d', '31', file('buggy-2cpu-kdump.kdump-lzo-d31')], { stdio: ['ignore', out, 'ignore'] });
      fs.closeSync(out);
      const f = openDump(flat);
      const l = openDump(file('buggy-2cpu-kdump.kdump-lzo-d31'));
      expect(f.info.details.flattened).toBe(true);
      expect(f.info.details.flatRecords).toBeGreaterThan(100);
      expect(f.vmcoreinfo).toBe(l.vmcoreinfo);
      expect(f.prstatus).toEqual(l.prstatus);
      const max = Number(l.info.details.maxMapnr);
      expect(comparePages(l, f, Array.from({ length: max }, (_, i) => BigInt(i)))).toBeGreaterThan(1000);
      f.close();
      l.close();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

// openDump on the real QEMU/makedumpfile dumps of the incident (see /work/dumps/README.txt), checked
// against readelf (notes, program headers), gdb (NT_PRSTATUS registers) and against each other:
// the QEMU ELF and the QEMU kdump-zlib dump were taken at the same instant, and the zlib -d 31
// dump was written by makedumpfile from the LZO one, so their pages must be identical.
// Skipped when the dumps are not present (KTRIAGE_DUMPS overrides /work/dumps).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDump, prepareDecompressors, type DumpFile } from '../../src/vmcore/index.js';

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

/** gdb's view of each thread's registers in a core file. */
const GDB_REGS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base', 'orig_rax'];

function gdbRegs(p: string, threads: number): Record<string, bigint>[] {
  const args = ['-batch', '-nx', '-ex', 'set architecture i386:x86-64', '-ex', `core-file ${p}`];
  for (let t = 1; t <= threads; t++) args.push('-ex', `thread ${t}`, '-ex', `info registers ${GDB_REGS.join(' ')}`);
  const out = execFileSync('gdb', args, { encoding: 'utf8', timeout: 60_000 });
  const parts = out.split(/\[Switching to thread \d+|\[Current thread is \d+/).slice(-threads);
  return parts.map((s) => Object.fromEntries([...s.matchAll(/^(\w+)\s+0x([0-9a-f]+)/gm)].map((m) => [m[1], BigInt(`0x${m[2]}`)])));
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

describe.skipIf(!have('buggy-2cpu.elf'))('QEMU ELF (paging:false)', () => {
  it('notes and PT_LOADs match readelf, registers match gdb', () => {
    const p = file('buggy-2cpu.elf');
    const d = openDump(p);
    expect(d.notes.map((n) => ({ owner: n.name, size: n.desc.length }))).toEqual(readelfNotes(p));
    expect(d.notes.filter((n) => n.name === 'QEMU')).toHaveLength(2);
    const loads = readelfLoads(p);
    expect(d.info.details.loadSegments).toBe(loads.length);
    expect(d.info.details.physicalBytes).toBe(Number(loads.reduce((s, l) => s + l.memsz, 0n)));
    expect(d.virtualSegments).toEqual([]);
    expect(d.vmcoreinfo).toMatch(/^OSRELEASE=6\.1\.0-56-amd64\n/);
    expect(d.vmcoreinfo).toMatch(/\nKERNELOFFSET=2ce00000\n/);
    expect(d.prstatus).toHaveLength(2);
    if (tool('gdb')) {
      const g = gdbRegs(p, 2);
      for (let cpu = 0; cpu < 2; cpu++) {
        for (const r of GDB_REGS) {
          expect(BigInt.asUintN(64, d.prstatus[cpu].regs[r]), `cpu ${cpu} ${r}`).toBe(BigInt.asUintN(64, g[cpu][r]));
        }
      }
    }
    d.close();
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

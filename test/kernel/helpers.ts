// Test helpers: an in-memory DumpFile over sparse physical memory, and (for the real dumps, until
// src/vmcore's openDump is available) a tiny read-only ELF core reader.
import fs from 'node:fs';
import path from 'node:path';
import { DumpReadError, type DumpFile, type DumpNote, type PageState, type PrStatus } from '../../src/vmcore/types.js';

export class MemDump implements DumpFile {
  readonly info = { format: 'synthetic', compression: ['none'], fileSize: 0, details: {} };
  notes: DumpNote[] = [];
  prstatus: PrStatus[] = [];
  vmcoreinfo: string | null = null;
  virtualSegments: { vaddr: bigint; paddr: bigint; size: bigint }[] = [];
  readonly pagesTouched = new Set<bigint>();
  readonly pagesPastEnd = new Set<bigint>();
  completeness() {
    return { complete: true, pages: 0, missingPages: 0, fileSize: 0, expectedSize: 0, reason: null };
  }
  private readonly pages = new Map<bigint, Buffer>();
  reads = 0;

  page(pfn: bigint): Buffer {
    let p = this.pages.get(pfn);
    if (!p) {
      p = Buffer.alloc(4096);
      this.pages.set(pfn, p);
    }
    return p;
  }

  write(paddr: bigint, data: Buffer): void {
    let done = 0;
    while (done < data.length) {
      const a = paddr + BigInt(done);
      const off = Number(a & 0xfffn);
      const n = Math.min(4096 - off, data.length - done);
      data.copy(this.page(a >> 12n), off, done, done + n);
      done += n;
    }
  }

  writeU64(paddr: bigint, v: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    this.write(paddr, b);
  }

  readPhysical(paddr: bigint, length: number): Buffer {
    this.reads++;
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const a = paddr + BigInt(done);
      const off = Number(a & 0xfffn);
      const n = Math.min(4096 - off, length - done);
      const p = this.pages.get(a >> 12n);
      if (!p) throw new DumpReadError(`physical 0x${a.toString(16)} not in dump`, a, 'absent');
      this.pagesTouched.add(a >> 12n);
      p.copy(out, done, off, off + n);
      done += n;
    }
    return out;
  }

  pageState(paddr: bigint): PageState {
    return this.pages.has(paddr >> 12n) ? 'present' : 'absent';
  }

  close(): void {}
}

const REG_NAMES = ['r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs'];

/** Minimal ELF64 core reader (physical PT_LOADs), used by tests only. */
export class TinyElfDump implements DumpFile {
  readonly info: DumpFile['info'];
  readonly notes: DumpNote[] = [];
  readonly prstatus: PrStatus[] = [];
  vmcoreinfo: string | null = null;
  readonly virtualSegments: { vaddr: bigint; paddr: bigint; size: bigint }[] = [];
  readonly pagesTouched = new Set<bigint>();
  readonly pagesPastEnd = new Set<bigint>();
  completeness() {
    return { complete: true, pages: 0, missingPages: 0, fileSize: 0, expectedSize: 0, reason: null };
  }
  private readonly loads: { paddr: bigint; off: bigint; filesz: bigint; memsz: bigint }[] = [];
  private readonly fd: number;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(this.fd).size;
    this.info = { format: 'elf', compression: ['none'], fileSize: size, details: {} };
    const h = this.pread(0n, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw new Error('not ELF');
    const phoff = h.readBigUInt64LE(32);
    let phnum = h.readUInt16LE(56);
    if (phnum === 0xffff) {
      const shoff = h.readBigUInt64LE(40);
      phnum = this.pread(shoff, 64).readUInt32LE(44);
    }
    const ph = this.pread(phoff, phnum * 56);
    for (let i = 0; i < phnum; i++) {
      const o = i * 56;
      const type = ph.readUInt32LE(o);
      const off = ph.readBigUInt64LE(o + 8);
      const vaddr = ph.readBigUInt64LE(o + 16);
      const paddr = ph.readBigUInt64LE(o + 24);
      const filesz = ph.readBigUInt64LE(o + 32);
      const memsz = ph.readBigUInt64LE(o + 40);
      if (type === 1) {
        this.loads.push({ paddr, off, filesz, memsz });
        if (vaddr !== 0n) this.virtualSegments.push({ vaddr, paddr, size: memsz });
      } else if (type === 4) this.parseNotes(this.pread(off, Number(filesz)));
    }
  }

  private parseNotes(d: Buffer) {
    let o = 0;
    while (o + 12 <= d.length) {
      const nsz = d.readUInt32LE(o);
      const dsz = d.readUInt32LE(o + 4);
      const type = d.readUInt32LE(o + 8);
      o += 12;
      const name = d.toString('latin1', o, o + nsz).replace(/\0+$/, '');
      o += (nsz + 3) & ~3;
      const desc = d.subarray(o, o + dsz);
      o += (dsz + 3) & ~3;
      this.notes.push({ name, type, desc });
      if (name === 'VMCOREINFO') this.vmcoreinfo = desc.toString('latin1');
      if (name === 'CORE' && type === 1 && dsz >= 112 + 27 * 8) {
        const regs: Record<string, bigint> = {};
        REG_NAMES.forEach((r, i) => (regs[r] = desc.readBigUInt64LE(112 + i * 8)));
        this.prstatus.push({ index: this.prstatus.length, pid: desc.readInt32LE(32), regs });
      }
    }
  }

  private pread(off: bigint, len: number): Buffer {
    const b = Buffer.alloc(len);
    const n = fs.readSync(this.fd, b, 0, len, Number(off));
    return b.subarray(0, n);
  }

  readPhysical(paddr: bigint, length: number): Buffer {
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const a = paddr + BigInt(done);
      const seg = this.loads.find((l) => a >= l.paddr && a < l.paddr + l.memsz);
      if (!seg) throw new DumpReadError(`physical 0x${a.toString(16)} not in dump`, a, 'absent');
      const n = Math.min(length - done, Number(seg.paddr + seg.memsz - a));
      const inFile = a - seg.paddr < seg.filesz ? Math.min(n, Number(seg.filesz - (a - seg.paddr))) : 0;
      if (inFile > 0) fs.readSync(this.fd, out, done, inFile, Number(seg.off + (a - seg.paddr)));
      for (let p = a >> 12n; p <= (a + BigInt(n) - 1n) >> 12n; p++) this.pagesTouched.add(p);
      done += n;
    }
    return out;
  }

  pageState(paddr: bigint): PageState {
    return this.loads.some((l) => paddr >= l.paddr && paddr < l.paddr + l.memsz) ? 'present' : 'absent';
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Open a real dump: src/vmcore's openDump when it exists, else the tiny ELF reader. */
export async function openRealDump(file: string): Promise<DumpFile> {
  try {
    const base = path.resolve(import.meta.dirname, '../../src/vmcore/index');
    if (fs.existsSync(base + '.ts') || fs.existsSync(base + '.js')) {
      const mod = (await import(base + '.js')) as { openDump?: (p: string) => DumpFile | Promise<DumpFile> };
      if (mod.openDump) return await mod.openDump(file);
    }
  } catch {
    // fall through
  }
  if (!file.endsWith('.elf')) throw new Error(`no reader for ${file} yet`);
  return new TinyElfDump(file);
}

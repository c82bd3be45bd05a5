// TEST-ONLY stand-in for src/vmcore + src/kernel while they are being written: reads a QEMU
// `dump-guest-memory paging=true` ELF (virtual PT_LOADs, PN_XNUM), its notes (NT_PRSTATUS,
// VMCOREINFO), and takes symbols from System.map shifted by KERNELOFFSET and struct offsets from
// a table checked against crash's `struct -o` on the same kernel. The product never uses this:
// it gets kallsyms and BTF from the dump through src/kernel (see src/kernel/unwind/types.ts).
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import type { SymbolInfo, UnwindCpuInput, UnwindMemory, UnwindSymbols, UnwindTypes } from '../../src/kernel/unwind/types.js';

const USER_REGS = ['r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di', 'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs'];

interface Load { vaddr: bigint; offset: number; filesz: number }

export class VirtualElfDump implements UnwindMemory {
  private readonly fd: number;
  readonly loads: Load[] = [];
  readonly prstatus: { pid: number; regs: Record<string, bigint> }[] = [];
  vmcoreinfo = '';
  pagesRead = new Set<bigint>();

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    const eh = this.pread(0, 64);
    if (eh.readUInt32BE(0) !== 0x7f454c46) throw new Error('not ELF');
    const phoff = Number(eh.readBigUInt64LE(32));
    const shoff = Number(eh.readBigUInt64LE(40));
    let phnum = eh.readUInt16LE(56);
    if (phnum === 0xffff) phnum = this.pread(shoff, 64).readUInt32LE(44); // PN_XNUM: sh_info of section 0
    const ph = this.pread(phoff, phnum * 56);
    for (let i = 0; i < phnum; i++) {
      const o = i * 56;
      const type = ph.readUInt32LE(o);
      const offset = Number(ph.readBigUInt64LE(o + 8));
      const vaddr = ph.readBigUInt64LE(o + 16);
      const filesz = Number(ph.readBigUInt64LE(o + 32));
      if (type === 1 && vaddr !== 0n) this.loads.push({ vaddr, offset, filesz });
      if (type === 4) this.notes(this.pread(offset, filesz));
    }
    this.loads.sort((a, b) => (a.vaddr < b.vaddr ? -1 : 1));
  }

  private pread(off: number, len: number): Buffer {
    const b = Buffer.alloc(len);
    readSync(this.fd, b, 0, len, off);
    return b;
  }

  private notes(buf: Buffer): void {
    let o = 0;
    while (o + 12 <= buf.length) {
      const nsz = buf.readUInt32LE(o), dsz = buf.readUInt32LE(o + 4), type = buf.readUInt32LE(o + 8);
      const name = buf.subarray(o + 12, o + 12 + nsz - 1).toString();
      const d = o + 12 + ((nsz + 3) & ~3);
      const desc = buf.subarray(d, d + dsz);
      if (name === 'CORE' && type === 1) {
        const regs: Record<string, bigint> = {};
        USER_REGS.forEach((n, i) => { regs[n] = desc.readBigUInt64LE(112 + i * 8); });
        this.prstatus.push({ pid: desc.readUInt32LE(32), regs });
      }
      if (name === 'VMCOREINFO') this.vmcoreinfo = desc.toString();
      o = d + ((dsz + 3) & ~3);
    }
  }

  read(vaddr: bigint, len: number): Buffer {
    let lo = 0, hi = this.loads.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.loads[mid].vaddr <= vaddr) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    const l = this.loads[at];
    if (!l || vaddr + BigInt(len) > l.vaddr + BigInt(l.filesz)) throw new Error(`not in dump: 0x${vaddr.toString(16)}`);
    for (let p = vaddr & ~0xfffn; p < vaddr + BigInt(len); p += 0x1000n) this.pagesRead.add(p);
    return this.pread(l.offset + Number(vaddr - l.vaddr), len);
  }

  readU64(vaddr: bigint): bigint {
    return this.read(vaddr, 8).readBigUInt64LE(0);
  }

  info(key: string): string | undefined {
    return new RegExp(`^${key.replace(/[()]/g, '\\$&')}=(.*)$`, 'm').exec(this.vmcoreinfo)?.[1];
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** TEST-ONLY: makedumpfile kdump-compressed (zlib pages only) + x86_64 page-table walk. */
export class KdumpZlibDump implements UnwindMemory {
  private readonly fd: number;
  private readonly bs: number;
  private readonly bitmap2: Buffer;
  private readonly cum: Uint32Array;
  private readonly descOff: number;
  readonly prstatus: { pid: number; regs: Record<string, bigint> }[] = [];
  vmcoreinfo = '';
  pagesRead = new Set<bigint>();
  private readonly pcache = new Map<bigint, Buffer>();
  private pgd = 0n;
  private l5 = false;
  private physBase = 0n;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    const h = this.pread(0, 464);
    if (h.subarray(0, 8).toString() !== 'KDUMP   ') throw new Error('not kdump-compressed');
    this.bs = h.readInt32LE(428);
    const subBlocks = h.readInt32LE(432);
    const bitmapBlocks = h.readInt32LE(436);
    const sub = this.pread(this.bs, 104);
    this.physBase = sub.readBigUInt64LE(0);
    const noteOff = Number(sub.readBigUInt64LE(48));
    const noteSize = Number(sub.readBigUInt64LE(56));
    const bitmapSize = (bitmapBlocks * this.bs) / 2;
    this.bitmap2 = this.pread((1 + subBlocks) * this.bs + bitmapSize, bitmapSize);
    this.cum = new Uint32Array(Math.ceil(bitmapSize / 64) + 1);
    let acc = 0;
    for (let i = 0; i < bitmapSize; i++) {
      if (i % 64 === 0) this.cum[i / 64] = acc;
      let b = this.bitmap2[i];
      while (b) { acc += b & 1; b >>= 1; }
    }
    this.descOff = (1 + subBlocks + bitmapBlocks) * this.bs;
    this.notes(this.pread(noteOff, noteSize));
    const info = (k: string) => new RegExp(`^${k.replace(/[()]/g, '\\$&')}=(.*)$`, 'm').exec(this.vmcoreinfo)?.[1];
    this.l5 = info('NUMBER(pgtable_l5_enabled)') === '1';
    const top = BigInt(`0x${info('SYMBOL(init_top_pgt)')}`);
    this.pgd = top - 0xffffffff80000000n + this.physBase;
  }

  private pread(off: number, len: number): Buffer {
    const b = Buffer.alloc(len);
    readSync(this.fd, b, 0, len, off);
    return b;
  }

  private notes(buf: Buffer): void {
    let o = 0;
    while (o + 12 <= buf.length) {
      const nsz = buf.readUInt32LE(o), dsz = buf.readUInt32LE(o + 4), type = buf.readUInt32LE(o + 8);
      const name = buf.subarray(o + 12, o + 12 + nsz - 1).toString();
      const d = o + 12 + ((nsz + 3) & ~3);
      const desc = buf.subarray(d, d + dsz);
      if (name === 'CORE' && type === 1) {
        const regs: Record<string, bigint> = {};
        USER_REGS.forEach((n, i) => { regs[n] = desc.readBigUInt64LE(112 + i * 8); });
        this.prstatus.push({ pid: desc.readUInt32LE(32), regs });
      }
      if (name === 'VMCOREINFO') this.vmcoreinfo = desc.toString();
      if (nsz === 0 && dsz === 0) break;
      o = d + ((dsz + 3) & ~3);
    }
  }

  physPage(pfn: bigint): Buffer {
    let p = this.pcache.get(pfn);
    if (p) return p;
    const n = Number(pfn);
    const byte = n >> 3;
    if (byte >= this.bitmap2.length || !(this.bitmap2[byte] & (1 << (n & 7)))) throw new Error(`pfn ${pfn} not dumped`);
    let idx = this.cum[Math.floor(byte / 64)];
    for (let i = Math.floor(byte / 64) * 64; i < byte; i++) { let b = this.bitmap2[i]; while (b) { idx += b & 1; b >>= 1; } }
    for (let bit = 0; bit < (n & 7); bit++) if (this.bitmap2[byte] & (1 << bit)) idx++;
    const d = this.pread(this.descOff + idx * 24, 24);
    const off = Number(d.readBigInt64LE(0)), size = d.readUInt32LE(8), flags = d.readUInt32LE(12);
    const raw = this.pread(off, size);
    if (flags & 1) p = inflateSync(raw);
    else if (flags === 0) p = raw;
    else throw new Error(`page compression ${flags} unsupported in the test harness`);
    this.pcache.set(pfn, p);
    return p;
  }

  private u64p(paddr: bigint): bigint {
    return this.physPage(paddr >> 12n).readBigUInt64LE(Number(paddr & 0xfffn));
  }

  translate(vaddr: bigint): bigint {
    const mask = 0x000ffffffffff000n;
    let table = this.pgd;
    const shifts = this.l5 ? [48n, 39n, 30n, 21n, 12n] : [39n, 30n, 21n, 12n];
    for (const sh of shifts) {
      const e = this.u64p(table + ((vaddr >> sh) & 0x1ffn) * 8n);
      if (!(e & 1n)) throw new Error(`not mapped: 0x${vaddr.toString(16)}`);
      if ((sh === 30n || sh === 21n) && e & 0x80n) return (e & mask & ~((1n << sh) - 1n)) | (vaddr & ((1n << sh) - 1n));
      table = e & mask;
    }
    return table | (vaddr & 0xfffn);
  }

  read(vaddr: bigint, len: number): Buffer {
    const out = Buffer.alloc(len);
    let done = 0;
    while (done < len) {
      const a = vaddr + BigInt(done);
      const o = Number(a & 0xfffn);
      const n = Math.min(4096 - o, len - done);
      this.pagesRead.add(a & ~0xfffn);
      const pa = this.translate(a);
      this.physPage(pa >> 12n).copy(out, done, o, o + n);
      done += n;
    }
    return out;
  }

  readU64(vaddr: bigint): bigint {
    return this.read(vaddr, 8).readBigUInt64LE(0);
  }

  info(key: string): string | undefined {
    return new RegExp(`^${key.replace(/[()]/g, '\\$&')}=(.*)$`, 'm').exec(this.vmcoreinfo)?.[1];
  }
}

export class SystemMapSymbols implements UnwindSymbols {
  private readonly byName = new Map<string, bigint>();
  private readonly text: { name: string; address: bigint }[] = [];

  constructor(path: string, kaslr: bigint) {
    for (const line of readFileSync(path, 'latin1').split('\n')) {
      const [a, t, name] = line.split(' ');
      if (!name) continue;
      let addr = BigInt(`0x${a}`);
      if (addr >= 0xffffffff80000000n) addr += kaslr;
      if (!this.byName.has(name)) this.byName.set(name, addr);
      if ('tTwW'.includes(t)) this.text.push({ name, address: addr });
    }
    this.text.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
  }

  lookup(name: string): bigint | undefined {
    return this.byName.get(name);
  }

  symbolize(addr: bigint): SymbolInfo | null {
    const t = this.text;
    let lo = 0, hi = t.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid].address <= addr) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (at < 0 || at === t.length - 1) return null;
    let next = at + 1;
    while (next < t.length && t[next].address === t[at].address) next++;
    const s = t[at];
    return { name: s.name, address: s.address, offset: addr - s.address, size: (t[next]?.address ?? addr) - s.address };
  }
}

/** Debian 6.1.0-56-amd64 layouts, as crash's `struct -o` prints them (test-only until BTF lands). */
export const DEBIAN_6_1_TYPES: UnwindTypes = {
  offsetOf(s, m) {
    const t: Record<string, number> = {
      'task_struct.stack': 32, 'task_struct.pid': 2416, 'task_struct.comm': 2976,
      'module.list': 8, 'module.name': 24, 'module.core_layout.base': 320, 'module.core_layout.size': 328, 'module.core_layout.text_size': 332,
      'module.arch.num_orcs': 480, 'module.arch.orc_unwind_ip': 488, 'module.arch.orc_unwind': 496, 'module.kallsyms': 544,
      'mod_kallsyms.symtab': 0, 'mod_kallsyms.num_symtab': 8, 'mod_kallsyms.strtab': 16,
      'cea_exception_stacks.DF_stack_guard': 0, 'cea_exception_stacks.DF_stack': 4096, 'cea_exception_stacks.NMI_stack_guard': 12288,
      'cea_exception_stacks.NMI_stack': 16384, 'cea_exception_stacks.DB_stack_guard': 24576, 'cea_exception_stacks.DB_stack': 28672,
      'cea_exception_stacks.MCE_stack_guard': 36864, 'cea_exception_stacks.MCE_stack': 40960, 'cea_exception_stacks.VC_stack_guard': 49152,
      'cea_exception_stacks.VC_stack': 53248, 'cea_exception_stacks.VC2_stack_guard': 61440, 'cea_exception_stacks.VC2_stack': 65536,
      'cea_exception_stacks.IST_top_guard': 73728,
      'kprobe.hlist': 0, 'kprobe.addr': 40, 'kprobe.ainsn': 88, 'arch_specific_insn.insn': 0, 'arch_specific_insn.size': 9,
    };
    return t[`${s}.${m}`];
  },
  sizeOf: () => undefined,
};

export const SYSTEM_MAP = '/usr/lib/debug/boot/System.map-6.1.0-56-amd64';

export function openHarness(path: string) {
  if (!existsSync(path) || !existsSync(SYSTEM_MAP)) return null;
  const dump = path.includes('kdump') ? new KdumpZlibDump(path) : new VirtualElfDump(path);
  const kaslr = BigInt(`0x${dump.info('KERNELOFFSET') ?? '0'}`);
  const syms = new SystemMapSymbols(SYSTEM_MAP, kaslr);
  const pco = syms.lookup('__per_cpu_offset') as bigint;
  const cur = syms.lookup('current_task') as bigint;
  const cpus: UnwindCpuInput[] = dump.prstatus.map((p, cpu) => {
    const perCpuOffset = dump.readU64(pco + BigInt(cpu * 8));
    return { cpu, regs: p.regs, perCpuOffset, task: dump.readU64(perCpuOffset + cur) };
  });
  const describeTask = (task: bigint) => ({
    pid: dump.read(task + 2416n, 4).readInt32LE(0),
    comm: dump.read(task + 2976n, 16).toString('latin1').replace(/\0.*$/s, ''),
  });
  return { dump, syms, cpus, release: dump.info('OSRELEASE') ?? '', types: DEBIAN_6_1_TYPES, describeTask };
}

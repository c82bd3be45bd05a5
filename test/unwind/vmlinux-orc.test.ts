// ORC read from a dump's memory (orc_lookup fast path, as unwind_init() filled it at boot) against
// the same kernel's debug vmlinux file (.orc_unwind_ip/.orc_unwind as objtool wrote them), for
// thousands of random text addresses. Skipped when the dump or the vmlinux is absent.
import { describe, expect, it } from 'vitest';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { Unwinder } from '../../src/kernel/unwind/unwinder.js';
import { openHarness } from './dump-harness.js';

const VMLINUX = '/usr/lib/debug/boot/vmlinux-6.1.0-56-amd64';
const DUMP = '/work/dumps/buggy-2cpu-kdump.kdump-zlib-d31';

function sections(path: string): Map<string, { addr: bigint; offset: number; size: number }> {
  const fd = openSync(path, 'r');
  const rd = (off: number, len: number) => { const b = Buffer.alloc(len); readSync(fd, b, 0, len, off); return b; };
  const eh = rd(0, 64);
  const shoff = Number(eh.readBigUInt64LE(40));
  const shnum = eh.readUInt16LE(60);
  const shstrndx = eh.readUInt16LE(62);
  const sh = rd(shoff, shnum * 64);
  const strOff = Number(sh.readBigUInt64LE(shstrndx * 64 + 24));
  const strSize = Number(sh.readBigUInt64LE(shstrndx * 64 + 32));
  const names = rd(strOff, strSize);
  const out = new Map<string, { addr: bigint; offset: number; size: number }>();
  for (let i = 0; i < shnum; i++) {
    const o = i * 64;
    const n = names.subarray(sh.readUInt32LE(o)).toString('latin1').split('\0')[0];
    out.set(n, { addr: sh.readBigUInt64LE(o + 16), offset: Number(sh.readBigUInt64LE(o + 24)), size: Number(sh.readBigUInt64LE(o + 32)) });
  }
  closeSync(fd);
  return out;
}

describe.skipIf(!existsSync(VMLINUX) || !existsSync(DUMP))('ORC from the dump vs the debug vmlinux', () => {
  it('finds the same entry as objtool wrote for 5000 random text addresses, reading few pages', () => {
    const h = openHarness(DUMP)!;
    const u = new Unwinder({ memory: h.dump, symbols: h.syms, types: h.types, release: h.release, cpus: h.cpus });
    const kaslr = BigInt(`0x${h.dump.info('KERNELOFFSET')}`);
    const sec = sections(VMLINUX);
    const ipS = sec.get('.orc_unwind_ip')!;
    const unS = sec.get('.orc_unwind')!;
    const fd = openSync(VMLINUX, 'r');
    const ipBuf = Buffer.alloc(ipS.size);
    readSync(fd, ipBuf, 0, ipS.size, ipS.offset);
    const unBuf = Buffer.alloc(unS.size);
    readSync(fd, unBuf, 0, unS.size, unS.offset);
    closeSync(fd);
    const n = ipS.size / 4;
    const ips = new BigInt64Array(n);
    for (let i = 0; i < n; i++) ips[i] = BigInt.asIntN(64, ipS.addr + BigInt(i * 4) + BigInt(ipBuf.readInt32LE(i * 4)));
    const fileFind = (ip: bigint) => {
      const x = BigInt.asIntN(64, ip);
      let lo = 0, hi = n - 1, f = 0;
      while (lo <= hi) { const m = (lo + hi) >> 1; if (ips[m] <= x) { f = m; lo = m + 1; } else hi = m - 1; }
      return f;
    };
    const stext = h.syms.lookup('_stext')! - kaslr;
    const etext = h.syms.lookup('_etext')! - kaslr;
    expect(u.kernelOrc!.count).toBe(n);
    const pagesBefore = h.dump.pagesRead.size;
    const readsBefore = u.kernelOrc!.table.reads;
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let k = 0; k < 5000; k++) {
      const linkIp = stext + BigInt(rnd() % Number(etext - stext));
      const ours = u.kernelOrc!.find(linkIp + kaslr)!;
      const i = fileFind(linkIp);
      expect(ours.index).toBe(i);
      expect(ours.ip - kaslr).toBe(BigInt.asUintN(64, ips[i]));
      expect([ours.entry.spOffset, ours.entry.bpOffset, ours.entry.flags]).toEqual([unBuf.readInt16LE(i * 6), unBuf.readInt16LE(i * 6 + 2), unBuf.readUInt16LE(i * 6 + 4)]);
    }
    expect(u.kernelOrc!.lookupHits).toBe(5000);
    expect(u.kernelOrc!.searchHits).toBe(0);
    // each lookup: two u32 of orc_lookup, one block of ips (a few dozen), one 6-byte entry
    expect(u.kernelOrc!.table.reads - readsBefore).toBe(2 * 5000);
    const pages = h.dump.pagesRead.size - pagesBefore;
    console.log(`[unwind] 5000 random ORC lookups touched ${pages} distinct pages (table: ${Math.ceil((ipS.size + unS.size) / 4096)} pages + orc_lookup)`);
  });
});

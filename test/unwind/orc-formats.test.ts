// ORC format detection (.orc_header hash, then the table's entries, then the release) and the
// 7.1+ register numbering, on real data: test/unwind/data/orc-7.2.13-rt-amd64.json was cut from
// Debian sid's linux-image-7.2.13+deb14-rt-amd64-dbg vmlinux by scripts/fixtures/extract-orc-sample.mjs
// (its .orc_header, two runs of 600 .orc_unwind entries, and every entry covering the functions of a
// `echo c > /proc/sysrq-trigger` stack). The walk test lays those entries at their real addresses
// under a hand-built stack, so the unwinder reads the bytes objtool wrote for 7.2.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  decodeOrcEntry,
  isTerminal,
  ORC_REG_BP,
  ORC_REG_PREV_SP,
  ORC_REG_SP,
  ORC_REG_UNDEFINED,
  orcVersionFromEntries,
  orcVersionFromFlags,
  orcVersionFromHeader,
  type OrcVersion,
} from '../../src/kernel/unwind/orc.js';
import { Unwinder } from '../../src/kernel/unwind/unwinder.js';
import { crashStyle, unwinderNotice } from '../../src/kernel/unwind/format.js';
import type { UnwindTypes } from '../../src/kernel/unwind/types.js';
import { FakeMemory, FakeSymbols } from './synthetic.js';

interface Sample {
  release: string;
  orcHeader: string;
  orcEntries: number;
  flagRuns: { first: number; entries: string }[];
  functions: { name: string; address: string; size: number; entries: { offset: number; entry: string }[] }[];
}
const sample = JSON.parse(readFileSync(new URL('./data/orc-7.2.13-rt-amd64.json', import.meta.url), 'utf8')) as Sample;
const fn = (name: string) => {
  const f = sample.functions.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name} in the sample`);
  return { ...f, addr: BigInt(f.address) };
};
const entryAt = (name: string, offset: number, v: OrcVersion) => {
  const e = fn(name).entries.find((x) => x.offset === offset);
  if (!e) throw new Error(`no entry at ${name}+${offset}`);
  return decodeOrcEntry(Buffer.from(e.entry, 'hex'), 0, v);
};
const flagWords = sample.flagRuns.flatMap((r) => {
  const b = Buffer.from(r.entries, 'hex');
  return Array.from({ length: b.length / 6 }, (_, i) => b.readUInt16LE(i * 6 + 4));
});

describe('ORC format of Debian 7.2.13 (real .orc_header and entries)', () => {
  it('.orc_header names v4 (Linux 7.1+)', () => {
    const h = orcVersionFromHeader(Buffer.from(sample.orcHeader, 'hex'));
    expect(h).toMatchObject({ version: 4, hash: '137c36ad7627c4dd55932176bb0ecdbd5041fc82' });
    const flipped = Buffer.from(sample.orcHeader, 'hex');
    flipped[0] ^= 1;
    expect(orcVersionFromHeader(flipped).version).toBeNull();
  });

  it('the entries alone tell v4 from v3: same flag layout, SP-based CALL entries use sp_reg 3', () => {
    expect(flagWords.length).toBe(1200);
    expect(orcVersionFromFlags(flagWords.map((f) => f >> 8))).toBe(3);
    expect(orcVersionFromEntries(flagWords)).toBe(4);
  });

  it('decodes the registers in the 7.1 numbering (and v3 decoding would misread them)', () => {
    // write_sysrq_trigger+18: after push rbp etc.; prev sp = sp + 0x28, saved bp at prev_sp - 0x20
    expect(entryAt('write_sysrq_trigger', 18, 4)).toMatchObject({ type: 'call', spReg: ORC_REG_SP, spOffset: 0x28, bpReg: ORC_REG_PREV_SP, bpOffset: -0x20, signal: false });
    expect(entryAt('write_sysrq_trigger', 18, 3).spReg).not.toBe(ORC_REG_SP); // raw 3 is DI before 7.1
    // do_syscall_64+8: frame based on rbp (raw 4, BP in both numberings)
    expect(entryAt('do_syscall_64', 8, 4)).toMatchObject({ type: 'call', spReg: ORC_REG_BP, spOffset: 0x10, bpReg: ORC_REG_PREV_SP, bpOffset: -0x10 });
    // entry_SYSCALL_64: end of stack at the first instruction, full pt_regs once pushed
    const first = entryAt('entry_SYSCALL_64', 0, 4);
    expect(first.type).toBe('end_of_stack');
    expect(isTerminal(first, 4)).toBe('end');
    expect(entryAt('entry_SYSCALL_64', 82, 4)).toMatchObject({ type: 'regs', spReg: ORC_REG_SP, spOffset: 0, bpReg: ORC_REG_UNDEFINED, signal: true });
  });
});

// ---- a sysrq-trigger stack walked over the real entries ----

const T = 0xffffc90000010000n; // task stack [T, T + 16 KiB)
const TOP = T + 0x4000n;
const P = TOP - 168n; // user pt_regs (task_pt_regs)
const TASK = 0xffff888000100000n;
const IP_TABLE = 0xffffffff84000000n;
const UNWIND = 0xffffffff84100000n;
const HEADER = 0xffffffff84200000n;
const MODULES_HEAD = 0xffffffff84300000n;
const types: UnwindTypes = { offsetOf: (s, m) => (s === 'task_struct' && m === 'stack' ? 0x20 : undefined), sizeOf: () => undefined };

const wst = fn('write_sysrq_trigger').addr;
const vfsWrite = fn('vfs_write').addr;
const ksysWrite = fn('ksys_write').addr;
const doSyscall = fn('do_syscall_64').addr;
const entrySyscall = fn('entry_SYSCALL_64').addr;

function ptRegs(r: Record<string, bigint>): Buffer {
  const names = ['r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di', 'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss'];
  const b = Buffer.alloc(168);
  names.forEach((n, i) => b.writeBigUInt64LE(BigInt.asUintN(64, r[n] ?? 0n), i * 8));
  return b;
}

function sysrqKernel(opts: { header?: Buffer | null; release?: string; stale?: boolean; brokenTables?: boolean } = {}) {
  const mem = new FakeMemory();
  const all = sample.functions
    .flatMap((f) => f.entries.map((e) => ({ ip: BigInt(f.address) + BigInt(e.offset), raw: Buffer.from(e.entry, 'hex') })))
    .sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0))
    .filter((e, i, a) => i === 0 || e.ip !== a[i - 1].ip);
  const ipBuf = mem.map(IP_TABLE, all.length * 4);
  const unBuf = mem.map(UNWIND, all.length * 6);
  all.forEach((e, i) => {
    ipBuf.writeInt32LE(Number(e.ip - (IP_TABLE + BigInt(i * 4))), i * 4);
    e.raw.copy(unBuf, i * 6);
  });
  const header = opts.header === undefined ? Buffer.from(sample.orcHeader, 'hex') : opts.header;
  if (header) mem.map(HEADER, 20).set(header);
  const mods = mem.map(MODULES_HEAD, 16); // an empty module list points at itself
  mods.writeBigUInt64LE(MODULES_HEAD, 0);
  mods.writeBigUInt64LE(MODULES_HEAD, 8);
  // text: each return address follows a 5-byte call, as the stack scanner checks
  for (const f of sample.functions) mem.map(BigInt(f.address), f.size);
  const call = (ret: bigint, target: bigint) => {
    const b = Buffer.alloc(5);
    b[0] = 0xe8;
    b.writeInt32LE(Number(target - ret), 1);
    mem.write(ret - 5n, b);
  };
  const retVfs = vfsWrite + 200n, retKsys = ksysWrite + 100n, retDo = doSyscall + 300n, retEntry = entrySyscall + 150n;
  call(retVfs, wst);
  call(retKsys, vfsWrite);
  call(retDo, ksysWrite);
  call(retEntry, doSyscall);
  mem.map(TASK, 0x100).writeBigUInt64LE(T, 0x20);
  mem.map(T, 0x4000);
  // do_syscall_64 (rbp frame): prev sp = P, return at P-8, rbp = P-0x10 holding the user rbp
  mem.writeU64(P - 8n, retEntry);
  mem.writeU64(P - 0x10n, 0x7ffd0000aaa0n);
  // ksys_write: prev sp = P-0x40, return at P-0x48, do_syscall_64's rbp saved at prev_sp-0x10
  mem.writeU64(P - 0x48n, retDo);
  mem.writeU64(P - 0x50n, P - 0x10n);
  // vfs_write: prev sp = P-0x78 (ksys_write's sp), return at P-0x80
  mem.writeU64(P - 0x80n, retKsys);
  mem.writeU64(P - 0x98n, 0x1111n);
  // write_sysrq_trigger+120: prev sp = sp+0x28 = P-0x108, return at P-0x110
  mem.writeU64(P - 0x110n, retVfs);
  mem.writeU64(P - 0x128n, 0x2222n);
  if (opts.stale) {
    // stale return addresses below the live frames, and an rbp chain leading to them
    mem.writeU64(P - 0x200n, P - 0x180n);
    mem.writeU64(P - 0x1f8n, retKsys);
    mem.writeU64(P - 0x180n, 0n);
    mem.writeU64(P - 0x178n, retDo);
  }
  mem.write(P, ptRegs({ ip: 0x7f1234567890n, sp: 0x7ffd0000a000n, cs: 0x33n, ss: 0x2bn, flags: 0x246n, orig_ax: 1n, bp: 0x7ffd0000aaa0n }));
  const syms = new FakeSymbols([
    ...sample.functions.map((f) => ({ name: f.name, address: BigInt(f.address), size: BigInt(f.size) })),
    { name: '_stext', address: 0xffffffff81000000n }, { name: '_etext', address: 0xffffffff83000000n },
    { name: '__start_orc_unwind_ip', address: IP_TABLE }, { name: '__stop_orc_unwind_ip', address: IP_TABLE + BigInt(all.length * 4) },
    { name: '__start_orc_unwind', address: UNWIND }, { name: '__stop_orc_unwind', address: UNWIND + BigInt(all.length * 6) + (opts.brokenTables ? 6n : 0n) },
    { name: 'modules', address: MODULES_HEAD },
    ...(header ? [{ name: '__start_orc_header', address: HEADER }] : []),
  ]);
  const sp = P - 0x130n;
  const regs = { ip: wst + 120n, sp, bp: opts.stale ? P - 0x200n : 0x3333n, cs: 0x10n, ss: 0x18n, flags: 0x46n };
  return new Unwinder({ memory: mem, symbols: syms, types, release: opts.release ?? sample.release, cpus: [{ cpu: 0, regs, task: TASK }] });
}

describe('walking the real 7.2 entries', () => {
  it('unwinds write_sysrq_trigger to the syscall entry and ends at the user pt_regs, all reliable', async () => {
    const u = sysrqKernel();
    expect(u.version).toBe(4);
    expect(u.status()).toMatchObject({ method: 'orc', formatFallback: false, orcUnusable: null });
    expect(u.status().formatEvidence).toMatch(/137c36ad.*7\.1/);
    expect(unwinderNotice(u.status()).filter((l) => /ORC|format/.test(l))).toEqual([]); // (this mini kernel has no BTF for modules)
    const bt = await u.backtrace(0);
    expect(bt.frames.map((f) => f.function)).toEqual(['write_sysrq_trigger', 'vfs_write', 'ksys_write', 'do_syscall_64', 'entry_SYSCALL_64']);
    expect(bt.frames.every((f) => f.reliable)).toBe(true);
    expect(bt.stopped).toBe('end');
    expect(bt.frames[4].exception).toMatchObject({ userMode: true, regsAddress: P });
    const text = crashStyle(bt);
    expect(text).not.toMatch(/stopped/);
    expect(text).toContain(`#1 [${(P - 0x110n).toString(16)}] vfs_write at ${(vfsWrite + 200n).toString(16)}`);
  });

  it('without .orc_header: the entries decide, and the report says the format was a fallback', async () => {
    const u = sysrqKernel({ header: null, release: '7.2.13+deb14-rt-amd64' });
    expect(u.version).toBe(4);
    const st = u.status();
    expect(st.formatFallback).toBe(true);
    expect(st.formatEvidence).toMatch(/release 7\.2\.13/);
    expect(unwinderNotice(st)[0]).toMatch(/fallback/);
    const bt = await u.backtrace(0);
    expect(bt.frames.map((f) => f.function)).toEqual(['write_sysrq_trigger', 'vfs_write', 'ksys_write', 'do_syscall_64', 'entry_SYSCALL_64']);
  });

  it('an unknown .orc_header hash falls back to the release, and says so', () => {
    const h = Buffer.from(sample.orcHeader, 'hex');
    h[19] ^= 0xff;
    const u = sysrqKernel({ header: h });
    expect(u.version).toBe(4);
    expect(u.status().formatEvidence).toMatch(/not one ktriage knows/);
    expect(unwinderNotice(u.status()).join('\n')).toMatch(/fallback/);
  });

  it('when the ORC tables cannot be used: says which unwinder and why first, and marks no scanned frame reliable', async () => {
    const u = sysrqKernel({ stale: true, brokenTables: true });
    const st = u.status();
    expect(st.method).toBe('stack-scan');
    expect(st.orcUnusable).toMatch(/ORC tables disagree/);
    expect(unwinderNotice(st)[0]).toMatch(/^ORC unwinder not used: .*stack scanning/);
    const bt = await u.backtrace(0);
    expect(bt.unwinder.method).toBe('stack-scan');
    expect(bt.frames.length).toBeGreaterThan(1);
    expect(bt.frames.slice(1).every((f) => !f.reliable)).toBe(true);
    expect(bt.usedFallback).toBe(true);
    // the user pt_regs at the top of the stack is the normal end, not a stop
    expect(bt.stopped).toBe('end');
    expect(crashStyle(bt)).not.toMatch(/stopped/);
  });
});

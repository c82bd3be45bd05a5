import { describe, expect, it } from 'vitest';
import { Unwinder } from '../../src/kernel/unwind/unwinder.js';
import { backtraceToJson, crashStyle } from '../../src/kernel/unwind/format.js';
import type { UnwindTypes } from '../../src/kernel/unwind/types.js';
import { FakeMemory, FakeSymbols, writeOrcTables, type OrcSpec } from './synthetic.js';
import { DEBIAN12_AMD64 } from '../fixture-kernels.js';

// A miniature of the incident: panic <- asm_exc_invalid_op [exception RIP: irq_fpu_usable+57] <-
// blake2s_compress <- post [hazard] <- kprobe_int3_handler <- asm_exc_int3 [exception RIP:
// copy_page_to_iter+7] <- entry_SYSCALL_64_after_hwframe (user regs).
const STEXT = 0xffffffff81000000n;
const f = (off: number) => STEXT + BigInt(off);
const PANIC = f(0x500), E = f(0x3000), A = f(0x1000), B = f(0x2000), D = f(0x5000), E2 = f(0x6000), F = f(0x7000), G = f(0x8000);
const ETEXT = f(0x9000);
const MOD_BASE = 0xffffffffc0000000n;
const POST = MOD_BASE + 0x10n;
const T = 0xffffc90000010000n; // task stack
const S0 = T + 0x3000n;
const R1 = S0 + 0x100n;
const R2 = R1 + 56n + 168n + 0x40n;
const TASK = 0xffff888000100000n;
const MODULE = 0xffff888000200000n;
const MODULES_HEAD = 0xffffffff82800000n;

const types: UnwindTypes = {
  offsetOf(s, m) {
    const t: Record<string, number> = {
      'task_struct.stack': 0x20,
      'module.list': 8, 'module.name': 24, 'module.core_layout.base': 0x100, 'module.core_layout.size': 0x108, 'module.core_layout.text_size': 0x10c,
      'module.arch.num_orcs': 0x200, 'module.arch.orc_unwind_ip': 0x208, 'module.arch.orc_unwind': 0x210, 'module.kallsyms': 0x220,
      'mod_kallsyms.symtab': 0, 'mod_kallsyms.num_symtab': 8, 'mod_kallsyms.strtab': 16,
    };
    return t[`${s}.${m}`];
  },
  sizeOf: () => undefined,
};

function ptRegs(r: Record<string, bigint>): Buffer {
  const names = ['r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di', 'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss'];
  const b = Buffer.alloc(168);
  names.forEach((n, i) => b.writeBigUInt64LE(BigInt.asUintN(64, r[n] ?? 0n), i * 8));
  return b;
}

function build(opts: { breakD?: boolean; realignD?: boolean } = {}) {
  const mem = new FakeMemory();
  mem.map(STEXT, 0x9000); // text (zeros, plus call instructions where the scanner needs them)
  mem.write(E2 + 0x30n, Buffer.from([0xe8, 0, 0, 0, 0])); // call before E2+0x35
  if (opts.realignD) mem.write(D, Buffer.from([0x48, 0x89, 0xec])); // mov rsp, rbp: prologue unusable
  const orc: OrcSpec[] = [
    { ip: STEXT, spReg: 5, spOffset: 8, type: 'call' },
    { ip: PANIC, spReg: 5, spOffset: 8, type: 'call' },
    { ip: A, spReg: 5, spOffset: 8, type: 'call' },
    { ip: B, spReg: 5, spOffset: 24, bpReg: 1, bpOffset: -16, type: 'call' },
    { ip: E, spReg: 5, spOffset: 0, type: 'regs' },
    { ip: D, spReg: opts.breakD ? 0 : 5, spOffset: 8, type: 'call' },
    { ip: E2, spReg: 5, spOffset: 0, type: 'regs' },
    { ip: F, spReg: 5, spOffset: 8, type: 'call' },
    { ip: G, spReg: 5, spOffset: 0, type: 'regs' },
    { ip: ETEXT, spReg: 0, spOffset: 0, type: 'call', end: true },
  ];
  const lk = { ipTable: 0xffffffff82000000n, unwindTable: 0xffffffff82100000n, lookup: 0xffffffff82200000n, stext: STEXT, etext: ETEXT };
  const { lookupBlocks } = writeOrcTables(mem, orc, lk, 1);
  // module: text [MOD_BASE, +0x1000), ORC for post, kallsyms
  mem.map(MOD_BASE, 0x1000);
  writeOrcTables(mem, [{ ip: MOD_BASE, spReg: 5, spOffset: 8, type: 'call' }, { ip: POST, spReg: 5, spOffset: 16, type: 'call' }, { ip: MOD_BASE + 0xa0n, spReg: 0, spOffset: 0, type: 'call', end: true }],
    { ipTable: MOD_BASE + 0x2000n, unwindTable: MOD_BASE + 0x3000n }, 1);
  const m = mem.map(MODULE, 0x400);
  m.writeBigUInt64LE(MODULES_HEAD, 8);
  m.write('hazard\0', 24);
  m.writeBigUInt64LE(MOD_BASE, 0x100);
  m.writeUInt32LE(0x1000, 0x108);
  m.writeUInt32LE(0xa0, 0x10c);
  m.writeUInt32LE(3, 0x200);
  m.writeBigUInt64LE(MOD_BASE + 0x2000n, 0x208);
  m.writeBigUInt64LE(MOD_BASE + 0x3000n, 0x210);
  m.writeBigUInt64LE(MODULE + 0x300n, 0x220);
  const symtab = MOD_BASE + 0x4000n, strtab = MOD_BASE + 0x5000n;
  m.writeBigUInt64LE(symtab, 0x300);
  m.writeUInt32LE(3, 0x308);
  m.writeBigUInt64LE(strtab, 0x310);
  const st = mem.map(symtab, 72);
  st.writeUInt32LE(1, 24); st.writeUInt16LE(2, 24 + 6); st.writeBigUInt64LE(POST, 24 + 8); // post
  st.writeUInt32LE(6, 48); st.writeUInt16LE(2, 48 + 6); st.writeBigUInt64LE(POST + 0x90n, 48 + 8); // post_end
  mem.map(strtab, 32).write('\0post\0post_end\0', 0);
  mem.map(MODULES_HEAD, 16).writeBigUInt64LE(MODULE + 8n, 0);
  // task and its stack
  mem.map(TASK, 0x100).writeBigUInt64LE(T, 0x20);
  mem.map(T, 0x4000);
  mem.writeU64(S0, E + 0x30n);
  mem.write(S0 + 8n, ptRegs({ ip: A + 57n, sp: R1, cs: 0x10n, ss: 0x18n, flags: 0x10006n, bp: 0xb0b0n, ax: 0x1234n, orig_ax: -1n }));
  mem.writeU64(R1, B + 0x20n);
  mem.writeU64(R1 + 16n, 0xbeefn); // saved bp
  mem.writeU64(R1 + 24n, POST + 0x28n);
  mem.writeU64(R1 + 40n, D + 0x10n);
  mem.writeU64(R1 + 48n, E2 + 0x35n);
  mem.write(R1 + 56n, ptRegs({ ip: F + 7n, sp: R2, cs: 0x10n, ss: 0x18n, flags: 0x202n }));
  mem.writeU64(R2, G + 0x20n);
  mem.write(R2 + 8n, ptRegs({ ip: 0x47cf2an, sp: 0x7fff37724ff8n, cs: 0x33n, ss: 0x2bn, flags: 0x246n, orig_ax: 0x28n }));

  const syms = new FakeSymbols([
    { name: '_stext', address: STEXT }, { name: '_etext', address: ETEXT },
    { name: 'panic', address: PANIC, size: 0x100n }, { name: 'irq_fpu_usable', address: A, size: 0x50n },
    { name: 'blake2s_compress', address: B, size: 0xa0n }, { name: 'asm_exc_invalid_op', address: E, size: 0x40n },
    { name: 'kprobe_int3_handler', address: D, size: 0x1b0n }, { name: 'asm_exc_int3', address: E2, size: 0x40n },
    { name: 'copy_page_to_iter', address: F, size: 0x1e0n }, { name: 'entry_SYSCALL_64_after_hwframe', address: G, size: 0x100n },
    { name: '__start_orc_unwind_ip', address: lk.ipTable }, { name: '__stop_orc_unwind_ip', address: lk.ipTable + BigInt(orc.length * 4) },
    { name: '__start_orc_unwind', address: lk.unwindTable }, { name: '__stop_orc_unwind', address: lk.unwindTable + BigInt(orc.length * 6) },
    { name: 'orc_lookup', address: lk.lookup }, { name: 'orc_lookup_end', address: lk.lookup + BigInt(lookupBlocks * 4) },
    { name: 'modules', address: MODULES_HEAD },
  ]);
  const regs = { ip: PANIC + 0x18n, sp: S0, bp: 0n, cs: 0x10n, ss: 0x18n, flags: 0x46n };
  return new Unwinder({ memory: mem, symbols: syms, types, release: DEBIAN12_AMD64, cpus: [{ cpu: 0, regs, task: TASK }] });
}

describe('ORC unwinder on a synthetic kernel', () => {
  it('walks through two exception frames, a module frame, and stops at user mode', async () => {
    const u = build();
    expect(u.problems).toEqual([]);
    const bt = await u.backtrace(0);
    expect(bt.stopped).toBe('end');
    // asm_exc_int3 is not in crash's exception_functions: like crash, the interrupted function
    // also gets a frame, at the pt_regs->ip slot.
    expect(bt.frames.map((x) => x.function)).toEqual(['panic', 'asm_exc_invalid_op', 'blake2s_compress', 'post', 'kprobe_int3_handler', 'asm_exc_int3', 'copy_page_to_iter', 'entry_SYSCALL_64_after_hwframe']);
    expect(bt.frames.map((x) => x.sp)).toEqual([S0, S0, R1, R1 + 24n, R1 + 40n, R1 + 48n, R1 + 56n + 128n, R2]);
    expect(bt.frames[3]).toMatchObject({ module: 'hazard', offset: 0x28n, size: 0x90n, reliable: true, stack: 'task' });
    expect(bt.frames[1].exception).toMatchObject({ rip: 'irq_fpu_usable+57', userMode: false, regsAddress: S0 + 8n });
    expect(bt.frames[5].exception).toMatchObject({ rip: 'copy_page_to_iter+7', userMode: false });
    expect(bt.frames[7].exception).toMatchObject({ userMode: true, ripAddress: 0x47cf2an });
    expect(bt.usedFallback).toBe(false);
    const text = crashStyle(bt);
    expect(text).toContain(` #3 [${(R1 + 24n).toString(16)}] post at ${(POST + 0x28n).toString(16)} [hazard]`);
    expect(text).toContain('    [exception RIP: irq_fpu_usable+57]');
    expect(text).toMatch(/RIP: ffffffff81001039 {2}RSP: [0-9a-f]{16} {2}RFLAGS: 00010006/);
    expect(text).toMatch(/ORIG_RAX: 0000000000000028 {2}CS: 0033 {2}SS: 002b/);
    const json = JSON.parse(JSON.stringify(backtraceToJson(bt))) as { frames: { function: string; sp: string; module?: string; exception?: { rip: string; registers: Record<string, string> } }[] };
    expect(json.frames[3]).toMatchObject({ function: 'post', module: 'hazard', sp: `0x${(R1 + 24n).toString(16)}` });
    expect(json.frames[1].exception).toMatchObject({ rip: 'irq_fpu_usable+57', registers: { ip: '0xffffffff81001039' } });
  });

  it('sizes a frame from the prologue where ORC is undefined (STACK_FRAME_NON_STANDARD code)', async () => {
    const u = build({ breakD: true });
    const bt = await u.backtrace(0);
    expect(bt.usedFallback).toBe(false);
    expect(bt.frames.map((x) => x.function)).toEqual(['panic', 'asm_exc_invalid_op', 'blake2s_compress', 'post', 'kprobe_int3_handler', 'asm_exc_int3', 'copy_page_to_iter', 'entry_SYSCALL_64_after_hwframe']);
    expect(bt.frames[5]).toMatchObject({ reliable: true, sp: R1 + 48n });
    expect(bt.frames[5].note).toMatch(/prologue of kprobe_int3_handler/);
  });

  it('falls back to stack scanning (validated call sites) where neither ORC nor the prologue helps', async () => {
    const u = build({ breakD: true, realignD: true });
    const bt = await u.backtrace(0);
    expect(bt.usedFallback).toBe(true);
    expect(bt.frames.map((x) => x.function)).toEqual(['panic', 'asm_exc_invalid_op', 'blake2s_compress', 'post', 'kprobe_int3_handler', 'asm_exc_int3', 'copy_page_to_iter', 'entry_SYSCALL_64_after_hwframe']);
    expect(bt.frames[5].reliable).toBe(false);
    expect(bt.frames[7].reliable).toBe(true);
    expect(bt.warnings.join()).toMatch(/kprobe_int3_handler/);
    expect(crashStyle(bt)).toContain(`#5 [${(R1 + 48n).toString(16)}] ? asm_exc_int3`);
  });

  it('stops on a loop instead of spinning', async () => {
    const u = build();
    const mem = (u.mem as unknown as { inner: FakeMemory }).inner;
    mem.writeU64(R1, A + 0x20n); // irq_fpu_usable "returns" into itself at the same sp forever
    const bt = await u.backtrace(0, { scan: false });
    expect(bt.frames.length).toBeLessThan(10);
    expect(bt.stopped).not.toBe('end');
  });
});

describe('a kernel without ORC (frame pointers)', () => {
  it('follows the rbp chain, validating each return address', async () => {
    const mem = new FakeMemory();
    mem.map(STEXT, 0x4000);
    const F1 = f(0x100), F2 = f(0x1000), F3 = f(0x2000);
    // call sites: ret F2+0x20 after `call F1`, ret F3+0x30 after `call F2`
    const call = (ret: bigint, target: bigint) => {
      const b = Buffer.alloc(5);
      b[0] = 0xe8;
      b.writeInt32LE(Number(target - ret), 1);
      mem.write(ret - 5n, b);
    };
    call(F2 + 0x20n, F1);
    call(F3 + 0x30n, F2);
    mem.map(T, 0x4000);
    const B1 = T + 0x3e00n, B2 = T + 0x3e40n;
    mem.writeU64(B1, B2);
    mem.writeU64(B1 + 8n, F2 + 0x20n);
    mem.writeU64(B2, 0n);
    mem.writeU64(B2 + 8n, F3 + 0x30n);
    mem.map(TASK, 0x100).writeBigUInt64LE(T, 0x20);
    const syms = new FakeSymbols([
      { name: '_stext', address: STEXT }, { name: '_etext', address: STEXT + 0x4000n },
      { name: 'f1', address: F1, size: 0x100n }, { name: 'f2', address: F2, size: 0x100n }, { name: 'f3', address: F3, size: 0x100n },
    ]);
    const u = new Unwinder({ memory: mem, symbols: syms, types, release: '6.1.0', cpus: [{ cpu: 0, regs: { ip: F1 + 0x10n, sp: B1 - 0x20n, bp: B1, cs: 0x10n }, task: TASK }] });
    expect(u.problems.join()).toMatch(/no ORC tables/);
    const bt = await u.backtrace(0, { scan: false });
    expect(bt.frames.map((x) => `${x.function}@${(x.sp - T).toString(16)}`)).toEqual(['f1@3de0', 'f2@3e08', 'f3@3e48']);
    expect(bt.frames.every((x) => x.reliable)).toBe(true);
  });
});

describe('a CPU without saved registers', () => {
  it('gives an empty trace that says why', async () => {
    const u = build();
    const bt = await new Unwinder({ memory: u.mem, symbols: new FakeSymbols([]), release: '6.1.0', cpus: [{ cpu: 3, regs: {} }] }).backtrace(3);
    expect(bt.frames).toEqual([]);
    expect(bt.stopped).toMatch(/no registers/);
  });
});

describe('garbage on the stack', () => {
  it('never throws, never loops, never exceeds the frame bound', async () => {
    const fc = await import('fast-check');
    const interesting = [A + 57n, B + 0x20n, POST + 0x28n, D + 0x10n, E + 0x30n, E2 + 0x35n, F + 7n, G + 0x20n, S0, R1, R2, T, 0n, -1n];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(...interesting), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { minLength: 8, maxLength: 96 }),
        fc.nat(0x1f0),
        async (words, at) => {
          const u = build();
          const mem = (u.mem as unknown as { inner: FakeMemory }).inner;
          words.forEach((w, i) => mem.writeU64(S0 + BigInt(at & ~7) + BigInt(i * 8), w));
          const bt = await u.backtrace(0);
          expect(bt.frames.length).toBeLessThanOrEqual(256);
          expect(bt.frames.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});

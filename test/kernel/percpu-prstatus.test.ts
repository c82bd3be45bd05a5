import { describe, expect, it } from 'vitest';
import { openKernel } from '../../src/kernel/kernel.js';
import { KernelMemory } from '../../src/kernel/memory.js';
import { PerCpu } from '../../src/kernel/percpu.js';
import { decodePrstatus, identifyPanicCpu, panicCpuFromLog } from '../../src/kernel/prstatus.js';
import { decodePrStatus, X86_64_REGS, AARCH64_REGS } from '../../src/vmcore/notes.js';
import type { KernelLog } from '../../src/kernel/printk.js';
import { BasicSymbolTable, type KernelSymbol } from '../../src/kernel/symbols.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { MemDump } from './helpers.js';
import { DEBIAN12_AMD64 } from '../fixture-kernels.js';

// Image addresses map to physical (vaddr - 0xffffffff80000000); per-CPU areas live in the direct
// map (page_offset_base 0xffff888000000000).
const POB = 0xffff888000000000n;
const img = (off: bigint) => 0xffffffff80000000n + off;
const AREA = [0x100000n, 0x200000n, 0x300000n, 0x400000n];

function kernel(syms: KernelSymbol[], opts: { cpus?: number; online?: number[] } = {}) {
  const dump = new MemDump();
  const vi = parseVmcoreinfo('NUMBER(phys_base)=0\n');
  const mem = new KernelMemory(dump, vi);
  mem.setPageOffsetBase(POB);
  const table = new BasicSymbolTable('system-map', syms, 'test');
  const n = opts.cpus ?? 4;
  dump.writeU64(0x10000n + 0n, 0n);
  for (let c = 0; c < 4; c++) dump.writeU64(0x10000n + BigInt(c) * 8n, POB + AREA[c]); // __per_cpu_offset[]
  const mask = (cpus: number[]) => {
    const b = Buffer.alloc(8);
    for (const c of cpus) b[c >> 3] |= 1 << (c & 7);
    return b;
  };
  dump.write(0x11000n, mask(Array.from({ length: n }, (_, i) => i))); // possible
  dump.write(0x12000n, mask(opts.online ?? Array.from({ length: n }, (_, i) => i))); // online
  dump.write(0x13000n, Buffer.from([n, 0, 0, 0])); // nr_cpu_ids
  return { dump, mem, table };
}

const BASE_SYMS: KernelSymbol[] = [
  { name: '__per_cpu_offset', address: img(0x10000n), type: 'D' },
  { name: '__cpu_possible_mask', address: img(0x11000n), type: 'D' },
  { name: '__cpu_online_mask', address: img(0x12000n), type: 'D' },
  { name: 'nr_cpu_ids', address: img(0x13000n), type: 'D' },
];

describe('PerCpu', () => {
  it('reads __preempt_count, in_kernel_fpu and current_task on every possible CPU (6.1 layout)', () => {
    const { dump, mem, table } = kernel(
      [
        ...BASE_SYMS,
        { name: '__preempt_count', address: 0x1fb40n, type: 'A' },
        { name: 'in_kernel_fpu', address: 0x1fb18n, type: 'A' },
        { name: 'current_task', address: 0x1fb80n, type: 'A' },
      ],
      { cpus: 3, online: [0, 2] },
    );
    const pcs = [0x80110003, 0x80020001, 0x80000000];
    for (let c = 0; c < 3; c++) {
      dump.write(AREA[c] + 0x1fb40n, Buffer.from(new Uint32Array([pcs[c]]).buffer));
      dump.write(AREA[c] + 0x1fb18n, Buffer.from([c === 1 ? 1 : 0]));
      dump.writeU64(AREA[c] + 0x1fb80n, POB + 0x500000n + BigInt(c) * 0x1000n);
    }
    const p = new PerCpu(mem, table, 2);
    expect(p.possible).toEqual([0, 1, 2]);
    expect(p.online).toEqual([0, 2]);
    expect(p.cpuSource).toBe('cpu_possible_mask');
    expect(p.warnings).toEqual([]);
    const pc = p.preemptCount()!;
    expect(pc.source).toBe('__preempt_count');
    expect(pc.values.map((v) => v.value)).toEqual(pcs);
    expect(pc.values[0].address).toBe(POB + AREA[0] + 0x1fb40n);
    const f = p.inKernelFpu()!;
    expect(f.source).toBe('in_kernel_fpu');
    expect(f.values.map((v) => v.value)).toEqual([false, true, false]);
    expect(p.currentTask()!.values.map((v) => v.value)).toEqual([POB + 0x500000n, POB + 0x501000n, POB + 0x502000n]);
    expect(p.address(2, '__preempt_count')).toBe(POB + AREA[2] + 0x1fb40n);
    // crash prints `p __preempt_count` signed
    expect(p.readTyped('__preempt_count', 'int').values.map((v) => v.value)).toEqual([-2146369533, -2147352575, -2147483648]);
    expect(p.readTyped('in_kernel_fpu', 'bool').values.map((v) => v.value)).toEqual([false, true, false]);
    expect(p.readTyped('current_task', 'ptr').values[1].value).toBe(POB + 0x501000n);
    expect(() => p.readTyped('__per_cpu_offset', 'u64')).toThrow(/not a per-CPU variable/);
    expect(() => p.readTyped('nope', 'u64')).toThrow('no symbol nope');
  });

  it('finds pcpu_hot (6.2-6.14) via BTF or the default offsets, and kernel_fpu_allowed inverted (6.16+)', () => {
    const { dump, mem, table } = kernel([
      ...BASE_SYMS,
      { name: 'pcpu_hot', address: 0x1e000n, type: 'A' },
      { name: 'kernel_fpu_allowed', address: 0x1f000n, type: 'A' },
    ]);
    for (let c = 0; c < 4; c++) {
      dump.writeU64(AREA[c] + 0x1e000n, 0xff0000n + BigInt(c)); // current_task @0
      dump.write(AREA[c] + 0x1e008n, Buffer.from(new Uint32Array([0x80000000 + c]).buffer)); // preempt_count @8
      dump.write(AREA[c] + 0x1e010n, Buffer.from(new Uint32Array([0x80110000 + c]).buffer)); // where a BTF says it is
      dump.write(AREA[c] + 0x1f000n, Buffer.from([c % 2]));
    }
    const noBtf = new PerCpu(mem, table, 4);
    const pc = noBtf.preemptCount()!;
    expect(pc.source).toBe('pcpu_hot.preempt_count (offset 8, assumed: no BTF)');
    expect(pc.values.map((v) => v.value)).toEqual([0x80000000, 0x80000001, 0x80000002, 0x80000003]);
    expect(noBtf.currentTask()!.source).toMatch(/^pcpu_hot.current_task \(offset 0/);
    expect(noBtf.currentTask()!.values[3].value).toBe(0xff0003n);
    const fakeBtf = { offsetOf: (s: string, m: string) => (s === 'pcpu_hot' && m === 'preempt_count' ? 16 : s === 'pcpu_hot' && m === 'current_task' ? 0 : undefined) };
    const withBtf = new PerCpu(mem, table, 4, () => fakeBtf as never);
    const pc2 = withBtf.preemptCount()!;
    expect(pc2.source).toBe('pcpu_hot.preempt_count (offset 16 from BTF)');
    expect(pc2.values[1].value).toBe(0x80110001);
    const f = withBtf.inKernelFpu()!;
    expect(f.inverted).toBe(true);
    expect(f.values.map((v) => [v.raw, v.value])).toEqual([
      [0, true],
      [1, false],
      [0, true],
      [1, false],
    ]);
  });

  it('falls back to the NT_PRSTATUS count and reports unreadable CPUs per CPU', () => {
    const { mem } = kernel([]);
    const table = new BasicSymbolTable('system-map', [{ name: '__per_cpu_offset', address: img(0x10000n), type: 'D' }, { name: '__preempt_count', address: 0x1fb40n, type: 'A' }], 't');
    const p = new PerCpu(mem, table, 2);
    expect(p.cpuSource).toBe('prstatus');
    expect(p.possible).toEqual([0, 1]);
    const v = p.preemptCount()!.values;
    expect(v[0].value).toBeUndefined();
    expect(v[0].error).toMatch(/not in dump/);
  });
});

// An NT_PRSTATUS note whose pr_reg (at 112, after pr_pid at 32) holds 1, 2, 3, ...
const prstatusNote = (words: number, pid: number) => {
  const desc = Buffer.alloc(112 + words * 8 + 8);
  desc.writeInt32LE(pid, 32);
  for (let i = 0; i < words; i++) desc.writeBigUInt64LE(BigInt(i + 1), 112 + i * 8);
  return { name: 'CORE', type: 1, desc };
};

describe('NT_PRSTATUS and the panic CPU', () => {
  it('one register vocabulary: the ABI names from the vmcore layer, the pc and sp picked by the Arch record', () => {
    const [x] = decodePrStatus([prstatusNote(X86_64_REGS.length, 5)], 'x86_64');
    expect(x.regs).toMatchObject({ r15: 1n, rip: 17n, rsp: 20n, gs: 27n });
    const p = decodePrstatus(x, 3);
    expect(p).toMatchObject({ cpu: 3, pid: 5, pc: 17n, sp: 20n });
    expect(p.regs.r15).toBe(1n);
    const [a] = decodePrStatus([prstatusNote(AARCH64_REGS.length, 1)], 'aarch64');
    expect(a.regs).toMatchObject({ x0: 1n, x29: 30n, x30: 31n, sp: 32n, pc: 33n, pstate: 34n });
    expect(decodePrstatus(a, 0, { pc: 'pc', sp: 'sp' })).toMatchObject({ pc: 33n, sp: 32n });
    // A note too short for the ABI's pr_reg is not decoded.
    expect(decodePrStatus([prstatusNote(20, 1)], 'x86_64')).toEqual([]);
  });

  const T = 0xffffffff81000000n;
  const syms = new BasicSymbolTable(
    'vmlinux',
    [
      { name: '_stext', address: T, type: 'T', size: 0x10n },
      { name: 'panic', address: T + 0x100n, type: 'T', size: 0x100n },
      { name: 'delay_tsc', address: T + 0x200n, type: 'T', size: 0x100n },
      { name: 'stop_this_cpu', address: T + 0x300n, type: 'T', size: 0x100n },
      { name: 'native_safe_halt', address: T + 0x400n, type: 'T', size: 0x100n },
      { name: '_etext', address: T + 0x1000n, type: 'T', size: 0n },
    ],
    't',
  );
  const stack = (words: bigint[]) => {
    const b = Buffer.alloc(words.length * 8);
    words.forEach((w, i) => b.writeBigUInt64LE(w, i * 8));
    return b;
  };
  const stacks = new Map<bigint, Buffer>([
    [0xffffc90000003f00n, stack([0n, T + 0x1f0n, 0x1234n])], // panic's caller frame
    [0xffffc90000013f00n, stack([T + 0x310n])],
    [0xffffc90000023f00n, stack([T + 0x410n])],
  ]);
  const mem = {
    tryRead: (a: bigint, len: number) => {
      const b = stacks.get(a);
      return b ? Buffer.concat([b, Buffer.alloc(Math.max(0, len - b.length))]).subarray(0, len) : undefined;
    },
    readI32: () => {
      throw new Error('no panic_cpu');
    },
  };
  const cpus = [0, 1, 2].map((c) => decodePrstatus({ index: c, pid: c + 1, regs: { rip: c === 0 ? T + 0x233n : c === 1 ? T + 0x36bn : T + 0x401n, rsp: 0xffffc90000003f00n + BigInt(c) * 0x10000n } }, c));
  const log: KernelLog = {
    format: 'printk_ringbuffer',
    stats: { reserved: 0, committed: 0, finalized: 1, reusable: 0, miss: 0, badData: 0 },
    warnings: [],
    records: [{ seq: 1n, tsNsec: 1n, text: `CPU: 2 PID: 97 Comm: init Not tainted ${DEBIAN12_AMD64} #1 Debian 6.1.192-2`, state: 'finalized' }],
  };

  it('uses registers and stacks when panic_cpu cannot be read', () => {
    const r = identifyPanicCpu({ cpus, syms, mem, log });
    expect(r.cpu).toBe(0);
    expect(r.evidence).toBe('registers/stack');
    expect(r.cpus.map((c) => c.activity)).toEqual(['panic', 'stopped', 'idle']);
    expect(r.details).toContain('CPU 0: panic at delay_tsc+0x33 (panic)');
  });

  it('prefers the panic_cpu variable, then falls back to the log', () => {
    const withVar = identifyPanicCpu({ cpus, syms: new BasicSymbolTable('vmlinux', [...syms.all(), { name: 'panic_cpu', address: 0xffffffff82000000n, type: 'D' }], 't'), mem: { ...mem, readI32: () => 1 }, log });
    expect(withVar.cpu).toBe(1);
    expect(withVar.evidence).toBe('panic_cpu variable');
    expect(withVar.details).toContain('registers/stack point at CPU 0 instead');
    expect(panicCpuFromLog(log)).toBe(2);
    const logOnly = identifyPanicCpu({ cpus, log });
    expect(logOnly).toMatchObject({ cpu: 2, evidence: 'log' });
    const none = identifyPanicCpu({ cpus: [] });
    expect(none.cpu).toBeUndefined();
    expect(none.evidence).toBe('none');
  });
});

describe('openKernel', () => {
  it('needs VMCOREINFO and says which symbol file would help', () => {
    const d = new MemDump();
    expect(() => openKernel(d)).toThrow(/no VMCOREINFO/);
    d.vmcoreinfo = `OSRELEASE=${DEBIAN12_AMD64}\nPAGESIZE=4096\n`;
    const k = openKernel(d, { systemMap: '/nonexistent/System.map' });
    expect(k.symbolsOrNull()).toBeNull();
    expect(k.symbolAttempts.map((a) => a.source)).toEqual(['kallsyms', 'system-map']);
    expect(() => k.symbols).toThrow(new RegExp(`--system-map /usr/lib/debug/boot/System.map-${DEBIAN12_AMD64} or --vmlinux /usr/lib/debug/boot/vmlinux-${DEBIAN12_AMD64}`));
    expect(k.btf).toBeUndefined();
    expect(k.btfError).toBe('no symbols');
  });
});

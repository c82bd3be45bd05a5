// The public API (src/index.ts) on the committed 2-CPU dump, checked against crash's record of the
// same dump (referee JSON), and the example in examples/ run as a user would run it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { currentTasks } from '../../examples/current-tasks.js';
import * as api from '../../src/index.js';
import { DumpReadError, InputError, KernelObject, LookupError, openDump, openKernel, type DumpFile, type Kernel } from '../../src/index.js';
import type { RefereeJson } from '../fixture-dumps.js';
import { FIXTURES } from '../paths.js';

// The README's example dump and crash's record of it, named directly: the example is about this one.
const DIR = join(FIXTURES, 'vmcore-debian-6.1.192-buggy-2cpu');
const fx = { file: () => join(DIR, 'vmcore.d31.kdump-zlib') };
const ref = JSON.parse(readFileSync(join(DIR, 'referee.kdump-zlib.json'), 'utf8')) as RefereeJson;
const hex32 = (v: number) => '0x' + (v >>> 0).toString(16);

describe('examples/current-tasks.ts', () => {
  it("prints every CPU's current task and preempt_count as crash reads them", async () => {
    const out = await currentTasks(fx.file());
    process.stdout.write(out);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe(`kernel ${ref.release}, ${ref.cpus} CPUs, panic CPU ${ref.panic_task.cpu}`);
    for (const [cpu, pc] of Object.entries(ref.preempt_count)) {
      const row = lines.find((l) => l.slice(1).startsWith(`${cpu} `));
      expect(row, `CPU ${cpu}`).toBeDefined();
      expect(row).toContain(pc.hex);
      expect(row!.startsWith('>')).toBe(Number(cpu) === ref.panic_task.cpu);
    }
    expect(lines.find((l) => l.startsWith(`>${ref.panic_task.cpu}`))).toContain(`${ref.panic_task.comm} (pid ${ref.panic_task.pid})`);
    expect(lines.at(-1)).toBe('init_task.comm = "swapper/0"');
  });
});

describe('the example on every committed dump (5.10, 6.1, 7.2: per-CPU layouts and BTF differ)', () => {
  for (const dir of readdirSync(FIXTURES).filter((d) => d.startsWith('vmcore-')).sort()) {
    const dumps = readdirSync(join(FIXTURES, dir)).filter((f) => /^vmcore\..*kdump-zlib$/.test(f));
    const refFile = join(FIXTURES, dir, 'referee.kdump-zlib.json');
    if (!dumps.length || !existsSync(refFile)) continue;
    it(`${dir}/${dumps[0]}`, async () => {
      const r = JSON.parse(readFileSync(refFile, 'utf8')) as RefereeJson;
      const lines = (await currentTasks(join(FIXTURES, dir, dumps[0]))).trim().split('\n');
      expect(lines[0]).toBe(`kernel ${r.release}, ${parseInt(r.cpus, 10)} CPUs, panic CPU ${r.panic_task.cpu}`); // crash: "2 [OFFLINE: 1]"
      for (const [cpu, pc] of Object.entries(r.preempt_count)) expect(lines.find((l) => l.slice(1).startsWith(`${cpu} `))).toContain(pc.hex);
      expect(lines.find((l) => l.startsWith(`>${r.panic_task.cpu}`))).toContain(`${r.panic_task.comm} (pid ${r.panic_task.pid})`);
      // Trimmed dumps keep only the pages the analysis reads, which need not include init_task.
      expect(lines.at(-1)).toMatch(/^init_task\.comm(?: = "swapper\/0"|: not in this dump \(physical page 0x[0-9a-f]+ is not in the dump)/);
    });
  }
});

describe('Kernel', () => {
  let dump: DumpFile;
  let k: Kernel;
  beforeAll(async () => {
    dump = await openDump(fx.file());
    k = openKernel(dump);
  });
  afterAll(() => dump.close());

  it('release, CPUs, panic CPU', () => {
    expect(k.release).toBe(ref.release);
    expect(k.cpus).toEqual(Object.keys(ref.preempt_count).map(Number));
    expect(k.panicCpu.cpu).toBe(ref.panic_task.cpu);
  });

  it('symbol() by name and by address, readU64()', () => {
    const s = k.symbol('irq_fpu_usable')!;
    expect('0x' + s.address.toString(16)).toBe(ref.sym_irq_fpu_usable);
    const inside = k.symbol(s.address + 57n)!;
    expect([inside.name, inside.offset]).toEqual(['irq_fpu_usable', 57n]);
    expect(k.symbol('no_such_symbol_at_all')).toBeUndefined();
    // __per_cpu_offset[0] is a real address in the direct map, read both ways.
    const off0 = k.readU64('__per_cpu_offset');
    expect(off0).toBe(k.readU64(k.symbol('__per_cpu_offset')!.address));
    expect(off0 > 0xff00000000000000n).toBe(true);
  });

  it('preemptCount(), currentTask() and perCpu() agree with crash', () => {
    for (const [cpu, pc] of Object.entries(ref.preempt_count)) {
      const c = Number(cpu);
      expect(hex32(k.preemptCount(c))).toBe(pc.hex);
      expect(k.perCpu('__preempt_count', c).value()).toBe(pc.int);
      expect('0x' + k.currentTask(c)!.address.toString(16)).toBe(ref.current_task[cpu]);
      expect(k.perCpu('current_task', c).value()).toBe(BigInt(ref.current_task[cpu]));
    }
    const t = k.currentTask(ref.panic_task.cpu)!;
    expect([t.pid, t.comm]).toEqual([ref.panic_task.pid, ref.panic_task.comm]);
  });

  it('typed reads through BTF: object(), member(), pointers, arrays, format()', () => {
    const init = k.object('init_task');
    expect(init).toBeInstanceOf(KernelObject);
    expect(init.type).toBe('struct task_struct');
    expect(init.member('comm').type).toBe('char[16]');
    expect(init.member('comm').string()).toBe('swapper/0');
    expect(init.member('comm').index(0).value()).toBe('s'.charCodeAt(0));
    expect(init.member('pid').value()).toBe(0);
    // A pointer member followed with member() (drgn's ->): current_task -> its comm.
    const cur = k.perCpu('current_task', ref.panic_task.cpu);
    expect(cur.kind).toBe('pointer');
    expect(cur.member('comm').string()).toBe(ref.panic_task.comm);
    expect(cur.deref().member('pid').value()).toBe(ref.panic_task.pid);
    const byAddr = k.object(BigInt(ref.panic_task.task), 'struct task_struct');
    expect(byAddr.member('pid').value()).toBe(ref.panic_task.pid);
    expect(byAddr.member('thread.sp').kind).toBe('int');
    // As crash's `p init_task.comm` prints it (gdb keeps the NULs after the first).
    expect(init.member('comm').format()).toBe(String.raw`"swapper/0\000\000\000\000\000\000"`);
    expect(k.perCpu('runqueues', 0).member('cpu').value()).toBe(0);
    expect(k.perCpu('runqueues', 1).member('cpu').value()).toBe(1);
  });

  it('lookups that cannot succeed throw LookupError, an InputError with one line', () => {
    expect(() => k.object('init_task').member('no_such_member')).toThrow(LookupError);
    expect(() => k.object('jiffies_not_a_symbol')).toThrow(LookupError);
    expect(() => k.object('__preempt_count')).toThrow(/per-CPU variable: use perCpu/);
    expect(() => k.object(0xffffffff81000000n, 'struct no_such_struct')).toThrow(/not in the kernel's BTF/);
    expect(() => k.readU64(0x1000n)).toThrow(DumpReadError);
    try {
      k.object('init_task').member('nope');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('stackTrace() of the panic CPU, and of the task running there, is crash\'s bt', async () => {
    const bt = await k.stackTrace(ref.panic_task.cpu);
    const names = bt.frames.map((f) => f.function);
    // crash's bt, in order, as a subsequence (crash prints a few extra interrupted-function lines).
    let i = 0;
    for (const n of names) if (n === ref.bt[i]) i++;
    expect(i, `frames ${names.join(' ')}`).toBeGreaterThanOrEqual(ref.bt.indexOf('copy_page_to_iter'));
    const byTask = await k.stackTrace(k.currentTask(ref.panic_task.cpu)!);
    expect(byTask.frames.map((f) => f.function)).toEqual(names);
    await expect(k.stackTrace(BigInt(ref.current_task[String(ref.panic_task.cpu)]) + 64n)).rejects.toThrow(/not supported yet/);
  });

  it('log(): the printk ring buffer, with the WARN', () => {
    const log = k.log();
    expect(log.records.length).toBeGreaterThan(100);
    expect(k.logText()).toContain('irq_fpu_usable');
    expect(k.logText({ tail: 3 }).trim().split('\n').length).toBe(3);
  });
});

describe('analysis functions', () => {
  it('explainPreemptCount takes numbers and crash-style text alike', () => {
    const a = api.explainPreemptCount(0x80110003);
    const b = api.explainPreemptCount('-2146369533');
    expect(a).toEqual(b);
    expect(a.schemaVersion).toBe(api.SCHEMA_VERSION);
    expect(a.predicates.inNmi).toBe(true);
    expect(() => api.explainPreemptCount('zz')).toThrow(InputError);
  });

  it('analyzeLog on text, analyzeDump on an open dump (left open)', async () => {
    const d = await api.analyzeLog('WARNING: CPU: 0 PID: 1 at kernel/x.c:1 f+0x1/0x2\n');
    expect(d.source).toBe('log');
    const dump = await openDump(fx.file());
    try {
      const r = await api.analyzeDump(dump, { input: 'mine' });
      expect([r.schemaVersion, r.input, r.panicCpu]).toEqual([api.SCHEMA_VERSION, 'mine', ref.panic_task.cpu]);
      expect(dump.readPhysical(0x1000n, 8).length).toBe(8);
    } finally {
      dump.close();
    }
  });
});

// `percpu symbol.member` through BTF, on the real 2-CPU fixture (Debian 12's 6.1.192 amd64 kernel), checked
// against crash 8.0.2 run with the same kernel's debug vmlinux (its -dbg package):
// fixtures/vmcore-debian-6.1.192-buggy-2cpu/crash.kdump-zlib.percpu-members.txt holds the session
// (`p cpu_info:a`, `struct rq.nr_running,cpu,clock,nr_switches,cfs runqueues:a`, `p runqueues:1`).
// 6.1 keeps __preempt_count, so the pcpu_hot suggestion is tested on a synthetic 6.2-6.14 BTF.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percpuText } from '../../src/cli/commands/percpu-command.js';
import { Btf, BTF_KIND as K } from '../../src/kernel/btf.js';
import { openKernel, type Kernel } from '../../src/kernel/kernel.js';
import { editDistance, resolvePerCpuPath, splitPerCpuPath, suggestPerCpu } from '../../src/kernel/percpu-path.js';
import { BasicSymbolTable } from '../../src/kernel/symbols.js';
import { openDumpAsync } from '../../src/vmcore/index.js';
import type { DumpFile } from '../../src/vmcore/types.js';
import { BtfWriter } from './synthetic.js';

const FIX = path.resolve(import.meta.dirname, '../../fixtures/vmcore-debian-6.1.192-buggy-2cpu');
const DUMP = path.join(FIX, 'vmcore.d31.kdump-zlib');
const REF = path.join(FIX, 'crash.kdump-zlib.percpu-members.txt');

/** crash's `per_cpu(sym, N) = $k = {...}` block, with the `$k = ` history number removed. */
function crashBlock(ref: string, sym: string, cpu: number): string {
  const m = new RegExp(`^per_cpu\\(${sym}, ${cpu}\\) = \\$\\d+ = (\\{[\\s\\S]*?\\n\\})$`, 'm').exec(ref);
  if (!m) throw new Error(`no per_cpu(${sym}, ${cpu}) block in the crash record`);
  return `per_cpu(${sym}, ${cpu}) = ${m[1]}`;
}

describe('percpu member paths on the 2-CPU fixture, against crash', () => {
  let dump: DumpFile;
  let k: Kernel;
  let ref: string;
  beforeAll(async () => {
    dump = await openDumpAsync(DUMP);
    k = openKernel(dump);
    ref = fs.readFileSync(REF, 'utf8');
  });
  afterAll(() => dump?.close());
  const one = (what: string, cpu: number) => {
    const out = percpuText(k, what, {});
    const start = out.indexOf(`per_cpu(${splitPerCpuPath(what).symbol}, ${cpu})`);
    const next = out.indexOf('\nper_cpu(', start + 1);
    return out.slice(start, next < 0 ? undefined : next + 1).trimEnd();
  };

  it('whole per-CPU structs print exactly as crash prints them (cpu_info on both CPUs, struct rq on CPU 1)', () => {
    expect(one('cpu_info', 0)).toBe(crashBlock(ref, 'cpu_info', 0));
    expect(one('cpu_info', 1)).toBe(crashBlock(ref, 'cpu_info', 1));
    expect(one('runqueues', 1)).toBe(crashBlock(ref, 'runqueues', 1)); // 650 lines: arrays of structs, bitfields, pointers with <symbol>
  });

  it('members, nested members and array elements have crash\'s values on each CPU', () => {
    // From `struct rq.nr_running,cpu,clock,nr_switches,cfs runqueues:a` in the record.
    const rq = (cpu: number, member: string) => new RegExp(`\\[${cpu}\\]: [0-9a-f]+\\n[\\s\\S]*?\\n  ${member} = ([^,\\n]+)`).exec(ref)![1];
    for (const cpu of [0, 1]) {
      for (const m of ['nr_running', 'clock', 'nr_switches']) expect(one(`runqueues.${m}`, cpu)).toMatch(new RegExp(`^per_cpu\\(runqueues, ${cpu}\\)\\.${m} = ${rq(cpu, m)}( \\(0x[0-9a-f]+\\))?$`));
    }
    expect(one('runqueues.clock', 0)).toBe('per_cpu(runqueues, 0).clock = 41480876785 (0x9a873f2f1)');
    expect(one('runqueues.clock', 1)).toBe('per_cpu(runqueues, 1).clock = 41545664043 (0x9ac50862b)');
    expect(one('runqueues.cfs.min_vruntime', 1)).toBe('per_cpu(runqueues, 1).cfs.min_vruntime = 36785068797 (0x8908f9afd)');
    expect(one('runqueues.cfs.curr', 0)).toBe('per_cpu(runqueues, 0).cfs.curr = (struct sched_entity *) 0xff45c72d97f8a180');
    expect(one('runqueues.cfs.tg', 1)).toBe('per_cpu(runqueues, 1).cfs.tg = (struct task_group *) 0xffffffffaf586780 <root_task_group>');
    expect(one('runqueues.cfs.load.weight', 0)).toBe('per_cpu(runqueues, 0).cfs.load.weight = 1048576 (0x100000)');
    // cpu_info: `x86_capability = {533462013, 3990092797, ...}` (inside an anonymous union), chars, strings
    expect(one('cpu_info.x86_capability[1]', 0)).toBe('per_cpu(cpu_info, 0).x86_capability[1] = 3990092797 (0xedd3fbfd)');
    expect(one('cpu_info.loops_per_jiffy', 1)).toBe('per_cpu(cpu_info, 1).loops_per_jiffy = 3547136 (0x362000)');
    expect(one('cpu_info.apicid', 1)).toBe('per_cpu(cpu_info, 1).apicid = 1');
    expect(one('cpu_info.x86', 0)).toBe("per_cpu(cpu_info, 0).x86 = 15 '\\017'");
    expect(one('cpu_info.x86_vendor_id', 0)).toBe('per_cpu(cpu_info, 0).x86_vendor_id = "AuthenticAMD\\000\\000\\000"');
    expect(one('cpu_info.x86_cache_occ_scale', 0)).toBe('per_cpu(cpu_info, 0).x86_cache_occ_scale = -1');
  });

  it('the member offset is the BTF one (runqueues.clock at the address crash\'s struct rq shows)', () => {
    const t = resolvePerCpuPath(k.symbols, k.btf, 'runqueues.cfs.nr_running');
    // crash: `[0]: ff45c72d8e831c40` is &runqueues on CPU 0
    expect(k.percpu.address(0, t.symbolValue)).toBe(0xff45c72d8e831c40n);
    expect(t).toMatchObject({ symbol: 'runqueues', path: '.cfs.nr_running', typeName: 'unsigned int', size: 4 });
    expect(t.offset).toBe(k.btf!.offsetOf('rq', 'cfs')! + k.btf!.offsetOf('cfs_rq', 'nr_running')!);
  });

  it('the plain 32-bit int keeps its form; --type still reads raw', () => {
    expect(percpuText(k, '__preempt_count', {})).toBe('per_cpu(__preempt_count, 0) = 0x80110004 (-2146369532)\nper_cpu(__preempt_count, 1) = 0x80110001 (-2146369535)\n');
    expect(percpuText(k, 'cpu_info', { type: 'u8' })).toBe('per_cpu(cpu_info, 0) = 15\nper_cpu(cpu_info, 1) = 15\n');
    const j = JSON.parse(percpuText(k, 'runqueues.nr_switches', { json: true }));
    expect(j).toMatchObject({ symbol: 'runqueues', path: '.nr_switches', type: 'u64', values: [{ cpu: 0, value: '4335' }, { cpu: 1, value: '3693' }] });
    expect(BigInt(j.values[0].address)).toBe(0xff45c72d8e831c40n + BigInt(j.memberOffset));
  });

  it('wrong names get the kernel\'s own suggestions', () => {
    expect(() => percpuText(k, 'runqueues.nr_runing', {})).toThrow(/struct rq \(runqueues\) has no member nr_runing; did you mean runqueues\.nr_running\?/);
    expect(() => percpuText(k, 'cpu_inf.apicid', {})).toThrow(/per-CPU symbol cpu_inf not found; did you mean cpu_info\.apicid\?/);
    // 6.2-6.14 name on a 6.1 kernel: the member moved back to its own variable
    expect(() => percpuText(k, 'pcpu_hot.preempt_count', {})).toThrow(/pcpu_hot not found; did you mean __preempt_count\?/);
    // a member of a per-CPU struct typed as a variable
    expect(() => percpuText(k, 'loaded_mm', {})).toThrow(/did you mean cpu_tlbstate\.loaded_mm/);
    expect(() => percpuText(k, 'runqueues.curr.pid', {})).toThrow(/runqueues\.curr is a pointer \(struct task_struct \*\)/);
    expect(() => percpuText(k, 'jiffies', {})).toThrow(/jiffies is not a per-CPU variable/);
    expect(() => percpuText(k, 'runqueues.nr_running', { type: 'int' })).toThrow(/--type cannot be combined/);
    expect(() => percpuText(k, 'runqueues..x', {})).toThrow(/bad member path/);
  });
});

describe('suggestions on a 6.2-6.14 layout (pcpu_hot)', () => {
  // struct pcpu_hot as arch/x86/include/asm/current.h (6.2+) declares it (no call-depth tracking), one VAR in .data..percpu
  const w = new BtfWriter();
  const int = w.t(K.INT, 'int', 4, [(1 << 24) | 32]); // 1
  const task = w.struct(K.STRUCT, 'task_struct', 16, []); // 2
  const ptr = w.t(K.PTR, '', task); // 3
  const hot = w.struct(K.STRUCT, 'pcpu_hot', 64, [
    ['current_task', ptr, 0],
    ['preempt_count', int, 64],
    ['cpu_number', int, 96],
  ]); // 4
  const u = w.struct(K.UNION, '', 64, [['', hot, 0]]); // 5: the kernel wraps it in a union with u8 pad[64]
  const v = w.t(K.VAR, 'pcpu_hot', u, [1]); // 6
  w.t(K.DATASEC, '.data..percpu', 0x40000, [v, 0x32040, 64], 1); // 7
  const btf = Btf.parse(w.build());
  const syms = new BasicSymbolTable('kallsyms', [{ name: 'pcpu_hot', address: 0x32040n, type: 'D' }, { name: 'runqueues', address: 0x33000n, type: 'D' }], 'test');

  it('__preempt_count and current_task point at pcpu_hot members; the member path resolves', () => {
    expect(suggestPerCpu(syms, btf, '__preempt_count')).toEqual(['pcpu_hot.preempt_count']);
    expect(suggestPerCpu(syms, btf, 'current_task')).toEqual(['pcpu_hot.current_task']);
    expect(suggestPerCpu(syms, btf, 'cpu_number')).toEqual(['pcpu_hot.cpu_number']);
    expect(() => resolvePerCpuPath(syms, btf, '__preempt_count')).toThrow(/did you mean pcpu_hot\.preempt_count\?/);
    expect(resolvePerCpuPath(syms, btf, 'pcpu_hot.preempt_count')).toMatchObject({ offset: 8, size: 4, typeName: 'int' });
    expect(resolvePerCpuPath(syms, btf, 'pcpu_hot.current_task')).toMatchObject({ offset: 0, size: 8, typeName: 'struct task_struct *' });
  });

  it('close spellings', () => {
    expect(editDistance('runqueus', 'runqueues')).toBe(1);
    expect(suggestPerCpu(syms, btf, 'pcpu_hoot', '.preempt_count')).toContain('pcpu_hot.preempt_count');
  });
});

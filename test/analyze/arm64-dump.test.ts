// The real arm64 dump (Debian 12's arm64 6.1.192, sysrq-c in qemu-system-aarch64, 2 vCPUs; see
// fixtures/vmcore-debian-6.1.192-arm64-sysrq-2cpu/README.md) against its referees (drgn 0.3.0,
// crash 9.0.2 built for ARM64: referee.json). The committed ELF is xz-compressed (9.6 MB; 512 MiB
// unpacked), so it is unpacked once into the temporary folder. Debian builds this kernel without
// CONFIG_KALLSYMS_ALL: every per-CPU value below comes from symbols recovered from code and BTF.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from '../paths.js';

const DIR = join(FIXTURES, 'vmcore-debian-6.1.192-arm64-sysrq-2cpu');
const referee = JSON.parse(readFileSync(join(DIR, 'referee.json'), 'utf8'));
const ELF_SIZE = 536_881_123;
const work = join(tmpdir(), 'ktriage-arm64-fixture');
const ELF = join(work, 'vmcore.elf');
const bin = join(REPO, 'bin/ktriage.js');
const run = (args: string[]) => spawnSync('node', [bin, ...args, '--no-cache'], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });

/** `sub` appears in `all` in order (drgn adds inline frames a frame-record walk cannot see). */
function isSubsequence(sub: string[], all: string[]): boolean {
  let i = 0;
  for (const f of all) if (i < sub.length && f === sub[i]) i++;
  return i === sub.length;
}

beforeAll(() => {
  if (existsSync(ELF) && statSync(ELF).size === ELF_SIZE) return;
  mkdirSync(work, { recursive: true });
  writeFileSync(ELF, execFileSync('xz', ['-dc', join(DIR, 'vmcore.elf.xz')], { maxBuffer: ELF_SIZE + 1 }));
}, 120_000);

describe('arm64 vmcore (Debian 12 arm64 6.1.192, sysrq)', () => {
  it('info: release, KASLR offset, 4-level paging, symbols from kallsyms', () => {
    const r = run(['info', ELF, '--json']);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.kernelRelease).toBe(referee.vmcoreinfo.OSRELEASE);
    expect(d.kaslrOffset).toBe('0x0000' + referee.vmcoreinfo.KERNELOFFSET);
    expect(d.pagingLevels).toBe(4);
    expect(d.symbolSource).toMatch(/^kallsyms/);
    expect(d.panicCpu).toBe(referee.panic_cpu.value);
    // crash's help -m: VA_BITS 48, page_offset ffff000000000000, phys_offset 40000000, kimage_voffset, KERNELPACMASK
    expect(d).toMatchObject({ arch: 'arm64', vaBits: 48, granule: 4096, pageOffset: '0xffff000000000000', physOffset: '0x0000000040000000', kimageVoffset: referee.globals.kimage_voffset, kernelPacMask: referee.vmcoreinfo['NUMBER(KERNELPACMASK)'] });
  });

  it('log: the printk ring ends with the panic message', () => {
    const r = run(['log', ELF, '--tail', String(referee.dmesg_tail.length)]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`end Kernel panic - not syncing: ${referee.panic_message.value} \\]---$`));
    // drgn's get_dmesg tail, line for line
    expect(lines).toEqual(referee.dmesg_tail);
  });

  it('percpu: __entry_task, irq_stack_ptr and fpsimd_context_busy as drgn reads them', () => {
    const task = run(['percpu', ELF, '__entry_task', '--json']);
    expect(task.status).toBe(0);
    const irq = run(['percpu', ELF, 'irq_stack_ptr', '--json']);
    const text = task.stdout + irq.stdout;
    for (const c of referee.cpus) {
      expect(text).toContain(c.entry_task.replace(/^0x/, ''));
      expect(text).toContain(c.irq_stack_ptr.replace(/^0x/, ''));
    }
  });

  it('analyze --json: panic CPU, every CPU\'s preempt_count, current task and SIMD state, the backtrace', () => {
    const r = run(['analyze', ELF, '--json']);
    expect(r.status).toBe(0); // no known hazard
    const d = JSON.parse(r.stdout);
    expect(d.panicCpu).toBe(referee.panic_cpu.value);
    // panic_cpu is not in this kallsyms (no data symbols): the registers and stacks decide.
    expect(d.panicCpuEvidence).toMatch(/^registers\/stack: CPU 0: panic .*CPU 1: stopped at local_cpu_stop/);
    expect(d.cpus.map((c: { state: string }) => c.state)).toEqual(['called panic() (panic)', 'stopped by the panic (local_cpu_stop)']);
    expect(d.cpus[0].preemptSource).toMatch(/no CONFIG_PREEMPT_COUNT/);
    expect(d.panicMessage).toContain(referee.panic_message.value);
    for (const c of referee.cpus) {
      const got = d.cpus.find((x: { cpu: number }) => x.cpu === c.cpu);
      expect(got.preemptCount).toBe(c.preempt_count);
      expect(got.task).toEqual({ address: c.current.task, pid: c.current.pid, comm: c.current.comm });
      expect(got.inKernelFpu).toBe(c.fpsimd_context_busy);
    }
    // CPU 0: need_resched word 0 = a reschedule is pending (inverted); CPU 1: one hardirq level, none pending.
    expect(d.cpus[0].preempt.predicates).toMatchObject({ inHardirq: false });
    expect(d.cpus[1].preempt.summary).toMatch(/hardirq 1.*no resched pending/);
    const fns = d.backtrace.frames.map((f: { function: string }) => f.function.replace(/\.constprop\.\d+$/, ''));
    expect(fns).toEqual(referee.backtrace.functions_not_inline);
    // crash's frame addresses (the frame records), and drgn's pcs, PAC bits stripped.
    expect(d.backtrace.frames.map((f: { sp: string }) => BigInt(f.sp))).toEqual(referee.crash.bt.map((f: { frame: string }) => BigInt(f.frame)));
    expect(d.backtrace.frames.slice(0, 5).map((f: { pc: string }) => BigInt(f.pc))).toEqual(referee.backtrace.frames.slice(0, 5).map((f: { pc: string }) => BigInt(f.pc)));
  });

  it('bt --all: CPU 1 through the IRQ stack and the el1h_64_irq exception frame into the idle loop', () => {
    const r = run(['bt', ELF, '--all', '--json']);
    expect(r.status).toBe(0);
    const traces = JSON.parse(r.stdout).items;
    const cpu1 = traces.find((t: { cpu: number }) => t.cpu === 1);
    const fns = cpu1.frames.map((f: { function: string }) => f.function);
    expect(fns.length).toBeGreaterThanOrEqual(17);
    expect(isSubsequence(fns, referee.cpus[1].functions)).toBe(true);
    expect(fns.at(-1)).toBe('__secondary_switched');
    const irqFrame = cpu1.frames.find((f: { function: string }) => f.function === 'el1h_64_irq');
    expect(irqFrame.exception.rip).toMatch(/^arch_cpu_idle\+/);
  });

  it('sym, rd and dis: crash\'s symbol address, memory, A64 with absolute branch targets', () => {
    const sym = run(['sym', ELF, 'sysrq_handle_crash']);
    expect(sym.stdout.trim()).toBe('ffffdec384a35044 (t) sysrq_handle_crash');
    const rd = run(['rd', ELF, referee.cpus[0].current.task, '1']);
    expect(rd.status).toBe(0);
    // sysrq_handle_crash's only call: panic("sysrq triggered crash")
    const dis = run(['dis', ELF, 'sysrq_handle_crash', '8']);
    expect(dis.stdout).toMatch(/<sysrq_handle_crash\+0x1c\/0x20>: {2}bl 0xffffdec384ec5cb4 <panic\+0x0\/0x[0-9a-f]+>/);
    expect(dis.stdout).toMatch(/stp x29, x30, \[sp, #-0x10\]!/);
  });

  it('the library: kernel.arch, the 64-bit preempt_count, explainPreemptCount with that arch, stackTrace', async () => {
    const { openDump, openKernel, explainPreemptCount } = await import('../../src/index.js');
    const dump = await openDump(ELF);
    try {
      const kernel = openKernel(dump);
      expect(kernel.arch).toBe('arm64');
      expect(kernel.preemptCount(1)).toBe(0x100010000);
      expect(explainPreemptCount(kernel.preemptCount(1), { arch: kernel.arch, kernel: kernel.release }).summary).toMatch(/hardirq 1.*no resched pending/);
      expect(kernel.currentTask(0)).toMatchObject({ pid: 1, comm: 'init' });
      expect((await kernel.stackTrace(0)).frames.map((f) => f.function).slice(0, 4)).toEqual(['vectors', '__delay', '__const_udelay', 'panic']);
    } finally {
      dump.close();
    }
  });
});

// A real arm64 oops in a timer callback: kmod-reference's softirq-oops module (a timer writes
// through NULL) on Debian 12's arm64 6.1.192 in qemu-system-aarch64, oops=panic, dumped through QMP
// (fixtures/vmcore-debian-6.1.192-arm64-softirq-oops-2cpu/README.md). Referees on the full ELF:
// drgn 0.3.0 and crash 9.0.2 built for ARM64, both with the -dbg vmlinux (referee.json). ktriage
// reads the committed trimmed dump. The fault happened in module code on CPU 0's IRQ stack, in the
// TIMER softirq of an idle CPU: the panic frames, the exception frame, the module frame (crash names
// it; drgn, without the module's debug info, prints its address), the softirq and IRQ entry and the
// idle task's stack below.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from '../paths.js';

const DIR = join(FIXTURES, 'vmcore-debian-6.1.192-arm64-softirq-oops-2cpu');
const DUMP = join(DIR, 'vmcore.trimmed.kdump-zlib');
const referee = JSON.parse(readFileSync(join(DIR, 'referee.json'), 'utf8'));
const bin = join(REPO, 'bin/ktriage.js');
const run = (args: string[]) => spawnSync('node', [bin, ...args, '--no-cache'], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });

describe('arm64 vmcore: oops in a timer callback of a module (Debian 12 arm64 6.1.192)', () => {
  const r = run(['analyze', DUMP, '--json']);
  const d = JSON.parse(r.stdout);

  it('the report: NULL dereference in the module function, panic message, CPU, task', () => {
    expect(r.status).toBe(0); // no known hazard
    const rep = d.reports[0].report;
    expect(rep.title).toBe('BUG: unable to handle kernel NULL pointer dereference in softirq_oops_store');
    expect(rep.headline).toBe('Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000');
    expect(rep.guiltyFrame).toBe('softirq_oops_store');
    expect(rep.rip).toMatchObject({ function: 'softirq_oops_store.constprop.0', module: 'softirq_oops' });
    expect(d.panicMessage).toBe(`Kernel panic - not syncing: ${referee.panic_message.value}`);
    expect(d.panicCpu).toBe(referee.panic_cpu.value);
    expect(d.backtrace.cpu).toBe(referee.crashed_thread.cpu);
    expect(d.backtrace.pid).toBe(referee.crashed_thread.pid);
  });

  it('every CPU: the 64-bit preempt_count (CPU 0 serving a softirq, CPU 1 in the stop IPI), current task, SIMD flag', () => {
    for (const c of referee.cpus) {
      const got = d.cpus.find((x: { cpu: number }) => x.cpu === c.cpu);
      expect(got.preemptCount).toBe(c.preempt_count);
      expect(got.task).toEqual({ address: c.current.task, pid: c.current.pid, comm: c.current.comm });
      expect(got.inKernelFpu).toBe(c.fpsimd_context_busy);
    }
    expect(d.cpus[0].preempt.predicates).toMatchObject({ inServingSoftirq: true, inHardirq: false, inNmi: false });
  });

  it('the backtrace: drgn\'s frames, the module frame named as crash names it', () => {
    const frames: { function: string; module?: string; pc: string; sp: string; stack: string }[] = d.backtrace.frames;
    const drgn: string[] = referee.backtrace.functions_not_inline;
    expect(frames.length).toBe(drgn.length);
    frames.forEach((f, i) => {
      const want = drgn[i];
      if (/^0x/.test(want)) {
        // drgn has no symbols for module code; crash reads the module's symbol table, as ktriage does.
        expect(BigInt(f.pc)).toBe(BigInt(want));
        expect(f.function).toBe(referee.crash.bt_functions[i]);
        expect(f.module).toBe('softirq_oops');
      } else {
        expect(f.function.replace(/\.constprop\.\d+$/, '')).toBe(want);
      }
    });
    // crash's frame addresses, frame for frame (crash stops at start_kernel, drgn and ktriage go on to __primary_switched)
    expect(frames.slice(0, referee.crash.bt.length).map((f) => BigInt(f.sp))).toEqual(referee.crash.bt.map((f: { frame: string }) => BigInt(f.frame)));
    // the switch from the IRQ stack back to the idle task's stack happens at call_on_irq_stack
    const k = frames.findIndex((f) => f.function === 'call_on_irq_stack');
    expect(frames.slice(0, k).every((f) => f.stack === 'irq')).toBe(true);
    expect(frames.slice(k + 1).every((f) => f.stack === 'task')).toBe(true);
  });

  it('log: the dmesg tail is drgn\'s', () => {
    const l = run(['log', DUMP, '--tail', String(referee.dmesg_tail.length)]);
    expect(l.stdout.trim().split('\n')).toEqual(referee.dmesg_tail);
  });
});

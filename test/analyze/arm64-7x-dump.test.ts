// Debian unstable's arm64 kernel 7.2.13 (linux-image-7.2.13+deb14-arm64, sysrq-c in
// qemu-system-aarch64, fixtures/vmcore-debian-7.2.13-arm64-sysrq-2cpu/README.md) against drgn
// 0.3.0 with the -dbg vmlinux (referee.json; crash 9.0.2 cannot read this kernel). 7.x differs
// from 6.1 where ktriage must follow it: metadata frame records at exception boundaries (6.13+:
// fp = lr = 0 plus a type in pt_regs), PAC-signed return addresses on the stack, panic() through
// vpanic(), a counted preempt_count (PREEMPT_LAZY), the kernel in /usr/lib/modules.
import { describe, expect, it } from 'vitest';
import { arm64Fixture, baseName as base, expectAnalysisAsDrgn, expectBacktraceAsDrgn, expectFramesWithinDrgn, expectKernelFpstateAsDrgn, runKtriage as run } from './arm64-referee.js';

const { dump: DUMP, referee } = arm64Fixture('vmcore-debian-7.2.13-arm64-sysrq-2cpu');

describe('arm64 vmcore of Debian unstable\'s 7.2.13 (sysrq)', () => {
  it('analyze: panic CPU and its state, every CPU\'s preempt_count and task, the backtrace as drgn', () => {
    const r = run(['analyze', DUMP, '--json']);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout);
    expectAnalysisAsDrgn(d, referee);
    expectKernelFpstateAsDrgn(d, referee, 29);
    // The panicking CPU's stack holds PAC-signed return addresses into vpanic/panic.
    expect(d.cpus.find((c: { cpu: number }) => c.cpu === referee.panic_cpu.value).state).toBe('called panic() (vpanic, panic)');
    expectBacktraceAsDrgn(d.backtrace.frames, referee);
    expect(d.backtrace.stopped ?? 'end').not.toMatch(/aligned|unknown type/);
  });

  it('bt --all: the stopped CPU from its IPI on the IRQ stack through the PT_REGS metadata record into the idle loop', () => {
    const r = run(['bt', DUMP, '--all', '--json']);
    expect(r.status).toBe(0);
    const other = referee.cpus.find((c) => c.cpu !== referee.panic_cpu.value);
    const t = JSON.parse(r.stdout).items.find((x: { cpu: number }) => x.cpu === other?.cpu);
    const fns: string[] = t.frames.map((f: { function: string }) => base(f.function));
    expectFramesWithinDrgn(fns, other?.functions ?? []);
    expect(fns.at(-1)).toBe(other?.functions.at(-1)); // to the end of the stack (the FINAL record)
    const entry = t.frames.find((f: { function: string }) => f.function === 'el1h_64_irq');
    expect(entry.exception.rip).toMatch(/^default_idle_call\+/);
    const after = t.frames[t.frames.indexOf(entry) + 1];
    expect(base(after.function)).toBe('default_idle_call');
  });
});

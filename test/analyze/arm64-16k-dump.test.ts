// A real arm64 dump with 16K pages and 52-bit virtual addresses: bookworm-security's
// linux-image-6.12.117+deb12-arm64-16k under qemu-system-aarch64 -cpu max (FEAT_LPA2, so the kernel
// runs with TCR_EL1.T1SZ = 12), sysrq-c, dumped through QMP (fixtures/vmcore-debian-6.12.117-arm64-
// 16k-sysrq-2cpu/README.md). The values come from drgn 0.3.0 with the -dbg vmlinux on the full ELF
// (referee.json); crash 9.0.2 refuses the kernel ("Do not support 52 bits, 4-level for 16K page").
// ktriage reads the committed trimmed dump: 4 KiB pages of the analysis cut from that ELF.
import { describe, expect, it } from 'vitest';
import { arm64Fixture, expectAnalysisAsDrgn, expectBacktraceAsDrgn, expectFramesWithinDrgn, expectKernelFpstateAsDrgn, runKtriage as run, type Arm64Referee } from './arm64-referee.js';

const fixture = arm64Fixture('vmcore-debian-6.12.117-arm64-16k-sysrq-2cpu');
const DUMP = fixture.dump;
const referee = fixture.referee as Arm64Referee & { vmcoreinfo: Record<string, string>; globals: Record<string, string>; dmesg_tail: string[]; cpus: { fpsimd_context_busy?: string }[] };

describe('arm64 vmcore with 16K pages and 52-bit VAs (6.12.117+deb12-arm64-16k, sysrq)', () => {
  it('info: granule, VA bits and offsets from VMCOREINFO as drgn sees them', () => {
    const r = run(['info', DUMP, '--json']);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.kernelRelease).toBe(referee.vmcoreinfo.OSRELEASE);
    expect(d).toMatchObject({ arch: 'arm64', granule: 16384, pageSize: 16384, vaBits: 52, translatedVaBits: 52, pagingLevels: 4 });
    // 52-bit VAs: PAGE_OFFSET = -(1 << 52); T1SZ = 64 - 52.
    expect(BigInt(referee.vmcoreinfo['NUMBER(TCR_EL1_T1SZ)'])).toBe(12n);
    expect(d.pageOffset).toBe('0xfff0000000000000');
    expect(d.kimageVoffset).toBe(referee.globals.kimage_voffset);
    expect(d.physOffset).toBe('0x' + BigInt(referee.globals.memstart_addr).toString(16).padStart(16, '0'));
    expect(d.kaslrOffset).toBe('0x0000' + referee.vmcoreinfo.KERNELOFFSET);
  });

  it('analyze: panic CPU, every CPU\'s 64-bit preempt_count and current task, the backtrace', () => {
    const r = run(['analyze', DUMP, '--json']);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout);
    expectAnalysisAsDrgn(d, referee);
    // 6.8+ keeps kernel-mode NEON in the task, not in fpsimd_context_busy (drgn cannot find it either):
    // TIF_KERNEL_FPSTATE is bit 29 on 6.12 (arch/arm64/include/asm/thread_info.h).
    expect(referee.cpus[0]?.fpsimd_context_busy).toMatch(/could not find 'fpsimd_context_busy'/);
    expectKernelFpstateAsDrgn(d, referee, 29);
    expect(d.backtrace.cpu).toBe(referee.crashed_thread.cpu);
    expectBacktraceAsDrgn(d.backtrace.frames, referee);
  });

  it('log: the printk ring ends as drgn\'s get_dmesg does', () => {
    const r = run(['log', DUMP, '--tail', String(referee.dmesg_tail.length)]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(referee.dmesg_tail);
  });

  it('bt --all: the stopped CPU through its IRQ stack (16 KiB, a 16K page) into the idle loop', () => {
    const r = run(['bt', DUMP, '--all', '--json']);
    expect(r.status).toBe(0);
    const cpu1 = JSON.parse(r.stdout).items.find((t: { cpu: number }) => t.cpu === 1);
    const fns: string[] = cpu1.frames.map((f: { function: string }) => f.function);
    expectFramesWithinDrgn(fns, referee.cpus[1]?.functions ?? []);
    expect(fns.length).toBeGreaterThanOrEqual(10);
    expect(cpu1.frames.some((f: { stack: string }) => f.stack === 'irq')).toBe(true);
  });
});

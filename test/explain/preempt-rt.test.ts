// PREEMPT_RT: softirq state in task_struct.softirq_disable_cnt, decoded in SOFTIRQ_OFFSET units,
// and RT's own rules in "forbids". Values follow include/linux/preempt.h and kernel/softirq.c (RT
// part) of 7.2: ksoftirqd_run_begin() and the local_bh_enable() path that runs pending softirqs
// add SOFTIRQ_OFFSET (0x100) to the task's count, local_bh_disable() adds SOFTIRQ_DISABLE_OFFSET
// (0x200); in_task() and in_interrupt() read that count, in_atomic() reads preempt_count() alone.
// Detection by feature: the BTF of the committed (non-RT) fixtures has no softirq_disable_cnt.
// (Debian sid's 7.2.13 -rt vmlinux BTF has it, 4 bytes, and the non-rt one does not: checked by
// hand on the trees scripts/fixtures/fetch-kernel.sh unpacks; they are not in the repository.)
import { describe, expect, it } from 'vitest';
import { decodePreemptCount, isPreemptRtString } from '../../src/analyzers/preempt-count.js';
import { explainPreemptCount } from '../../src/cli/commands/explain.js';
import { openKernel } from '../../src/kernel/kernel.js';
import { openDump } from '../../src/vmcore/index.js';
import { fixtureDumps } from '../fixture-dumps.js';
import { DEBIAN11_AMD64, DEBIAN12_AMD64 } from '../fixture-kernels.js';

const RT = '7.2.13+deb14-rt-amd64';
const rt = (cnt: number | null) => ({ detectedBy: 'test', softirqDisableCnt: cnt });

describe('PREEMPT_RT recognition', () => {
  it('by release or version string, not by PREEMPT_DYNAMIC or words containing "rt"', () => {
    for (const s of [RT, '6.12.57+deb13-rt-amd64', '5.14.0-284.11.1.rt14.296.el9_2.x86_64', '#1 SMP PREEMPT_RT Debian 7.2.13-1 (2026-10-28)']) expect(isPreemptRtString(s), s).toBe(true);
    for (const s of [DEBIAN12_AMD64, '#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2', '6.1.0-sort-amd64', DEBIAN11_AMD64.replace(/-amd64$/, '-cloud-amd64'), '']) expect(isPreemptRtString(s), s).toBe(false);
  });

  it('by feature: a non-RT kernel\'s BTF (the committed fixtures) has no task_struct.softirq_disable_cnt', () => {
    for (const f of fixtureDumps().filter((x) => x.kind === 'kdump-zlib')) {
      const d = openDump(f.file());
      const k = openKernel(d);
      expect(isPreemptRtString(f.referee.release), f.name).toBe(false);
      expect(k.btf!.member('task_struct', 'pid'), f.name).toBeDefined();
      expect(k.btf!.member('task_struct', 'softirq_disable_cnt'), f.name).toBeUndefined();
      d.close();
    }
  });
});

describe('decoding on PREEMPT_RT', () => {
  it('serving a softirq in ksoftirqd: count 0x100, preempt_count untouched', () => {
    const d = decodePreemptCount(0x80000000n, 'x86_64', RT, rt(0x100));
    expect(d.predicates).toMatchObject({ inServingSoftirq: true, softirqDisabled: true, inInterrupt: true, inTask: false, inAtomic: false, preemptible: true });
    expect(d.softirqCount).toBe('0x00000100');
    expect(d.preemptRt).toEqual({ detectedBy: 'test', softirqDisableCnt: '0x100', source: null });
    expect(d.fields.find((f) => f.name === 'task softirq_disable_cnt')?.meaning).toMatch(/^0x100: serving a softirq/);
    expect(d.summary).toBe('serving softirq, preempt depth 0, PREEMPT_RT, no resched pending');
  });

  it('local_bh_disable() twice: 0x400, task context, BH disabled x2, not atomic', () => {
    const d = decodePreemptCount(0x80000000n, 'x86_64', RT, rt(0x400));
    expect(d.predicates).toMatchObject({ inServingSoftirq: false, softirqDisabled: true, inTask: true, inAtomic: false });
    expect(d.summary).toMatch(/BH disabled x2/);
    expect(d.forbids.join('\n')).toMatch(/softirq_ctrl lock/);
    expect(d.forbids.join('\n')).toMatch(/sleeping locks \(spinlock_t, mutex\) are allowed here/);
  });

  it('bits 8-15 of preempt_count are not softirq state on RT; the task count is', () => {
    const d = decodePreemptCount(0x80000200n, 'x86_64', RT, rt(0));
    expect(d.predicates.softirqDisabled).toBe(false);
    expect(d.fields.find((f) => f.name === 'SOFTIRQ')?.meaning).toMatch(/PREEMPT_RT keeps softirq state in the task/);
    expect(d.notes.join('\n')).toMatch(/bits 8-15 are 0x2 on a PREEMPT_RT kernel/);
  });

  it('forbids RT rules only: no "spin locks disable preemption", allocations out when atomic', () => {
    const d = decodePreemptCount(0x80000001n, 'x86_64', RT, rt(0));
    const all = [...d.forbids, ...d.fields.map((f) => f.meaning)].join('\n');
    expect(all).not.toMatch(/preempt_disable, spin locks/);
    expect(all).not.toMatch(/spin_lock\(\) without _(irqsave|bh)/);
    expect(all).not.toMatch(/only GFP_ATOMIC/);
    expect(d.fields.find((f) => f.name === 'PREEMPT')?.meaning).toMatch(/spin_lock\/read_lock\/local_lock do not count: they are sleeping locks/);
    expect(d.forbids.join('\n')).toMatch(/GFP_ATOMIC included: on PREEMPT_RT the page and slab allocators take spinlock_t/);
    // hard IRQ on RT: raw_spinlock_t only
    expect(decodePreemptCount(0x80010000n, 'x86_64', RT, rt(0)).forbids.join('\n')).toMatch(/use raw_spinlock_t/);
  });

  it('a non-RT kernel decodes as before; an -rt release without the task count says so', () => {
    const n = decodePreemptCount(0x80000201n, 'x86_64', DEBIAN12_AMD64);
    expect(n.preemptRt).toBeNull();
    expect(n.predicates.softirqDisabled).toBe(true);
    expect(n.fields.find((f) => f.name === 'PREEMPT')?.meaning).toMatch(/spin locks/);
    const u = decodePreemptCount(0x80000001n, 'x86_64', RT);
    expect(u.preemptRt).toMatchObject({ softirqDisableCnt: null });
    expect(u.notes.join('\n')).toMatch(/assume softirq_disable_cnt = 0 because it was not read/);
  });

  it('explain --kernel <rt> --softirq-disable-cnt', () => {
    const j = JSON.parse(explainPreemptCount('0x80000000', { arch: 'x86_64', kernel: RT, json: true, softirqDisableCnt: '0x300' }).text);
    expect(j.preemptRt).toMatchObject({ softirqDisableCnt: '0x300', detectedBy: `release ${RT} names a PREEMPT_RT build` });
    expect(j.predicates).toMatchObject({ inServingSoftirq: true, softirqDisabled: true });
    expect(() => explainPreemptCount('0', { arch: 'x86_64', softirqDisableCnt: 'x' })).toThrow(/--softirq-disable-cnt wants/);
  });
});

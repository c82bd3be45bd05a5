// The arm64 kprobe hazards (src/analyzers/rules/table.ts, docs/arm64-kprobe-context.md): rules
// have an architecture, x86-only mechanisms (int3 under irqentry_nmi_enter, irq_fpu_usable) are not
// claimed for arm64 reports, and the arm64 rules match the BRK kprobe path of 6.1 and 6.17+.
// Real logs: test/log/realworld/arm64-kprobe-*.log (SOURCES.md). The 6.1 NEON BUG and allocation
// traces below are written for this test in the format of Debian 12's arm64 6.1 (no public log of
// either was found); the x86 log is the committed fixture of the hazard this tool was built for.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diagnoseLog } from '../../src/analyzers/diagnosis.js';
import { parseLog } from '../../src/analyzers/log/index.js';
import { decodePreemptCount } from '../../src/analyzers/preempt-count.js';
import type { CrashReport } from '../../src/analyzers/report-model.js';
import { matchHazards, type MemoryContext } from '../../src/analyzers/rules/engine.js';
import { HAZARD_RULES } from '../../src/analyzers/rules/table.js';
import { FIXTURES } from '../paths.js';
import { DEBIAN12_ARM64 } from '../fixture-kernels.js';

const REALWORLD = fileURLToPath(new URL('../log/realworld/', import.meta.url));
const ARM64_IDS = HAZARD_RULES.filter((r) => r.arch?.includes('arm64')).map((r) => r.id);
const X86_ONLY = HAZARD_RULES.filter((r) => r.arch && !r.arch.includes('arm64')).map((r) => r.id);

function ids(text: string): string[][] {
  return diagnoseLog(parseLog(text), 'test').reports.map((r) => r.hazards.map((h) => h.id));
}
function firstReport(text: string): CrashReport {
  return parseLog(text).reports[0];
}
const realworld = (f: string) => readFileSync(REALWORLD + f, 'latin1');

const TAIL = `[  201.552418]  el1_dbg+0x64/0x80
[  201.552651]  el1h_64_sync_handler+0x58/0xb0
[  201.552905]  el1h_64_sync+0x64/0x68
[  201.553136]  vfs_read+0x0/0x1f0
[  201.553370]  ksys_read+0x78/0x110
[  201.553602]  __arm64_sys_read+0x24/0x30
[  201.553844]  invoke_syscall+0x78/0x100
[  201.554090]  el0_svc_common.constprop.0+0x4c/0xf4
[  201.554361]  do_el0_svc+0x34/0xd0
[  201.554593]  el0_svc+0x34/0xd4
[  201.554825]  el0t_64_sync_handler+0xf4/0x120
[  201.555078]  el0t_64_sync+0x18c/0x190
`;
const HEAD = (headline: string, pc: string) => `[  201.550010] ------------[ cut here ]------------
[  201.550120] ${headline}
[  201.550230] Internal error: Oops - BUG: 00000000f2000800 [#1] SMP
[  201.550340] Modules linked in: probe_mod(OE) nls_ascii nls_cp437 vfat fat virtio_net
[  201.550450] CPU: 1 PID: 812 Comm: cat Tainted: G           OE      ${DEBIAN12_ARM64} #1  Debian 6.1.192-1
[  201.550560] Hardware name: QEMU KVM Virtual Machine, BIOS 0.0.0 02/06/2015
[  201.550670] pstate: 204003c5 (nzCv DAIF +PAN -UAO -TCO -DIT -SSBS BTYPE=--)
[  201.550780] pc : ${pc}
[  201.550890] lr : probe_pre+0x28/0x60 [probe_mod]
[  201.551000] sp : ffff80000a1bbc10
[  201.551110] Call trace:
`;

// kernel_neon_begin() from a module's kprobe pre-handler on 6.1: BUG_ON(!may_use_simd()).
const NEON_61 = HEAD('kernel BUG at arch/arm64/kernel/fpsimd.c:1888!', 'kernel_neon_begin+0xa4/0xb0') + `[  201.551220]  kernel_neon_begin+0xa4/0xb0
[  201.551330]  probe_pre+0x28/0x60 [probe_mod]
[  201.551440]  kprobe_breakpoint_handler+0x100/0x19c
[  201.551550]  call_break_hook+0x80/0x100
[  201.551660]  brk_handler+0x2c/0x7c
[  201.551770]  do_debug_exception+0x7c/0x110
` + TAIL;

// The same on 6.17+ names (el1_brk64 -> do_el1_brk64 -> kprobe_brk_handler), as a 6.18 kernel.
const NEON_618 = NEON_61.replace(`${DEBIAN12_ARM64} #1  Debian 6.1.192-1`, '6.18.3 #1')
  .replace(/kprobe_breakpoint_handler\+0x100\/0x19c\n.*call_break_hook.*\n.*brk_handler.*\n.*do_debug_exception.*\n.*el1_dbg\+0x64\/0x80/, 'kprobe_brk_handler+0xd0/0x150\n[  201.551550]  do_el1_brk64+0x28/0x70\n[  201.551660]  el1_brk64+0x3c/0x60');

// A slab allocation from the pre-handler that took a contended node lock (spinlock recursion:
// the probe sat in code holding it), 6.1.
const ALLOC_61 = `[  301.120000] BUG: spinlock recursion on CPU#0, cat/812
[  301.120100]  lock: 0xffff0000c0012340, .magic: dead4ead, .owner: cat/812, .owner_cpu: 0
[  301.120200] CPU: 0 PID: 812 Comm: cat Tainted: G           OE      ${DEBIAN12_ARM64} #1  Debian 6.1.192-1
[  301.120300] Hardware name: QEMU KVM Virtual Machine, BIOS 0.0.0 02/06/2015
[  301.120400] Call trace:
[  301.120500]  dump_backtrace+0xe4/0x140
[  301.120600]  show_stack+0x20/0x30
[  301.120700]  dump_stack_lvl+0x64/0x80
[  301.120800]  dump_stack+0x18/0x34
[  301.120900]  spin_dump+0x80/0x94
[  301.121000]  do_raw_spin_lock+0xf8/0x120
[  301.121100]  _raw_spin_lock_irqsave+0x58/0x70
[  301.121200]  ___slab_alloc+0x3c8/0x8a0
[  301.121300]  __kmem_cache_alloc_node+0x1a4/0x2d0
[  301.121400]  kmalloc_trace+0x38/0x80
[  301.121500]  probe_pre+0x40/0x60 [probe_mod]
[  301.121600]  kprobe_breakpoint_handler+0x100/0x19c
[  301.121700]  call_break_hook+0x80/0x100
[  301.121800]  brk_handler+0x2c/0x7c
[  301.121900]  do_debug_exception+0x7c/0x110
` + TAIL;

describe('rule architecture scope', () => {
  it('every rule that names an x86 mechanism is x86-only, and the arm64 rules are arm64-only', () => {
    for (const id of ['kprobe-int3-nmi-slab-fpu', 'fpu-in-nmi-warn', 'kprobe-handler-unsafe-call']) expect(X86_ONLY, id).toContain(id);
    expect([...ARM64_IDS].sort()).toEqual(['arm64-kprobe-brk-alloc', 'arm64-kprobe-brk-handler-crash', 'arm64-kprobe-brk-neon', 'arm64-kprobe-brk-unsafe-call', 'arm64-kprobe-reenter-bug']);
    for (const r of HAZARD_RULES.filter((x) => x.arch?.includes('arm64'))) {
      expect(r.arch, r.id).toEqual(['arm64']);
      // No arm64 rule claims NMI context or the x86 FPU check.
      const text = r.explanation.join(' ');
      expect(text, r.id).not.toMatch(/irq_fpu_usable|kernel_fpu_begin\(\) (?:WARN|warns)|in_nmi\(\) is true|irqentry_nmi_enter\(\)[^.]*arm64/);
    }
  });

  it('the x86 int3/FPU log still matches its rule; the same report read as arm64 matches no x86 rule', () => {
    const text = readFileSync(FIXTURES + 'log-debian-6.1.192-serial/console.log', 'latin1');
    const x86 = ids(text).flat();
    expect(x86).toContain('kprobe-int3-nmi-slab-fpu');
    expect(x86.filter((id) => ARM64_IDS.includes(id))).toEqual([]);
    const r = parseLog(text).reports.find((x) => matchHazards({ report: x }).some((h) => h.id === 'kprobe-int3-nmi-slab-fpu'));
    expect(r?.arch).toBe('x86_64');
    const asArm64 = matchHazards({ report: { ...(r as CrashReport), arch: 'arm64' } }).map((h) => h.id);
    expect(asArm64.filter((id) => X86_ONLY.includes(id))).toEqual([]);
    // A dump's architecture wins over the log's: arm64 memory context, x86-looking log.
    const mem: MemoryContext = { cpu: 0, preempt: decodePreemptCount(0x100000000n, 'arm64', DEBIAN12_ARM64), inKernelFpu: false, source: 'test' };
    expect(matchHazards({ report: r as CrashReport, memory: mem }).map((h) => h.id).filter((id) => X86_ONLY.includes(id))).toEqual([]);
  });
});

describe('arm64 BRK kprobe rules', () => {
  it('kernel_neon_begin() BUG in a 6.1 kprobe pre-handler: the NEON rule, high-medium confidence, no x86 rule', () => {
    const r = firstReport(NEON_61);
    expect(r.arch).toBe('arm64');
    const h = matchHazards({ report: r });
    expect(h.map((x) => x.id)).toEqual(['arm64-kprobe-brk-neon']);
    expect(h[0].confidence).toBe('medium');
    expect(h[0].evidence.join('\n')).toMatch(/kernel_neon_begin.*<- arm64 BRK kprobe dispatch.*kprobe_breakpoint_handler/);
    expect(h[0].evidence.join('\n')).toMatch(/in_nmi\(\) is false/);
    expect(h[0].evidence).toContain('architecture: arm64 (the log)');
  });

  it('the same on 6.17+ names (el1_brk64, kprobe_brk_handler); on 6.19+ kernels the rule is out of range', () => {
    const r = firstReport(NEON_618);
    expect(r.frames.map((f) => f.function)).toContain('kprobe_brk_handler');
    expect(r.frames.map((f) => f.function)).not.toContain('el1_dbg');
    const h = matchHazards({ report: r });
    expect(h.map((x) => x.id)).toEqual(['arm64-kprobe-brk-neon']);
    expect(h[0].confidence).toBe('medium');
    const newer = matchHazards({ report: { ...r, kernelRelease: '7.1.5' } });
    expect(newer[0].confidence).toBe('low');
    expect(newer[0].confidenceWhy.join(' ')).toMatch(/newer than the rule's range/);
  });

  it('slab allocation in a BRK handler: the arm64 allocation rule (no FPU claim), not the x86 chain', () => {
    const h = matchHazards({ report: firstReport(ALLOC_61) });
    expect(h.map((x) => x.id)).toEqual(['arm64-kprobe-brk-alloc']);
    const text = h[0].explanation.join(' ');
    expect(text).toMatch(/generic C code runs, no kernel_neon_begin\(\), no FPU WARN/);
    expect(text).toMatch(/not __nmi_enter\(\)/);
  });

  it('memory decides: no NMI bits keep the confidence, NMI bits (BRK inside an NMI handler) lower it', () => {
    const r = firstReport(ALLOC_61);
    const mem = (v: bigint): MemoryContext => ({ cpu: 0, preempt: decodePreemptCount(v, 'arm64', DEBIAN12_ARM64), inKernelFpu: false, source: 'thread_info.preempt_count' });
    const quiet = matchHazards({ report: r, memory: mem(0x100000000n) });
    expect(quiet.map((x) => [x.id, x.confidence])).toEqual([['arm64-kprobe-brk-alloc', 'high']]);
    expect(quiet[0].evidence.join('\n')).toMatch(/in_nmi\(\) false, as expected in an arm64 BRK handler/);
    const nmi = matchHazards({ report: r, memory: mem(0x100110000n) });
    expect(nmi[0].confidence).toBe('low');
    expect(nmi[0].confidenceWhy.join(' ')).toMatch(/in_nmi\(\) is true/);
  });

  it('without a BRK dispatch frame the arm64 rules stay silent (an allocation in an ordinary arm64 oops)', () => {
    const plain = ALLOC_61.replace(/\n.*kprobe_breakpoint_handler.*\n.*call_break_hook.*\n.*brk_handler.*\n.*do_debug_exception.*\n.*el1_dbg.*\n/, '\n');
    expect(plain).not.toMatch(/brk_handler|el1_dbg/);
    expect(ids(plain).flat().filter((id) => ARM64_IDS.includes(id))).toEqual([]);
  });
});

describe('arm64 kprobe rules on real logs (test/log/realworld)', () => {
  it('6.6 KASAN in a trace_kprobe fetch, through el1_dbg -> kprobe_breakpoint_handler: the BRK handler context rule', () => {
    const h = matchHazards({ report: firstReport(realworld('arm64-kprobe-kasan-stack-nth-quoted.log')) });
    expect(h.map((x) => x.id)).toEqual(['arm64-kprobe-brk-handler-crash']);
    expect(h[0].evidence.join('\n')).toMatch(/kprobe_breakpoint_handler/);
  });

  it('reentered kprobe BUGs (5.10 syzkaller, 6.1-rc5 arch_stack_walk): the arm64 re-entry rule replaces the generic one', () => {
    for (const f of ['arm64-kprobe-reenter-insn-slot-quoted.log', 'arm64-kprobe-reenter-stack-walk-quoted.log']) {
      expect(ids(realworld(f))[0], f).toEqual(['arm64-kprobe-reenter-bug']);
    }
  });

  it('the other real arm64 logs match no arm64 kprobe rule', () => {
    const labels = JSON.parse(realworld('labels.json')) as Record<string, unknown>;
    const others = Object.keys(labels).filter((f) => /(?:^|-)arm64-/.test(f) && !f.startsWith('arm64-kprobe-'));
    expect(others.length).toBeGreaterThanOrEqual(17);
    for (const f of others) expect(ids(realworld(f)).flat().filter((id) => ARM64_IDS.includes(id)), f).toEqual([]);
  });

  it('no x86 or other-architecture real log matches an arm64 rule', () => {
    const labels = JSON.parse(realworld('labels.json')) as Record<string, unknown>;
    for (const f of Object.keys(labels).filter((x) => !/(?:^|-)arm64-/.test(x))) {
      expect(ids(realworld(f)).flat().filter((id) => ARM64_IDS.includes(id)), f).toEqual([]);
    }
  });
});

describe('explain preempt-count --arch arm64: what the value means in a kprobe handler', () => {
  it('arm64 notes and NEON instead of the x86 FPU; x86 output unchanged', async () => {
    const { explainPreemptCount } = await import('../../src/cli/commands/explain.js');
    const arm = decodePreemptCount(0x0000000100010000n, 'arm64', null);
    const text = arm.notes.join('\n');
    expect(text).toMatch(/arm64 kprobes are BRK exceptions.*does not call __nmi_enter\(\)/);
    expect(text).toMatch(/Debian 12's arm64 6\.1 .* has none, so there a depth of 0 does not mean preemptible/);
    expect(text).toMatch(/before 6\.19: may_use_simd\(\) also requires IRQs enabled.*BUG_ON/);
    expect(arm.fields.find((f) => f.name === 'NMI')?.meaning).toMatch(/kprobe BRK handlers do not set it/);
    expect(arm.forbids.join('\n')).not.toMatch(/kernel_fpu_begin|irq_fpu_usable/);
    expect(arm.forbids.join('\n')).toMatch(/kernel_neon_begin\(\).*BUG_ON\(!may_use_simd\(\)\)/);
    // NMI bits on arm64 (pseudo-NMI/SDEI): allocation and RNG lines without the x86 FPU step.
    const nmi = decodePreemptCount(0x0000000100110000n, 'arm64', DEBIAN12_ARM64);
    expect(nmi.forbids.join('\n')).not.toMatch(/kernel_fpu_begin|irq_fpu_usable|use the FPU/);
    expect(nmi.forbids.join('\n')).toMatch(/generic C BLAKE2s on arm64/);
    // 6.19+: the IRQ test is gone from may_use_simd().
    expect(decodePreemptCount(0x100000000n, 'arm64', '7.1.5').notes.join('\n')).toMatch(/6\.19\+: may_use_simd\(\) is !in_hardirq\(\) && !in_nmi\(\)/);
    // x86: no arm64 notes, the FPU lines stay.
    const x86 = decodePreemptCount(0x80110003n, 'x86_64', null);
    expect(x86.notes.join('\n')).not.toMatch(/BRK|arm64/);
    expect(x86.forbids.join('\n')).toMatch(/irq_fpu_usable\(\) returns false and WARN_ON_ONCE\(in_nmi\(\)\)/);
    expect(x86.fields.find((f) => f.name === 'NMI')?.meaning).toMatch(/on x86 also every kernel-mode int3/);
    expect(explainPreemptCount('0x0000000100010000', { arch: 'arm64' }).text).toMatch(/arm64 kprobes are BRK exceptions/);
  });
});

describe('a report of unknown architecture', () => {
  it('is matched by the generic rules as before, not by the arm64 ones', () => {
    const text = `Unrecoverable kprobe detected.
Dumping kprobe:
Name: (null)
Offset: 0
Address: 0xffffffffc0a01000
`;
    const r = firstReport(text);
    expect(r.arch).toBeUndefined();
    expect(matchHazards({ report: r }).map((h) => h.id)).toEqual(['kprobe-recursion-or-unrecoverable']);
    expect(matchHazards({ report: { ...r, arch: 'arm64' } }).map((h) => h.id)).toEqual(['arm64-kprobe-reenter-bug']);
  });
});

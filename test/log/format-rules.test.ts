// One test per output-format rule added after issue 13's first round, each on a real log: the
// real-world corpus (test/log/realworld) where it holds one, else a file of syzkaller's labelled
// corpus in ../shared (read in place, never copied). Each test names the kernel source the rule
// reads (the rules themselves cite it in src/analyzers/log/).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeCodeLine, parseLog } from '../../src/analyzers/log/index.js';
import { normalizeLog } from '../../src/analyzers/log/normalize.js';
import { sharedPath } from '../paths.js';

const DIR = fileURLToPath(new URL('./realworld/', import.meta.url));
const real = (f: string) => parseLog(readFileSync(`${DIR}${f}`, 'latin1')).reports;
/** The real serial log of the arm64 fixture (Debian 12 arm64 6.1.192, QEMU virt, sysrq-c). */
const ARM64_SERIAL = fileURLToPath(new URL('../../fixtures/vmcore-debian-6.1.192-arm64-sysrq-2cpu/serial.log', import.meta.url));
const ctx = (r: { frames: { function: string | null; context: string }[] }) => r.frames.map((f) => `${f.function}:${f.context}`);

/** The log of a syzkaller corpus file (its label header and the blank line after it removed). */
function syz(n: number) {
  const lines = readFileSync(sharedPath(`corpus/syzkaller-linux-report/${n}`), 'latin1').split('\n');
  const k = lines.findIndex((l) => l.trim() === '');
  return parseLog(lines.slice(k + 1).join('\n')).reports;
}

describe('printk caller ids (CONFIG_PRINTK_CALLER, kernel/printk/printk.c)', () => {
  it('keeps the caller id of each record', () => {
    const l = normalizeLog('[  560.713151][ T1194] WARNING: CPU: 2\n[  417.725670][    C1] rcu: x\n[ 1.0] plain\n').lines;
    expect(l.slice(0, 3).map((x) => x.caller)).toEqual(['T1194', 'C1', undefined]);
  });
  it('reads a report from its own caller\'s records when other tasks print into it', () => {
    // WARNING in T1194, an rcu stall of T1234 and a fault-injection stack of T2345 interleaved.
    const r = syz(346)[0];
    expect(r.title).toBe('WARNING in xfrm_state_fini');
    expect(r.frames.map((f) => f.function)).not.toContain('_sched_show_task');
  });
  it('orders reports by their headers across callers', () => {
    expect(syz(392)[0].title).toBe('general protection fault in x25_connect');
  });
  it('a getty prompt before the record does not hide its caller id', () => {
    const l = normalizeLog('syzkaller login: [   59.806466][ T6792] BUG: using smp_processor_id()\n').lines;
    expect(l[0]).toMatchObject({ text: 'BUG: using smp_processor_id()', caller: 'T6792' });
  });
});

describe('report boundaries', () => {
  it('another report\'s header right after this one cuts it short (no caller ids)', () => {
    // "BUG: unable to handle kernel paging request" then at once a KASAN report of another CPU.
    const r = syz(154)[0];
    expect(r.title).toBe('BUG: unable to handle kernel paging request in corrupted');
    expect(r.corrupted).toBe(true);
  });
  it('another CPU\'s report inside the lines panic() prints for this one ends them (no caller ids)', () => {
    // WARNING, panic_on_warn, "Call Trace:" and at once another CPU's general protection fault.
    expect(syz(142)[0].title).toBe('WARNING in corrupted');
  });
  it('die()\'s summary line stays in the report (kernel BUG at ... then invalid opcode)', () => {
    expect(syz(477)[0].title).toBe('BUG: corrupted list in ath9k_htc_wait_for_target');
  });
  it('a WARN()\'s own message that looks like a header is part of the warning (kernel/panic.c __warn())', () => {
    const rs = real('abrt-nmi_oops.log');
    expect(rs[0].kind).toBe('WARNING');
    expect(rs[0].frames.length).toBeGreaterThan(10);
  });
  it('"** N printk messages dropped **" before a record is not part of it', () => {
    expect(normalizeLog('** 93 printk messages dropped ** [  322.962139] BUG: KASAN: x\n').lines[0].text).toBe('BUG: KASAN: x');
  });
  it('fault injection\'s own stack (lib/fault-inject.c fail_dump()) is not the report\'s', () => {
    expect(syz(393)[0].title).toBe('WARNING in corrupted');
    expect(syz(336)[0].title).toBe('WARNING: ODEBUG bug in corrupted');
  });
});

describe('titles and crash functions from the report\'s own lines', () => {
  it('WARNING: named from its registers or stack; with neither it is damaged', () => {
    const r = syz(22)[0];
    expect(r.title).toBe('WARNING in corrupted');
    expect(r.corrupted).toBe(true);
  });
  it('an unsymbolised crash address ends the search for it (RIP: 0010:0xffffffffffffffff)', () => {
    expect(syz(160)[0].title).toBe('BUG: unable to handle kernel paging request in __run_timers');
  });
  it('old KASAN cut before "Read of size": the header alone, flagged corrupted', () => {
    const r = syz(104)[0];
    expect(r.title).toBe('KASAN: slab-out-of-bounds in gup_huge_pmd at addr ADDR');
    expect(r.corrupted).toBe(true);
  });
  it('lockdep: the site of the lock being acquired, library code included', () => {
    expect(real('satyr-gitlog-08.log')[0].guiltyFrame).toBe('sysfs_remove_dir');
  });
  it('lockdep: a site in tracing code falls back to the held lock\'s site', () => {
    expect(syz(192)[0].title).toBe('possible deadlock in perf_event_init_task');
  });
  it('lockdep safe -> unsafe: the stack where the lock became irq-safe', () => {
    expect(syz(557)[0].title).toBe('possible deadlock in input_event');
  });
  it('lockdep irq inversion: the lock that just changed state', () => {
    expect(syz(29)[0].title).toBe('possible deadlock in tun_queue_purge');
  });
  it('lockdep still has locks held: the held lock\'s site', () => {
    expect(syz(532)[0].title).toBe('WARNING: still has locks held in count_memcg_event_mm');
  });
  it('a held lock\'s site wrapped onto the next line is not a frame', () => {
    const n = real('satyr-gitlog-14.log')[0].frames.map((f) => f.function);
    expect(n).not.toContain('et_request_wait');
  });
  it('workqueue leak: "last function:" (kernel/workqueue.c process_one_work())', () => {
    expect(syz(211)[0].title).toBe('BUG: workqueue leaked lock or atomic in addrconf_dad_work');
  });
  it('Dentry still in use: the unmounted file system (fs/dcache.c umount_check())', () => {
    expect(syz(624)[0].title).toBe('BUG: Dentry still in use [unmount of ramfs ramfs]');
  });
  it('suspicious RCU usage cut before its file:line: the header alone', () => {
    expect(syz(206)[0].title).toBe('WARNING: suspicious RCU usage');
  });
  it('stack-protector panic: the caller of __stack_chk_fail()', () => {
    expect(syz(322)[0].title).toBe('kernel panic: stack is corrupted in ip6_xmit');
  });
  it('lockdep: a lock primitive as the acquiring site (down_trylock) names nothing: the held lock\'s site', () => {
    expect(syz(648)[0].title).toBe('possible deadlock in tick_handler');
  });
  it('lockdep nested lock not taken: its lock site', () => {
    expect(syz(655)[0].title).toBe('WARNING: nested lock was not taken in evict');
  });
  it('sleeping in atomic: the stack after "Call Trace:", not the "Preemption disabled at:" site', () => {
    expect(syz(608)[0].title).toBe('BUG: sleeping function called from invalid context in __alloc_skb');
  });
  it('stack overflow: named by the entry point of the runaway chain, like a stall', () => {
    expect(syz(614)[0].title).toBe('BUG: stack guard page was hit in rtnl_newlink');
    expect(syz(663)[0].title).toBe('kernel stack overflow in rtnl_newlink');
  });
  it('corrupted stack end (kernel/sched/core.c schedule_debug()): likewise by the entry point', () => {
    expect(syz(330)[0].title).toBe('kernel panic: corrupted stack end in wb_workfn');
  });
});

describe('corrupted flag, with its reason', () => {
  it('a report that starts with panic()\'s reason lost its header', () => {
    const r = syz(48)[0];
    expect(r.title).toBe('kernel panic: Fatal exception');
    expect(r.corrupted).toBe(true);
    expect(r.corruptedReason).toMatch(/header was lost/);
  });
  it('a kind that prints a stack, cut before it, even with its crash address known', () => {
    const r = syz(9)[0];
    expect(r.corrupted).toBe(true);
    expect(r.corruptedReason).toMatch(/cut short before its stack/);
  });
  it('"Call Trace:" with no frame after it', () => {
    expect(syz(90)[0].corruptedReason).toMatch(/with no frame after it/);
  });
  it('a real-world log cut after its lockdep header and held locks, without "stack backtrace:"', () => {
    expect(real('satyr-gitlog-26.log')[0].corrupted).toBe(true);
  });
  it('an intact real-world report is not flagged', () => {
    expect(real('satyr-gitlog-08.log')[0].corrupted).toBe(false);
  });
});

// Issue 11: arm64 console logs, each rule on the fixture's serial log or a real arm64 oops.
describe('arm64 reports (arch/arm64/kernel/traps.c, process.c, stacktrace.c, mm/fault.c, entry-common.c)', () => {
  it('the fixture\'s sysrq-c panic: its title, no crash address, every frame a task\'s (el0t_64_sync)', () => {
    const [r] = parseLog(readFileSync(ARM64_SERIAL, 'latin1')).reports;
    expect(r.title).toBe('kernel panic: sysrq triggered crash');
    expect(r.guiltyFrame).toBeNull();
    expect(r).toMatchObject({ arch: 'arm64', cpu: 0, pid: 1, comm: 'init', corrupted: false });
    expect(r.frames).toHaveLength(18);
    expect(r.frames.every((f) => f.context === 'TASK')).toBe(true);
  });
  it('"Unable to handle kernel <msg>": die_kernel_fault()\'s messages, with die()\'s "Internal error: Oops:" 15 lines later as part of it', () => {
    const rs = real('arm64-lkft-dragonboard-ret-to-kernel-oops.log');
    expect(rs).toHaveLength(1);
    expect(rs[0].title).toBe('BUG: unable to handle kernel write to read-only memory in ret_to_kernel');
    expect(rs[0].kind).toBe('Oops');
  });
  it('"pc : fn+0x../0x.." is the crash address; "lr :" is a register, never a frame; x29..x0 are registers', () => {
    const [r] = real('arm64-sched-ttwu-warn-ipi.log');
    expect(r.rip?.function).toBe('__task_rq_lock');
    expect(r.frames[0].function).toBe('__task_rq_lock');
    expect(r.frames.filter((f) => f.function === '__task_rq_lock')).toHaveLength(1);
    const [q] = real('arm64-am69-serror-nvme-quoted.log');
    expect(q.rip).toMatchObject({ function: 'nvme_pci_enable', module: 'nvme' });
    expect(q.registers).toMatchObject({ x29: 'ffff80008130baf0', x0: '0000000000000000', sp: 'ffff80008130bad0' });
    expect(q.frames.map((f) => f.function)).not.toContain('x29');
  });
  it('Call trace frames without addresses, with `[module]` and the 6.13+ `(C)`/`(P)` tags', () => {
    const [r] = real('arm64-mtk-star-spinlock-recursion.log');
    expect(r.frames[0]).toMatchObject({ function: 'show_stack', offset: 0x18, size: 0x24, address: null });
    expect(r.frames.find((f) => f.function === 'mtk_star_handle_irq')?.module).toBe('mtk_star_emac');
    expect(r.frames.find((f) => f.function === 'cpuidle_enter_state')?.unreliable).toBe(false);
  });
  it('frame contexts from the entry frames: IRQ vector, softirq under it, the idle task below', () => {
    const [r] = real('arm64-mtk-star-spinlock-recursion.log');
    const c = ctx(r);
    expect(c).toContain('mtk_star_handle_irq:IRQ');
    expect(c).toContain('gic_handle_irq:IRQ');
    expect(c).toContain('mtk_star_rx_poll:SOFTIRQ');
    expect(c).toContain('____do_softirq:SOFTIRQ');
    expect(c).toContain('cpuidle_enter_state:TASK');
    expect(c).not.toContain('unknown');
  });
  it('call_on_irq_stack: hard IRQ above it (an IPI), softirq when ____do_softirq follows', () => {
    expect(ctx(real('arm64-sched-ttwu-warn-ipi.log')[0]).every((x) => x.endsWith(':IRQ'))).toBe(true);
    const c = ctx(real('arm64-qcom-lpg-sleeping-in-softirq.log')[0]);
    expect(c).toContain('lpg_brightness_single_set:SOFTIRQ');
    expect(c).toContain('call_on_irq_stack:SOFTIRQ');
    expect(c).toContain('el1_interrupt:IRQ');
  });
  it('an SError taken in an interrupt taken after a fault: NMI, then IRQ, then the syscall\'s task', () => {
    const c = ctx(real('arm64-adreno-serror-panic-quoted.log')[0]);
    expect(c).toContain('arm64_serror_panic:NMI');
    expect(c).toContain('el1_interrupt:IRQ');
    expect(c).toContain('a6xx_gmu_set_oob:TASK');
  });
  it('before 5.14: el0_irq_naked and __handle_domain_irq() enter the IRQ, a timer softirq runs above', () => {
    const c = ctx(real('lkml-arm64-stmmac-watchdog-warn.log')[0]);
    expect(c).toEqual(['dev_watchdog:SOFTIRQ', 'call_timer_fn:SOFTIRQ', 'expire_timers:SOFTIRQ', '__run_timers:SOFTIRQ', 'run_timer_softirq:SOFTIRQ', '__do_softirq:SOFTIRQ', 'irq_exit:IRQ', '__handle_domain_irq:IRQ', 'gic_handle_irq:IRQ', 'el0_irq_naked:IRQ']);
  });
  it('a synchronous exception keeps its context; frames nothing speaks for stay unknown', () => {
    expect(ctx(real('arm64-kasan-kmemleak-scan-block.log')[0])).toContain('scan_block:TASK');
    const c = ctx(real('arm64-rb3gen2-serror-panic-trace.log')[0]);
    expect(c).toContain('el1h_64_error:NMI');
    expect(c).toContain('arm_smmu_write_s2cr:unknown');
  });
  it('preempt_count in the header names the innermost frames\' context when no entry frame does', () => {
    const log = ['BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580',
      'in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/0', 'preempt_count: 101, expected: 0',
      'CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0 #85', 'Call trace:', ' dump_backtrace+0xe4/0xf0', ' __might_resched+0x170/0x254',
      ' lpg_brightness_single_set+0x40/0x90', ' el1h_64_sync+0x64/0x68'].join('\n');
    expect(ctx(parseLog(log).reports[0])).toContain('lpg_brightness_single_set:SOFTIRQ');
  });
  it('"SError Interrupt on CPU%d": titled from `pc :`, with nmi_panic()\'s panic as part of it', () => {
    const rs = real('arm64-rk3328-serror-vpu-quoted.log');
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({ title: 'SError Interrupt in rockchip_vpu2_jpeg_enc_run', kind: 'Oops', corrupted: false, panic: 'Kernel panic - not syncing: Asynchronous SError Interrupt' });
  });
  it('an SError panic without its header: the frame after the SError vector is where the CPU was', () => {
    const [r] = real('arm64-rpi5-serror-panic-pinctrl.log');
    expect(r.title).toBe('SError Interrupt in bcm2712_pull_config_set');
    expect(r.rip?.function).toBe('bcm2712_pull_config_set');
    expect(r.corruptedReason).toMatch(/header was lost/);
  });
  it('"Unhandled 64-bit el1h sync exception": __panic_unhandled()\'s header and panic', () => {
    const [r] = real('arm64-lkft-qemu-unhandled-el1h-sync.log');
    expect(r.title).toBe('Unhandled exception in start_kernel');
    expect(r.panic).toBe('Kernel panic - not syncing: Unhandled exception');
  });
  it('a KASAN tag-check fault without `pc :`: the faulting frame after el1h_64_sync', () => {
    const [r] = real('arm64-typec-pin-assignment-kasan.log');
    expect(r.rip?.function).toBe('pin_assignment_show');
    expect(r.title).toBe('KASAN: use-after-free in pin_assignment_show');
  });
  it('`Code:` words with the faulting one in parentheses, decoded as A64 little-endian words', async () => {
    const [r] = real('arm64-lkft-dragonboard-ret-to-kernel-oops.log');
    expect(r.code?.raw).toBe('944fdb51 d5184035 d5184016 a94007e0 (a800ada6)');
    const d = await decodeCodeLine(r.code!.raw, 'arm64');
    expect(d.instructions.map((i) => i.text)).toEqual(['bl 0x13f6d44', 'msr elr_el1, x21', 'msr spsr_el1, x22', 'ldp x0, x1, [sp]', 'stnp x6, x11, [x13, #8]']);
    expect(d.faultingInstruction).toBe('stnp x6, x11, [x13, #8]');
    // arm's and powerpc's words are kept as printed, not read as A64
    expect((await decodeCodeLine('Code: e5933000 (e5933000)')).instructions).toEqual([]);
  });
  it('a log quoted without timestamps (`>> > `) is read through its quoting', () => {
    const [r] = real('arm64-rk3328-serror-vpu-quoted.log');
    expect(r.frames).toHaveLength(26);
  });
  it('"kernel BUG at" with die()\'s "Internal error: Oops - BUG:" (BRK #0x800), quoted `>>  `', () => {
    const [r] = real('arm64-page-table-check-bug-quoted.log');
    expect(r).toMatchObject({ title: 'kernel BUG in page_table_check_set', kind: 'BUG', location: 'mm/page_table_check.c:119' });
    expect(r.frames).toHaveLength(15);
  });
  it('a NULL dereference in a module: `pc : fn [module]`, and the faulting word decodes to the store', async () => {
    const [r] = real('arm64-aeld-faulty-null-deref.log');
    expect(r.title).toBe('BUG: unable to handle kernel NULL pointer dereference in faulty_write');
    expect(r.rip).toMatchObject({ function: 'faulty_write', module: 'faulty' });
    expect((await decodeCodeLine(r.code!.raw, 'arm64')).faultingInstruction).toBe('str wzr, [x1]');
  });
  it('a WARNING header wrapped by a mailer: its `fn+0x../0x..` tail is not a frame', () => {
    const [r] = real('lkml-arm64-gpio-refcount-quoted.log');
    expect(r.rip?.function).toBe('refcount_warn_saturate');
    expect(r.frames.filter((f) => f.function === 'refcount_warn_saturate')).toHaveLength(1);
  });
});

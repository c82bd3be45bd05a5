// The unwinder on real dumps of the incident (Debian 6.1.0-56-amd64, QEMU, panic on the
// irq_fpu_usable WARN from the int3 kprobe), compared frame by frame with crash's `bt` / `bt -a`.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { Unwinder } from '../../src/kernel/unwind/unwinder.js';
import { crashStyle } from '../../src/kernel/unwind/format.js';
import { ORC_REG_BP } from '../../src/kernel/unwind/orc.js';
import type { Frame } from '../../src/kernel/unwind/types.js';
import { openHarness } from './dump-harness.js';
import { compareWithCrash, splitReferee } from './crash-compare.js';

const DUMP = '/work/dumps/buggy-2cpu.paging.elf';
const REFEREE = new URL('./referee/buggy-2cpu.crash.txt', import.meta.url).pathname;
const h = openHarness(DUMP);
if (!h) console.warn(`[unwind] ${DUMP} or the System.map stand-in is absent: real-dump tests skipped`);

describe.skipIf(!h)('unwinding buggy-2cpu (QEMU ELF, 2 CPUs) against crash', () => {
  const u = h ? new Unwinder({ memory: h.dump, symbols: h.syms, types: h.types, release: h.release, cpus: h.cpus, describeTask: h.describeTask }) : null;
  const ref = splitReferee(readFileSync(REFEREE, 'utf8'));
  const bpBased = (f: Frame) => u!.orcFind(f.pc - 1n)?.entry.spReg === ORC_REG_BP;

  it('finds the ORC tables and both modules without a vmlinux', () => {
    expect(u!.problems).toEqual([]);
    expect(u!.kernelOrc?.count).toBe(384849); // (__stop_orc_unwind_ip - __start_orc_unwind_ip) / 4 in the 6.1.0-56 vmlinux
    expect(u!.modules.modules.map((m) => m.name).sort()).toEqual(['hazard', 'qemu_fw_cfg']);
  });

  it('panic CPU: same frames as crash `bt`, in order (side-by-side on mismatch)', async () => {
    const before = h!.dump.pagesRead.size;
    const t0 = performance.now();
    const bt = await u!.backtrace(ref.bt.cpu);
    const ms = performance.now() - t0;
    const cmp = compareWithCrash(bt, ref.bt, bpBased);
    if (!cmp.ok) console.log(`ours | crash\n${cmp.table.join('\n')}\n\n${crashStyle(bt)}`);
    expect(cmp.ok).toBe(true);
    expect(bt.stopped).toBe('end');
    expect(bt.usedFallback).toBe(false);
    expect(bt.frames.every((f) => f.reliable)).toBe(true);
    expect(bt.pid).toBe(ref.bt.pid);
    expect(bt.task).toBe(ref.bt.task);
    // every crash frame is either matched or one of crash's stale scanned words in do_syscall_64
    expect(cmp.matched).toBe(ref.bt.frames.length - cmp.categories['crash-scan']);
    expect(cmp.categories['crash-scan']).toBe(12);
    // the incident's chain, as names
    const names = bt.frames.map((f) => f.function);
    const chain = ['panic', 'check_panic_on_warn.cold', '__warn', 'report_bug', 'handle_bug', 'exc_invalid_op', 'asm_exc_invalid_op',
      'blake2s_compress', 'blake2s_final', 'extract_entropy.constprop.0', 'crng_reseed', 'crng_make_state', '_get_random_bytes',
      'get_random_u32', '__get_random_u32_below', 'allocate_slab', '___slab_alloc', 'kmem_cache_alloc', 'post', 'aggr_post_handler',
      'kprobe_int3_handler', 'exc_int3', 'asm_exc_int3', 'copy_page_to_iter', 'shmem_file_read_iter', 'vfs_read', 'ksys_read',
      'do_syscall_64', 'entry_SYSCALL_64_after_hwframe'];
    expect(names.slice(names.indexOf('panic'))).toEqual(chain);
    const post = bt.frames.find((f) => f.function === 'post');
    expect(post).toMatchObject({ module: 'hazard' });
    expect(bt.frames.find((f) => f.function === 'asm_exc_invalid_op')?.exception?.rip).toBe('irq_fpu_usable+57');
    expect(bt.frames.find((f) => f.function === 'asm_exc_int3')?.exception?.rip).toBe('copy_page_to_iter+7');
    expect(bt.frames[bt.frames.length - 1].exception?.userMode).toBe(true);
    // reads only what it needs
    const pages = h!.dump.pagesRead.size - before;
    console.log(`[unwind] panic CPU: ${bt.frames.length} frames in ${ms.toFixed(1)} ms, ${pages} new pages read`);
    expect(pages).toBeLessThan(64);
  });

  it('`bt -a`: every CPU agrees with crash up to where crash reports a bogus frame', async () => {
    const all = await u!.backtraceAll();
    expect(all.map((b) => b.cpu)).toEqual(ref.all.map((c) => c.cpu));
    for (const c of ref.all) {
      const bt = all.find((b) => b.cpu === c.cpu)!;
      const cmp = compareWithCrash(bt, c, bpBased);
      if (!cmp.ok) console.log(`CPU ${c.cpu}: ours | crash\n${cmp.table.join('\n')}\n\n${crashStyle(bt)}`);
      expect(cmp.ok).toBe(true);
      expect(bt.stopped).toBe('end');
    }
    // CPU 1 was stopped by panic's smp_send_stop (REBOOT_VECTOR IPI) on its IRQ stack while in read()
    const cpu1 = all.find((b) => b.cpu === 1)!;
    expect(cpu1.frames.slice(0, 4).map((f) => `${f.function}:${f.stack}`)).toEqual(['stop_this_cpu:irq', '__sysvec_reboot:irq', 'sysvec_reboot:irq', 'asm_sysvec_reboot:task']);
    expect(crashStyle(cpu1)).toContain('--- <IRQ stack> ---');
  });
});

describe('fixtures with crash referee output', () => {
  const dir = new URL('../../fixtures/', import.meta.url).pathname;
  it('skips until the kernel layer and dump fixtures exist', () => {
    if (!existsSync(dir)) return;
    // Wired through src/kernel once it lands (see kernel-adapter test).
  });
});

// The unwinder on real dumps of the incident (Debian 6.1.0-56-amd64 in QEMU, panic_on_warn on the
// irq_fpu_usable WARN reached from the int3 kprobe's post handler), compared frame by frame with
// crash's `bt` and `bt -a` (test/unwind/referee/). Skipped, with a message, where a dump is absent.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Unwinder } from '../../src/kernel/unwind/unwinder.js';
import { crashStyle } from '../../src/kernel/unwind/format.js';
import { ORC_REG_BP } from '../../src/kernel/unwind/orc.js';
import type { Frame } from '../../src/kernel/unwind/types.js';
import { openHarness } from './dump-harness.js';
import { compareWithCrash, splitReferee } from './crash-compare.js';

const CHAIN = ['panic', 'check_panic_on_warn.cold', '__warn', 'report_bug', 'handle_bug', 'exc_invalid_op', 'asm_exc_invalid_op',
  'blake2s_compress', 'blake2s_final', 'extract_entropy.constprop.0', 'crng_reseed', 'crng_make_state', '_get_random_bytes',
  'get_random_u32', '__get_random_u32_below', 'allocate_slab', '___slab_alloc', 'kmem_cache_alloc', 'post', 'aggr_post_handler',
  'kprobe_int3_handler', 'exc_int3', 'asm_exc_int3', 'copy_page_to_iter', 'shmem_file_read_iter', 'vfs_read', 'ksys_read',
  'do_syscall_64', 'entry_SYSCALL_64_after_hwframe'];

const DUMPS = [
  {
    name: 'buggy-2cpu (QEMU dump-guest-memory, no kdump)',
    path: '/work/dumps/buggy-2cpu.paging.elf',
    referee: 'buggy-2cpu.crash.txt',
    before: ['delay_tsc'], // live frame under panic's mdelay loop; crash starts at the panic word
    crashScan: 12,
  },
  {
    name: 'buggy-2cpu-kdump (in-guest kdump, makedumpfile -d 31, zlib)',
    path: '/work/dumps/buggy-2cpu-kdump.kdump-zlib-d31',
    referee: 'buggy-2cpu-kdump.crash.txt',
    before: ['machine_kexec', '__crash_kexec'],
    crashScan: 9,
  },
];

for (const d of DUMPS) {
  const h = openHarness(d.path);
  if (!h) console.warn(`[unwind] ${d.path} (or the System.map stand-in) is absent: "${d.name}" skipped`);
  describe.skipIf(!h)(`unwinding ${d.name} against crash`, () => {
    const u = h ? new Unwinder({ memory: h.dump, symbols: h.syms, types: h.types, release: h.release, cpus: h.cpus, describeTask: h.describeTask }) : null;
    const ref = splitReferee(readFileSync(new URL(`./referee/${d.referee}`, import.meta.url).pathname, 'utf8'));
    const bpBased = (f: Frame) => u!.orcFind(f.pc - 1n)?.entry.spReg === ORC_REG_BP;

    it('finds the ORC tables, both modules and the kprobe without a vmlinux', () => {
      expect(u!.problems).toEqual([]);
      expect(u!.kernelOrc?.count).toBe(384849); // (__stop_orc_unwind_ip - __start_orc_unwind_ip) / 4 in 6.1.0-56
      expect(u!.modules.modules.map((m) => m.name).sort()).toEqual(['hazard', 'qemu_fw_cfg']);
      expect(u!.kprobeSlots.map((k) => u!.describe(k.addr))).toEqual(['copy_page_to_iter+0x5']);
    });

    it('panic CPU: the same frames as crash `bt`, in order (side-by-side on mismatch)', async () => {
      const before = h!.dump.pagesRead.size;
      const t0 = performance.now();
      const bt = await u!.backtrace(ref.bt.cpu);
      const ms = performance.now() - t0;
      const cmp = compareWithCrash(bt, ref.bt, bpBased);
      if (!cmp.ok || cmp.categories['match-name'] > 0) console.log(`ours | crash\n${cmp.table.join('\n')}\n\n${crashStyle(bt)}`);
      expect(cmp.ok).toBe(true);
      expect(cmp.categories['match-name']).toBe(0); // every shared frame has crash's slot and pc too
      expect(cmp.categories['crash-scan']).toBe(d.crashScan);
      expect(cmp.matched).toBe(ref.bt.frames.length - d.crashScan);
      expect(bt.stopped).toBe('end');
      expect(bt.usedFallback).toBe(false);
      expect(bt.frames.every((f) => f.reliable)).toBe(true);
      expect(bt.pid).toBe(ref.bt.pid);
      expect(bt.task).toBe(ref.bt.task);
      const names = bt.frames.map((f) => f.function);
      expect(names).toEqual([...d.before, ...CHAIN]);
      expect(bt.frames.find((f) => f.function === 'post')).toMatchObject({ module: 'hazard' });
      expect(bt.frames.find((f) => f.function === 'asm_exc_invalid_op')?.exception?.rip).toBe('irq_fpu_usable+57');
      expect(bt.frames.find((f) => f.function === 'asm_exc_int3')?.exception?.rip).toBe('copy_page_to_iter+7');
      expect(bt.frames[bt.frames.length - 1].exception?.userMode).toBe(true);
      const pages = h!.dump.pagesRead.size - before;
      console.log(`[unwind] ${d.name}: panic CPU ${bt.frames.length} frames in ${ms.toFixed(1)} ms, ${pages} new pages read`);
      expect(pages).toBeLessThan(64);
      // crash's own text, line for line (frame numbers aside), as far as crash's frames are exact
      // (its stale words in do_syscall_64's frame come next): every crash line must appear, in
      // order, in ours. Ours has more: live frames below crash's start, the int3's pt_regs.
      const norm = (l: string) => l.replace(/^ ?#\d+ /, '#N ');
      const ours = crashStyle(bt).split('\n').map(norm);
      const theirs = readFileSync(new URL(`./referee/${d.referee}`, import.meta.url).pathname, 'utf8').split(/^crash> bt -a$/m)[0].split('\n').slice(1);
      const upTo = theirs.findIndex((l) => /do_syscall_64/.test(l)) + 1;
      expect(upTo).toBeGreaterThan(30);
      let k = 0;
      const missing: string[] = [];
      for (const l of theirs.slice(0, upTo).map(norm)) {
        const at = ours.indexOf(l, k);
        if (at < 0) missing.push(l);
        else k = at + 1;
      }
      expect(missing).toEqual([]);
    });

    it('`bt -a`: every CPU agrees with crash (up to where crash itself reports a bogus frame)', async () => {
      const all = await u!.backtraceAll();
      expect(all.map((b) => b.cpu)).toEqual([...ref.all.map((c) => c.cpu)].sort());
      for (const c of ref.all) {
        const bt = all.find((b) => b.cpu === c.cpu)!;
        const cmp = compareWithCrash(bt, c, bpBased);
        if (!cmp.ok) console.log(`CPU ${c.cpu}: ours | crash\n${cmp.table.join('\n')}\n\n${crashStyle(bt)}`);
        expect(cmp.ok).toBe(true);
        expect(bt.stopped).toBe('end');
        expect(bt.usedFallback).toBe(false);
      }
    });
  });
}

describe.skipIf(!openHarness(DUMPS[0].path))('the other CPU of buggy-2cpu', () => {
  it('was stopped by panic\'s smp_send_stop (REBOOT_VECTOR IPI) on its IRQ stack, in read()', async () => {
    const h = openHarness(DUMPS[0].path)!;
    const u = new Unwinder({ memory: h.dump, symbols: h.syms, types: h.types, release: h.release, cpus: h.cpus });
    const bt = await u.backtrace(1);
    expect(bt.frames.map((f) => `${f.function}:${f.stack}`)).toEqual([
      'stop_this_cpu:irq', '__sysvec_reboot:irq', 'sysvec_reboot:irq', 'asm_sysvec_reboot:task', 'shmem_file_read_iter:task',
      'vfs_read:task', 'ksys_read:task', 'do_syscall_64:task', 'entry_SYSCALL_64_after_hwframe:task']);
    expect(bt.frames[3].exception?.rip).toBe('shmem_get_folio_gfp+635');
    expect(crashStyle(bt)).toContain('--- <IRQ stack> ---');
  });
});

describe.skipIf(!openHarness(DUMPS[1].path))('the other CPU of buggy-2cpu-kdump', () => {
  it('was stopped by the NMI shootdown while single-stepping the kprobe on copy_page_to_iter', async () => {
    const h = openHarness(DUMPS[1].path)!;
    const u = new Unwinder({ memory: h.dump, symbols: h.syms, types: h.types, release: h.release, cpus: h.cpus });
    const bt = await u.backtrace(0);
    expect(bt.frames.map((f) => `${f.function}:${f.stack}`)).toEqual([
      'crash_nmi_callback:nmi', 'default_do_nmi:nmi', 'exc_nmi:nmi', 'end_repeat_nmi:nmi', 'kprobe_int3_handler:task', 'exc_int3:task',
      'asm_exc_int3:task', 'copy_page_to_iter:task', 'shmem_file_read_iter:task', 'vfs_read:task', 'ksys_read:task', 'do_syscall_64:task',
      'entry_SYSCALL_64_after_hwframe:task']);
    expect(bt.frames[3].exception?.rip).toBe('kprobe_int3_handler+366');
    // the int3's pt_regs->ip is the kprobe's instruction slot, mapped back to the probed address
    expect(bt.frames[6].exception).toMatchObject({ rip: 'copy_page_to_iter+5' });
    expect(bt.frames[6].exception?.note).toMatch(/instruction slot/);
    expect(bt.frames[7]).toMatchObject({ function: 'copy_page_to_iter', offset: 5n, reliable: true });
    expect(crashStyle(bt)).toContain('--- <NMI exception stack> ---');
    expect(bt.warnings.join('\n')).toMatch(/started at crash_nmi_callback\+0x3c/);
  });
});

// The unwinder on the committed dumps of the incident (fixtures/vmcore-*: Debian 6.1 in QEMU,
// panic_on_warn on the irq_fpu_usable WARN reached from the int3 kprobe's post handler, captured by
// kdump with makedumpfile -c -d 31), built from the product's own dump reader, kallsyms and BTF and
// compared frame by frame with crash's `bt` and `bt -a` (crash.kdump-zlib.txt in each fixture).
// Expected facts come from each fixture's own files: the hand-checked backtrace (expected.json),
// the loaded modules and the kprobe as the dump's log printed them.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Unwinder } from '../../src/kernel/unwind/unwinder.js';
import { crashStyle } from '../../src/kernel/unwind/format.js';
import { ORC_REG_BP } from '../../src/kernel/unwind/orc.js';
import type { Frame } from '../../src/kernel/unwind/types.js';
import { fixtureDumps } from '../fixture-dumps.js';
import { openHarness } from './dump-harness.js';
import { compareWithCrash, splitReferee } from './crash-compare.js';

const DUMPS = fixtureDumps().filter((f) => f.kind === 'kdump-zlib');

for (const d of DUMPS) {
  describe(`unwinding ${d.name} against crash`, () => {
    const h = openHarness(d.file());
    const u = new Unwinder({ memory: h.dump, symbols: h.syms, types: h.types, release: h.release, cpus: h.cpus, describeTask: h.describeTask });
    const refText = readFileSync(d.crash, 'utf8');
    const ref = splitReferee(refText);
    const bpBased = (f: Frame) => u.orcFind(f.pc - 1n)?.entry.spReg === ORC_REG_BP;
    // crash's `bt` minus the stale return addresses it scans inside do_syscall_64's frame
    const expected = (JSON.parse(readFileSync(join(d.dir, 'expected.json'), 'utf8')) as { backtrace: string[] }).backtrace;
    const crashScan = ref.bt.frames.length - expected.length;
    const dmesg = readFileSync(d.dmesg, 'utf8');

    it('finds the ORC tables, both modules and the kprobe without a vmlinux', () => {
      expect(u.problems).toEqual([]);
      const ipTable = h.syms.lookup('__stop_orc_unwind_ip')! - h.syms.lookup('__start_orc_unwind_ip')!;
      expect(u.kernelOrc?.count).toBe(Number(ipTable / 4n));
      const linked = /Modules linked in: (.*)/.exec(dmesg)![1].split(/\s+/).map((m) => m.replace(/\(.*\)$/, ''));
      expect(u.modules.modules.map((m) => m.name).sort()).toEqual(linked.sort());
      const probe = /hazard: kprobe at (\w+\+0x[0-9a-f]+)\//.exec(dmesg)![1];
      expect(u.kprobeSlots.map((k) => u.describe(k.addr))).toEqual([probe]);
    });

    it('panic CPU: the same frames as crash `bt`, in order (side-by-side on mismatch)', async () => {
      const before = h.dump.pagesRead.size;
      const t0 = performance.now();
      const bt = await u.backtrace(ref.bt.cpu);
      const ms = performance.now() - t0;
      const cmp = compareWithCrash(bt, ref.bt, bpBased);
      if (!cmp.ok || cmp.categories['match-name'] > 0) console.log(`ours | crash\n${cmp.table.join('\n')}\n\n${crashStyle(bt)}`);
      expect(cmp.ok).toBe(true);
      expect(cmp.categories['match-name']).toBe(0); // every shared frame has crash's slot and pc too
      expect(crashScan).toBeGreaterThanOrEqual(0);
      expect(cmp.categories['crash-scan']).toBe(crashScan);
      expect(cmp.matched).toBe(expected.length);
      expect(bt.stopped).toBe('end');
      expect(bt.usedFallback).toBe(false);
      expect(bt.frames.every((f) => f.reliable)).toBe(true);
      expect(bt.pid).toBe(ref.bt.pid);
      expect(bt.task).toBe(ref.bt.task);
      const names = bt.frames.map((f) => f.function);
      expect(names).toEqual(expected);
      expect(bt.frames.find((f) => f.function === 'post')).toMatchObject({ module: 'hazard' });
      expect(bt.frames.find((f) => f.function === 'asm_exc_invalid_op')?.exception?.rip).toBe('irq_fpu_usable+57');
      expect(bt.frames.find((f) => f.function === 'asm_exc_int3')?.exception?.rip).toBe('copy_page_to_iter+7');
      expect(bt.frames[bt.frames.length - 1].exception?.userMode).toBe(true);
      const pages = h.dump.pagesRead.size - before;
      console.log(`[unwind] ${d.name}: panic CPU ${bt.frames.length} frames in ${ms.toFixed(1)} ms, ${pages} new pages read`);
      expect(pages).toBeLessThan(64);
      // crash's own text, line for line (frame numbers aside), as far as crash's frames are exact
      // (its stale words in do_syscall_64's frame come next): every crash line must appear, in
      // order, in ours. Ours has more: live frames below crash's start, the int3's pt_regs.
      const norm = (l: string) => l.replace(/^ ?#\d+ /, '#N ');
      const ours = crashStyle(bt).split('\n').map(norm);
      const theirs = refText.split(/^crash> bt -a$/m)[0].split(/^crash> bt$/m)[1].split('\n').slice(1);
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
      const all = await u.backtraceAll();
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
    it('the other CPUs were stopped by kdump\'s NMI shootdown, on their NMI stacks', async () => {
      const others = h.cpus.map((c) => c.cpu).filter((c) => c !== ref.bt.cpu);
      expect(others.length).toBe(Number(d.referee.cpus) - 1);
      for (const cpu of others) {
        const bt = await u.backtrace(cpu);
        expect(bt.frames[0], `CPU ${cpu}`).toMatchObject({ function: 'crash_nmi_callback', stack: 'nmi' });
        expect(crashStyle(bt)).toContain('--- <NMI exception stack> ---');
        expect(bt.stopped).toBe('end');
        expect(bt.frames[bt.frames.length - 1].exception?.userMode, `CPU ${cpu}`).toBe(true);
      }
    });
  });
}

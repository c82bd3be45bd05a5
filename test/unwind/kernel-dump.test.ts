// End to end through src/vmcore and src/kernel (kallsyms and BTF read from the dump, no vmlinux):
// every committed vmcore fixture against crash's record of a session on it (`bt` and `bt -a`). The
// panic CPU's frames and every CPU's frames must agree with crash (crash-compare.ts lists the only
// tolerated differences), and with the kernel's own panic trace in the dump's log.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { openKernel } from '../../src/kernel/kernel.js';
import { ORC_REG_BP } from '../../src/kernel/unwind/orc.js';
import { crashStyle } from '../../src/kernel/unwind/format.js';
import { unwinderForKernel, type KernelForUnwind } from '../../src/kernel/unwind/kernel-adapter.js';
import type { Frame } from '../../src/kernel/unwind/types.js';
import { openDump } from '../../src/vmcore/index.js';
import { fixtureDumps } from '../fixture-dumps.js';
import { compareWithCrash, splitReferee } from './crash-compare.js';
import { panicCallTrace } from './kernel-trace.js';

interface Case { name: string; dump: () => string; referee: string }

// Every committed vmcore fixture with crash's record of a session on it (the trimmed dump with
// the record of the dump it was cut from).
const cases: Case[] = fixtureDumps().map((f) => ({ name: f.name, dump: f.file, referee: f.crash }));

for (const c of cases) {
  describe(`backtraces of ${c.name} from memory alone, against crash`, () => {
    it('panic CPU (`bt`) and every CPU (`bt -a`) agree with crash', async () => {
      const k: KernelForUnwind = openKernel(openDump(c.dump()));
      const u = unwinderForKernel(k);
      expect(u.problems).toEqual([]);
      const ref = splitReferee(readFileSync(c.referee, 'utf8'));
      const bpBased = (f: Frame) => u.orcFind(f.pc - 1n)?.entry.spReg === ORC_REG_BP;
      const t0 = performance.now();
      const bt = await u.backtrace(ref.bt.cpu);
      const ms = performance.now() - t0;
      const cmp = compareWithCrash(bt, ref.bt, bpBased);
      if (!cmp.ok) console.log(`${c.name} bt: ours | crash\n${cmp.table.join('\n')}\n\n${crashStyle(bt)}`);
      expect(cmp.ok).toBe(true);
      expect(bt.stopped).toBe('end');
      expect(bt.frames.every((f) => f.reliable)).toBe(true);
      console.log(`[unwind] ${c.name}: panic CPU ${ref.bt.cpu}, ${bt.frames.length} frames (${cmp.categories.match} exact, ${cmp.categories['match-name']} by name, crash's extra stale words ${cmp.categories['crash-scan']}) in ${ms.toFixed(0)} ms`);
      // Second referee: the kernel's own ORC unwinder, in the panic's dump_stack() trace in the
      // dump's log. From `panic` on, our frames (without the crash-style interrupted-function
      // frames) must be its reliable entries, with the same func+off/size [module] and RIPs.
      const log = (k as unknown as { log?: { records: { text: string }[] } }).log;
      const trace = log ? panicCallTrace(log.records.flatMap((r) => r.text.split('\n'))) : null;
      expect(trace, 'panic call trace in the dump\'s own log').not.toBeNull();
      if (trace) {
        const theirs = trace.entries.filter((e) => !e.unreliable);
        const ti = theirs.findIndex((e) => e.name === 'panic');
        const oi = bt.frames.findIndex((f) => f.function === 'panic');
        const ours = bt.frames.slice(oi).filter((f) => !f.interrupted);
        const fmt = (n: string, o: bigint, sz: bigint, m?: string, withOff = true) => `${n}${withOff ? `+0x${o.toString(16)}/0x${sz.toString(16)}` : ''}${m ? ` [${m}]` : ''}`;
        // panic itself was at another call when dump_stack() ran: compare its name only
        expect(ours.map((f, i) => fmt(f.function, f.offset, f.size, f.module, i > 0))).toEqual(theirs.slice(ti).map((e, i) => fmt(e.name, e.offset, e.size, e.module, i > 0)));
        const ourRips = bt.frames.slice(oi).filter((f) => f.exception && !f.exception.userMode).map((f) => f.exception!);
        expect(ourRips.map((e) => { const sym = u.symbolize(u.resolveIp(e.ripAddress).ip)!; return fmt(sym.name, sym.offset, sym.size); })).toEqual(trace.rips);
        console.log(`[unwind] ${c.name}: ${ours.length} frames from panic on equal the kernel's own panic trace (func+off/size, ${trace.rips.length} RIP lines)`);
      }

      const all = await u.backtraceAll();
      for (const r of ref.all) {
        const b = all.find((x) => x.cpu === r.cpu);
        expect(b, `CPU ${r.cpu}`).toBeDefined();
        const cc = compareWithCrash(b!, r, bpBased);
        if (!cc.ok) console.log(`${c.name} bt -a CPU ${r.cpu}: ours | crash\n${cc.table.join('\n')}\n\n${crashStyle(b!)}`);
        expect(cc.ok).toBe(true);
        expect(b!.stopped).toBe('end');
      }
    });
  });
}

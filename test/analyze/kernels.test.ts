// `analyze` on real dumps of other kernel generations (every fixtures/ folder with a facts.json:
// trimmed dumps made by scripts/fixtures/make-kernels.sh and scripts/fixtures/trim-kernel-fixture.sh), with no symbol file, against the referee records made from
// the FULL dump each trimmed fixture was cut from: crash with the matching Debian -dbg vmlinux
// (referee.elf.json, parsed from crash.elf.txt), and drgn where crash cannot unwind that kernel
// (drgn.txt). Every folder found is checked; none may be skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeDumpFile } from '../../src/analyzers/vmcore-analysis.js';
import { unpackXz } from '../fixture-dumps.js';
import { FIXTURES } from '../paths.js';

const DIR = FIXTURES;
const BIN = new URL('../../bin/ktriage.js', import.meta.url).pathname;

interface Referee {
  release: string;
  panic: string;
  panic_task: { pid: number; cpu: number; comm: string };
  bt?: string[];
  preempt_count: Record<string, { hex: string }>;
  in_kernel_fpu?: Record<string, string>;
  kernel_fpu_allowed?: Record<string, string>;
  current_task: Record<string, string>;
}

/** What a human read off the referee records and wrote down (fixtures/kernels/README.md). */
interface Facts {
  /** Frames crash's bt lists that are stale return addresses, not the task's calls. */
  crashStaleFrames?: string[];
  /** The referee for the backtrace when crash cannot unwind this kernel: "drgn". */
  backtraceReferee?: 'crash' | 'drgn';
  exitCode: number;
  hazards: string[];
}

/** Function names of drgn's `crashed_thread().stack_trace()` (drgn.txt). */
function drgnFrames(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^#\d+\s+(?:at\s+0x[0-9a-f]+\s+\(([\w.]+)\+0x[0-9a-f]+\/0x[0-9a-f]+\)|([\w.]+)\s+\()/.exec(line);
    if (m) out.push(m[1] ?? m[2]);
  }
  return out;
}

function isSubsequence(small: string[], big: string[]): boolean {
  let i = 0;
  for (const x of big) if (i < small.length && small[i] === x) i++;
  return i === small.length;
}

const folders = readdirSync(DIR).filter((d) => existsSync(join(DIR, d, 'facts.json'))).sort();

describe('kernel-generation fixtures exist', () => {
  it('fixtures/ holds trimmed dumps of several kernel generations', () => {
    expect(folders.length).toBeGreaterThanOrEqual(3);
  });
});

describe.each(folders)('analyze fixtures/%s', (name) => {
  const dir = join(DIR, name);
  const ref = JSON.parse(readFileSync(join(dir, 'referee.elf.json'), 'utf8')) as Referee;
  const facts = JSON.parse(readFileSync(join(dir, 'facts.json'), 'utf8')) as Facts;
  const files = ['vmcore.trimmed.kdump-zlib', 'vmcore.trimmed.elf.xz'].filter((f) => existsSync(join(dir, f)));

  it('has a trimmed kdump-compressed and a trimmed ELF dump', () => {
    expect(files).toEqual(['vmcore.trimmed.kdump-zlib', 'vmcore.trimmed.elf.xz']);
  });

  describe.each(files)('%s', (file) => {
    const run = analyzeDumpFile(unpackXz(join(dir, file))).then((r) => {
      r.dump.close();
      return r.diagnosis;
    });

    it('release, panic message, panic CPU and task equal crash', async () => {
      const d = await run;
      expect(d.kernelRelease).toBe(ref.release);
      expect(d.panicMessage).toBe(ref.panic);
      expect(d.panicCpu).toBe(ref.panic_task.cpu);
      const c = d.cpus.find((x) => x.cpu === d.panicCpu);
      expect(c?.task).toMatchObject({ pid: ref.panic_task.pid, comm: ref.panic_task.comm });
      expect(d.symbolSource).toMatch(/^kallsyms read from the dump/);
    });

    it('every CPU: preempt count, FPU state and current task equal crash', async () => {
      const d = await run;
      expect(d.cpus.map((c) => String(c.cpu))).toEqual(Object.keys(ref.preempt_count));
      for (const c of d.cpus) {
        const k = String(c.cpu);
        expect(c.preemptCount, `CPU ${k}`).toBe(ref.preempt_count[k].hex);
        const fpu = ref.in_kernel_fpu ? ref.in_kernel_fpu[k] === 'true' : ref.kernel_fpu_allowed![k] !== 'true';
        expect(c.inKernelFpu, `CPU ${k}`).toBe(fpu);
        expect(c.task?.address, `CPU ${k}`).toBe('0x' + BigInt(ref.current_task[k]).toString(16).padStart(16, '0'));
      }
    });

    it('backtrace: the referee\'s functions in the referee\'s order', async () => {
      const d = await run;
      const frames = d.backtrace?.frames ?? [];
      const reliable = frames.filter((f) => f.reliable).map((f) => f.function ?? '?');
      if (facts.backtraceReferee === 'drgn') {
        // crash cannot unwind this kernel; drgn with DWARF is exact, and the reliable frames must be its frames.
        const want = drgnFrames(readFileSync(join(dir, 'drgn.txt'), 'utf8'));
        expect(want.length).toBeGreaterThan(3);
        expect(reliable).toEqual(want);
        return;
      }
      const want = (ref.bt ?? []).filter((f) => !(facts.crashStaleFrames ?? []).includes(f));
      const side = () => reliable.map((f, i) => `${f.padEnd(34)} ${want[i] ?? ''}`).join('\n');
      expect(want.length).toBeGreaterThan(3);
      expect(isSubsequence(want, reliable), side()).toBe(true);
      // Ours may start deeper (the function the NT_PRSTATUS RIP is in, which crash's bt starts
      // above); after crash's first frame the two lists are the same.
      expect(reliable.slice(reliable.indexOf(want[0])), side()).toEqual(want);
    });

    it('hazards and the CLI\'s exit code as recorded', async () => {
      const d = await run;
      expect(d.reports.flatMap((r) => r.hazards.map((h) => h.id))).toEqual(facts.hazards);
      const r = spawnSync('node', [BIN, 'analyze', unpackXz(join(dir, file))], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(facts.exitCode);
    });
  });
});

// A kernel built without BTF (CONFIG_DEBUG_INFO_BTF off) gives no task_struct layout: the task
// stack then comes from the saved sp (stacks are THREAD_SIZE-aligned), and the trace stays exact.
describe.each(folders.slice(0, 1))('fixtures/%s with BTF hidden', (name) => {
  it('backtrace equal to the one with BTF', async () => {
    const { openDump } = await import('../../src/vmcore/index.js');
    const { openKernel } = await import('../../src/kernel/kernel.js');
    const { unwinderForKernel } = await import('../../src/kernel/unwind/index.js');
    const file = join(DIR, name, 'vmcore.trimmed.kdump-zlib');
    const withBtf = await unwinderForKernel(openKernel(openDump(file))).backtrace(0);
    const k = openKernel(openDump(file));
    Object.defineProperty(k, 'btf', { get: () => undefined });
    const bt = await unwinderForKernel(k).backtrace(0);
    expect(bt.frames.map((f) => [f.function, f.reliable])).toEqual(withBtf.frames.map((f) => [f.function, f.reliable]));
    expect(bt.frames.filter((f) => f.reliable).length).toBeGreaterThan(5);
  });
});

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

/** What a human read off the referee records and wrote down (facts.json beside each dump). */
interface Facts {
  /** crash's bt frames (by index in its first `bt`) that are not the task's calls: stale words
   * it scanned, or a frame crash itself flags as bogus. */
  crashUntrustedFrames?: number[];
  /** The referee for the backtrace when crash cannot unwind this kernel: "drgn". */
  backtraceReferee?: 'crash' | 'drgn';
  /** The panic message as the kernel printed it, when crash's sys PANIC shows something else
   * (crash prints the oops line for an oops, the kernel's panic() message follows in its log). */
  panicMessage?: string;
  /** PREEMPT_RT: the panicking CPU's current task's softirq_disable_cnt, as crash printed it. */
  softirqDisableCnt?: string;
  exitCode: number;
  hazards: string[];
}

/** The frames of crash's first `bt` (crash.elf.txt): name and return address. */
function crashFrames(text: string): { name: string; pc: bigint }[] {
  const at = text.indexOf('crash> bt\n');
  const end = text.indexOf('crash> ', at + 10);
  const out: { name: string; pc: bigint }[] = [];
  for (const line of text.slice(at, end).split('\n')) {
    const m = /^\s*#\d+ \[[0-9a-f]+\] (\S+) at ([0-9a-f]+)/.exec(line);
    if (m) out.push({ name: m[1], pc: BigInt('0x' + m[2]) });
  }
  return out;
}

/** drgn's frames (drgn.txt, "frames:" lines): real (not inlined) kernel frames, by pc. */
function drgnFrames(text: string): { name: string; pc: bigint }[] {
  const out: { name: string; pc: bigint }[] = [];
  for (const m of text.matchAll(/^ {2}frame \d+ pc=0x([0-9a-f]+) inline=(\d) interrupted=\d name=(\S+)$/gm)) {
    const pc = BigInt('0x' + m[1]);
    if (m[2] === '0' && pc >= 0xffff800000000000n) out.push({ name: m[3], pc });
  }
  return out;
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
      expect(d.panicMessage).toBe(facts.panicMessage ?? ref.panic);
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
        // crash appends the symbol when the task is a static one (`0x... <init_task>`): the address is the first word.
        const refTask = ref.current_task[k].split(/\s/)[0];
        expect(c.task?.address, `CPU ${k}`).toBe('0x' + BigInt(refTask).toString(16).padStart(16, '0'));
      }
    });

    it('backtrace: the referee\'s frames, by return address, in the referee\'s order', async () => {
      const d = await run;
      const drgn = facts.backtraceReferee === 'drgn';
      // drgn lists the function an exception interrupted as a frame of its own; crash (and
      // ktriage's text) print it as "[exception RIP: ...]" under the exception frame.
      const reliable = (d.backtrace?.frames ?? [])
        .filter((f) => f.reliable)
        .flatMap((f) => [
          { name: f.function ?? '?', pc: BigInt(f.pc) },
          ...(drgn && f.exception && !f.exception.userMode ? [{ name: f.exception.rip, pc: BigInt(f.exception.registers.ip) }] : []),
        ]);
      const want =
        drgn
          ? drgnFrames(readFileSync(join(dir, 'drgn.txt'), 'utf8'))
          : crashFrames(readFileSync(join(dir, 'crash.elf.txt'), 'utf8')).filter((_, i) => !(facts.crashUntrustedFrames ?? []).includes(i));
      // Compared by address: crash, drgn and kallsyms may name one address differently
      // (__do_softirq / __softirqentry_text_start, entry_SYSCALL_64 / _after_hwframe).
      const side = () => reliable.map((f, i) => `${f.name.padEnd(34)} ${want[i]?.name ?? ''}`).join('\n');
      expect(want.length).toBeGreaterThan(3);
      const i0 = reliable.findIndex((f) => f.pc === want[0].pc);
      // Ours may start deeper (the function the NT_PRSTATUS RIP is in, which crash's bt starts
      // above) and go on past where the referee stopped; in between, the same frames.
      expect(i0, side()).toBeGreaterThanOrEqual(0);
      if (drgn) expect(reliable.length, side()).toBe(want.length);
      expect(reliable.slice(i0, i0 + want.length).map((f) => f.pc.toString(16)), side()).toEqual(want.map((f) => f.pc.toString(16)));
    });

    it('PREEMPT_RT: the softirq state read from the task equals crash', async () => {
      const d = await run;
      const c = d.cpus.find((x) => x.cpu === d.panicCpu);
      const rt = (c?.preempt as { preemptRt?: { softirqDisableCnt?: string } } | null)?.preemptRt;
      if (facts.softirqDisableCnt === undefined) {
        expect(rt?.softirqDisableCnt, 'a non-RT kernel read as RT').toBeUndefined();
        return;
      }
      expect(rt?.softirqDisableCnt).toBe(facts.softirqDisableCnt);
      // SOFTIRQ_OFFSET (0x100) counted there means the task is serving a softirq.
      if ((BigInt(facts.softirqDisableCnt) & 0x100n) !== 0n) expect(c?.preempt?.summary).toMatch(/serving softirq/);
      else expect(c?.preempt?.summary).not.toMatch(/softirq/);
    });

    it('`percpu` of the preempt count, by the name crash used, equals crash', () => {
      const name = (ref as Referee & { preempt_count_from?: string }).preempt_count_from ?? '__preempt_count';
      const r = spawnSync('node', [BIN, 'percpu', unpackXz(join(dir, file)), name, '--json'], { encoding: 'utf8', env: { ...process.env, KTRIAGE_NO_CACHE: '1' } });
      expect(r.status, r.stderr).toBe(0);
      const values = (JSON.parse(r.stdout) as { values: { cpu: number; value: string; decimal?: string }[] }).values;
      const got = Object.fromEntries(values.map((v) => [String(v.cpu), String(BigInt.asIntN(32, BigInt(v.decimal ?? v.value)))]));
      const want = Object.fromEntries(Object.entries(ref.preempt_count).map(([cpu, v]) => [cpu, String(BigInt.asIntN(32, BigInt(v.hex)))]));
      expect(got).toEqual(want);
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
// stack then comes from the saved sp (stacks are THREAD_SIZE-aligned), and the trace stays exact
// as long as it does not pass through a module (struct module's layout needs BTF: module symbols
// and ORC are then unknown, and the report says so).
describe.each(folders.filter((f) => f.includes('sysrq')).slice(0, 2))('fixtures/%s with BTF hidden', (name) => {
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

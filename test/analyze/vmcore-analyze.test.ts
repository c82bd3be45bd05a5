// `analyze <vmcore>` on the real fixtures, against crash's referee records (referee.*.json, parsed
// from crash.*.txt: crash 8.0.2 with Debian's debug vmlinux on the same files).
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeDumpFile } from '../../src/analyzers/vmcore-analysis.js';

const FIX = new URL('../../fixtures/', import.meta.url).pathname;
const fixtures = readdirSync(FIX).filter((d) => d.startsWith('vmcore-') && existsSync(join(FIX, d, 'vmcore.d31.kdump-zlib')));

interface Referee {
  panic_task: { pid: number; cpu: number; comm: string };
  bt: string[];
  preempt_count: Record<string, { hex: string }>;
  in_kernel_fpu: Record<string, string>;
  current_task?: Record<string, string>;
}

function isSubsequence(small: string[], big: string[]): boolean {
  let i = 0;
  for (const x of big) if (i < small.length && small[i] === x) i++;
  return i === small.length;
}

describe.each(fixtures)('analyze %s (kdump-compressed, no symbol file)', (name) => {
  const ref = JSON.parse(readFileSync(join(FIX, name, 'referee.kdump-zlib.json'), 'utf8')) as Referee;
  const run = analyzeDumpFile(join(FIX, name, 'vmcore.d31.kdump-zlib')).then((r) => {
    r.dump.close();
    return r.diagnosis;
  });

  it('per-CPU __preempt_count and in_kernel_fpu equal crash on every CPU', async () => {
    const d = await run;
    expect(d.cpus.map((c) => c.cpu)).toEqual(Object.keys(ref.preempt_count).map(Number));
    for (const c of d.cpus) {
      expect(c.preemptCount, `CPU ${c.cpu}`).toBe(ref.preempt_count[String(c.cpu)].hex);
      expect(c.inKernelFpu, `CPU ${c.cpu}`).toBe(ref.in_kernel_fpu[String(c.cpu)] === 'true');
    }
  });

  it('panic CPU, panic task and its comm equal crash', async () => {
    const d = await run;
    expect(d.panicCpu).toBe(ref.panic_task.cpu);
    const c = d.cpus.find((x) => x.cpu === d.panicCpu);
    expect(c?.task).toMatchObject({ pid: ref.panic_task.pid, comm: ref.panic_task.comm });
    expect(c?.preempt?.predicates.inNmi).toBe(true);
    expect(c?.explainsCrash).toBe(true);
    // the other CPUs are in NMI because kdump's shootdown stopped them, and the report says so
    for (const o of d.cpus.filter((x) => x.cpu !== d.panicCpu)) expect(o.state).toMatch(/NMI shootdown/);
  });

  it("backtrace: crash's frames in crash's order (crash adds stale words it scans in do_syscall_64)", async () => {
    const d = await run;
    const ours = d.backtrace?.frames.map((f) => f.function ?? '') ?? [];
    const side = () => ours.map((f, i) => `${f.padEnd(34)} ${ref.bt[i] ?? ''}`).join('\n');
    expect(isSubsequence(ours, ref.bt), side()).toBe(true);
    const extra = ref.bt.filter((f) => !ours.includes(f));
    expect(extra.every((f) => ['alloc_fd', 'syscall_exit_to_user_mode', 'exit_to_user_mode_prepare'].includes(f)), side()).toBe(true);
    expect(ours).toContain('post');
    expect(d.backtrace?.frames.find((f) => f.function === 'post')?.module).toBe('hazard');
    expect(d.backtrace?.crashStyle).toContain('[exception RIP: irq_fpu_usable+57]');
  });

  it('matches kprobe-int3-nmi-slab-fpu with high confidence and memory evidence', async () => {
    const d = await run;
    expect(d.reports[0].report.title).toBe('WARNING in irq_fpu_usable');
    const h = d.reports[0].hazards[0];
    expect(h.id).toBe('kprobe-int3-nmi-slab-fpu');
    expect(h.confidence).toBe('high');
    expect(h.evidence.join('\n')).toMatch(/memory: .*in_nmi\(\) is true/);
    expect(h.evidence.join('\n')).toMatch(/in_kernel_fpu on CPU 0 = 0/);
    expect(h.fix.join('\n')).toMatch(/kmod-reference\/ mode `deferred`/);
    expect(d.symbolSource).toMatch(/^kallsyms read from the dump/);
  });

  it('reads a bounded number of pages', async () => {
    const d = await run;
    expect(d.pagesRead).toBeLessThan(4000);
  });
});

describe('trim', () => {
  it('a trimmed dump gives the same report as the original, and is small', async () => {
    const { mkdtempSync, statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { runTrim } = await import('../../src/cli/commands/trim.js');
    const src = join(FIX, 'vmcore-debian-6.1.192-buggy-4cpu/vmcore.d31.kdump-zlib');
    const out = join(mkdtempSync(join(tmpdir(), 'ktriage-trim-')), 'trimmed.elf');
    await runTrim(src, out);
    expect(statSync(out).size).toBeLessThan(8 << 20);
    const strip = (d: Awaited<ReturnType<typeof analyzeDumpFile>>) => {
      d.dump.close();
      const { input: _i, dump: _d, pagesRead: _p, ...rest } = d.diagnosis;
      return rest;
    };
    expect(strip(await analyzeDumpFile(out))).toEqual(strip(await analyzeDumpFile(src)));
    await expect(runTrim(src, out)).rejects.toThrow(/exists/);
  });
});

// The kernel layer on the real QEMU dumps of the incident (Debian 6.1.0-56-amd64), with no
// System.map or vmlinux, checked against crash's output for the same dumps (test/kernel/referee/,
// or crash.txt beside a fixture) and makedumpfile --dump-dmesg where available.
// Dumps live in /work/dumps (KTRIAGE_DUMPS overrides) or fixtures/<name>/; absent ones are skipped.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openKernel } from '../../src/kernel/kernel.js';
import { formatLog } from '../../src/kernel/printk.js';
import { parseSystemMap, readVmlinuxSymbols } from '../../src/kernel/symfiles.js';
import type { DumpFile } from '../../src/vmcore/types.js';
import { DUMPS_DIR, openRealDump } from './helpers.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const REFEREE_DIR = path.join(import.meta.dirname, 'referee');
const VMLINUX = '/usr/lib/debug/boot/vmlinux-6.1.0-56-amd64';

interface Candidate {
  name: string;
  file: string;
  crash?: string;
  dmesg?: string;
}

function candidates(): Candidate[] {
  const out: Candidate[] = [];
  const isDump = (f: string) => /\.(elf|kdump[-\w]*)$|kdump-(lzo|zlib|snappy|zstd)(-d\d+)?$|\.vmcore$/.test(f);
  if (fs.existsSync(DUMPS_DIR)) {
    for (const f of fs.readdirSync(DUMPS_DIR).sort()) {
      if (!isDump(f)) continue;
      // the paging=true copy (PN_XNUM, virtual PT_LOADs) is the same instant as buggy-2cpu.elf
      const crash = path.join(REFEREE_DIR, `${f.replace(/\.paging\.elf$/, '.elf')}.crash.txt`);
      // makedumpfile --dump-dmesg of the same panic, when the producer kept one
      const stem = f.startsWith('buggy-4cpu') ? 'buggy-4cpu-kdump' : f.startsWith('buggy-2cpu-kdump.kdump') ? 'buggy-2cpu-kdump' : undefined;
      const dmesg = stem ? path.join(DUMPS_DIR, `${stem}.dmesg-from-dump.txt`) : undefined;
      out.push({ name: f, file: path.join(DUMPS_DIR, f), crash: fs.existsSync(crash) ? crash : undefined, dmesg: dmesg && fs.existsSync(dmesg) ? dmesg : undefined });
    }
  }
  const fx = path.join(REPO, 'fixtures');
  if (fs.existsSync(fx)) {
    for (const d of fs.readdirSync(fx)) {
      const dir = path.join(fx, d);
      if (!fs.statSync(dir).isDirectory()) continue;
      for (const f0 of fs.readdirSync(dir)) {
        if (!isDump(f0.replace(/\.xz$/, ''))) continue;
        const f = f0.replace(/\.xz$/, '');
        // crash.<format>.txt (vmcore.d31.kdump-zlib -> crash.kdump-zlib.txt), or crash.txt
        const fmt = f.replace(/^vmcore(\.d\d+)?\./, '');
        const crash = [path.join(dir, `crash.${fmt}.txt`), path.join(dir, 'crash.txt')].find((x) => fs.existsSync(x));
        const dmesg = path.join(dir, 'dmesg-from-dump.txt');
        out.push({ name: `fixtures/${d}/${f0}`, file: unpacked(path.join(dir, f0)), crash, dmesg: fs.existsSync(dmesg) ? dmesg : undefined });
      }
    }
  }
  return out;
}

/** A `.xz` fixture dump, decompressed once into the temp directory (shared with test/unwind). */
function unpacked(file: string): string {
  if (!file.endsWith('.xz')) return file;
  const out = path.join(os.tmpdir(), `ktriage-unwind-${fs.statSync(file).size}-${path.basename(file, '.xz')}`);
  if (fs.existsSync(out)) return out;
  const fd = fs.openSync(`${out}.part.${process.pid}`, 'w');
  const r = spawnSync('xz', ['-dc', file], { stdio: ['ignore', fd, 'ignore'] });
  fs.closeSync(fd);
  if (r.status !== 0) return file; // no xz: the test reports it cannot open the file
  fs.renameSync(`${out}.part.${process.pid}`, out);
  return out;
}

interface Referee {
  percpu: Map<string, Map<number, string>>;
  syms: Map<string, bigint>;
  panicCpu?: number;
  log: string[];
}

/** Parse crash's output for `p X:a`, `sym X`, `p panic_cpu` and `log`. */
function parseCrash(text: string): Referee {
  const percpu = new Map<string, Map<number, string>>();
  const syms = new Map<string, bigint>();
  let panicCpu: number | undefined;
  const log: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    let m = /^per_cpu\((\w+), (\d+)\) = (?:\$\d+ = )?(.*)$/.exec(l);
    if (m) {
      if (!percpu.has(m[1])) percpu.set(m[1], new Map());
      percpu.get(m[1])!.set(Number(m[2]), m[3].replace(/^\(struct task_struct \*\) /, '').trim());
      continue;
    }
    m = /^([0-9a-f]{16}) \((\w)\) (\S+)/.exec(l);
    if (m) {
      syms.set(m[3], BigInt('0x' + m[1]));
      continue;
    }
    if (/^panic_cpu = /.test(l)) {
      const c = /counter = (-?\d+)/.exec(lines[i + 1] ?? '');
      if (c) panicCpu = Number(c[1]);
      continue;
    }
    if (/^\[\s*\d+\.\d{6}\] /.test(l) || (log.length > 0 && /^ {15}/.test(l))) log.push(l);
  }
  return { percpu, syms, panicCpu, log };
}

const signed32 = (v: number) => String(v | 0);

const all = candidates();

describe.skipIf(all.length === 0)('real dumps', () => {
  for (const c of all) {
    describe(c.name, () => {
      let dump: DumpFile | undefined;
      let skipReason: string | undefined;
      const get = async () => {
        if (!dump && !skipReason) {
          try {
            dump = await openRealDump(c.file);
          } catch (e) {
            skipReason = `cannot open ${c.name} yet: ${(e as Error).message}`;
          }
        }
        return dump;
      };

      it('symbols, per-CPU values, log and panic CPU from the dump alone', async (ctx) => {
        const d = await get();
        if (!d) {
          console.log(`skipped: ${skipReason}`);
          ctx.skip();
          return;
        }
        const t0 = performance.now();
        const k = openKernel(d);
        expect(k.symbols.source).toBe('kallsyms');
        expect(k.kallsymsEncoding).toBe('absolute-percpu');
        const fpuAddr = k.symbols.lookup('irq_fpu_usable');
        expect(fpuAddr).toBeDefined();
        // Same build in every dump: irq_fpu_usable sits at _stext + 0x406d0.
        expect(fpuAddr! - k.vmcoreinfo.symbols.get('_stext')!).toBe(0x406d0n);
        const pc = k.percpu.preemptCount()!;
        expect(pc.source).toBe('__preempt_count');
        const fpu = k.percpu.inKernelFpu()!;
        expect(fpu.source).toBe('in_kernel_fpu');
        const cur = k.percpu.currentTask()!;
        const log = k.log;
        const panic = k.panicCpu;
        const summary = k.summary();
        const ms = performance.now() - t0;
        expect(summary).toMatchObject({ release: '6.1.0-56-amd64', pageSize: 4096, pagingLevels: 5, symbolSource: 'kallsyms', kallsymsEncoding: 'absolute-percpu', panicCpuEvidence: 'panic_cpu variable' });
        expect(summary.kaslrOffset).toBe('0x' + k.vmcoreinfo.kernelOffset!.toString(16));
        expect(summary.physBase).toMatch(/^-?0x[0-9a-f]+$/);
        expect(summary.cpusPossible?.length).toBe(d.prstatus.length);

        // The WARN that started it all, and the CPU it names.
        const warn = log.records.map((r) => r.text).find((t) => /^WARNING: CPU: \d+ PID: \d+ at arch\/x86\/kernel\/fpu\/core\.c:\d+ irq_fpu_usable\+0x39\/0x50/.test(t));
        expect(warn).toBeDefined();
        const warnCpu = Number(/CPU: (\d+)/.exec(warn!)![1]);
        const warnPid = Number(/PID: (\d+)/.exec(warn!)![1]);
        expect(panic.cpu).toBe(warnCpu);
        expect(panic.evidence).toBe('panic_cpu variable');
        const pcPanic = pc.values.find((v) => v.cpu === warnCpu)!.value!;
        // In NMI (int3-based kprobe) + hardirq on the panic CPU; the FPU is not in use.
        expect(pcPanic & 0x00ff0000).toBe(0x00110000);
        expect(fpu.values.find((v) => v.cpu === warnCpu)!.value).toBe(false);
        const task = k.task(cur.values.find((v) => v.cpu === warnCpu)!.value!);
        expect(task.pid).toBe(warnPid);
        expect(task.comm).toBe('init');
        console.log(
          `${c.name}: ${ms.toFixed(0)} ms; panic CPU ${panic.cpu} (${panic.evidence}); preempt_count ${pc.values.map((v) => `${v.cpu}:0x${v.value?.toString(16)}`).join(' ')}; ` +
            `in_kernel_fpu ${fpu.values.map((v) => v.value).join(' ')}; ${log.records.length} log records; timing ${JSON.stringify(k.timing)}`,
        );

        if (c.crash) {
          const ref = parseCrash(fs.readFileSync(c.crash, 'utf8'));
          const refPc = ref.percpu.get('__preempt_count')!;
          expect(pc.values.length).toBe(refPc.size);
          for (const v of pc.values) expect(signed32(v.value!)).toBe(refPc.get(v.cpu));
          // what `ktriage percpu <dump> __preempt_count --type int` prints
          const typed = k.percpu.readTyped('__preempt_count', 'int');
          expect(typed.values.map((v) => String(v.value))).toEqual([...refPc.values()]);
          const refFpu = ref.percpu.get('in_kernel_fpu')!;
          for (const v of fpu.values) expect(String(v.value)).toBe(refFpu.get(v.cpu));
          const refCur = ref.percpu.get('current_task')!;
          for (const v of cur.values) expect(`0x${v.value!.toString(16)}`).toBe(refCur.get(v.cpu));
          expect(fpuAddr).toBe(ref.syms.get('irq_fpu_usable'));
          if (ref.syms.has('page_offset_base')) expect(k.symbols.lookup('page_offset_base')).toBe(ref.syms.get('page_offset_base'));
          if (ref.panicCpu !== undefined) expect(panic.cpu).toBe(ref.panicCpu);
          // crash's `log` (or `log | tail -N`), line for line.
          const ours = formatLog(log).trimEnd().split('\n');
          expect(ref.log.length).toBeGreaterThan(10);
          if (ref.log[0].startsWith('[    0.000000] Linux version')) expect(ours.length).toBe(ref.log.length);
          expect(ours.slice(-ref.log.length)).toEqual(ref.log);
        }
        if (c.dmesg) {
          const ref = fs.readFileSync(c.dmesg, 'utf8').replace(/\r/g, '');
          expect(formatLog(log)).toBe(ref);
        }
      });
    });
  }
});

describe.skipIf(!fs.existsSync(VMLINUX) || !fs.existsSync(path.join(DUMPS_DIR, 'buggy-2cpu.elf')))('vmlinux .symtab vs kallsyms', () => {
  it('agree on every global symbol after the KASLR shift', async () => {
    const d = await openRealDump(path.join(DUMPS_DIR, 'buggy-2cpu.elf'));
    const k = openKernel(d, { vmlinux: VMLINUX });
    const t0 = performance.now();
    const v = readVmlinuxSymbols(VMLINUX, k.vmcoreinfo);
    const ms = performance.now() - t0;
    const ks = k.symbols;
    let compared = 0;
    let mismatches = 0;
    for (const s of v.all()) {
      if (s.type !== 'T' && s.type !== 'D' && s.type !== 'B' && s.type !== 'R') continue;
      const a = ks.lookup(s.name);
      if (a === undefined) continue;
      compared++;
      if (a !== v.lookup(s.name)) mismatches++;
    }
    console.log(`vmlinux: ${v.count} symbols read in ${ms.toFixed(0)} ms; ${compared} globals compared, ${mismatches} differ`);
    expect(compared).toBeGreaterThan(20000);
    expect(mismatches).toBe(0);
    // per-CPU symbols are not shifted
    expect(v.lookup('__preempt_count')).toBe(ks.lookup('__preempt_count'));
    expect(v.symbolize(ks.lookup('irq_fpu_usable')! + 0x39n)).toMatchObject({ name: 'irq_fpu_usable', offset: 0x39n, size: 0x42n }); // st_size; kallsyms only knows the gap (0x50)
    expect(ks.symbolize(ks.lookup('irq_fpu_usable')! + 0x39n)).toMatchObject({ name: 'irq_fpu_usable', offset: 0x39n, size: 0x50n });
  });
});

describe.skipIf(!fs.existsSync(VMLINUX) || !fs.existsSync(path.join(DUMPS_DIR, 'buggy-4cpu.d31.elf')) || spawnSync('nm', ['--version']).status !== 0)('System.map (nm -n of the debug vmlinux) vs kallsyms', () => {
  it('agrees after the KASLR shift; per-CPU symbols stay unshifted', async () => {
    const r = spawnSync('nm', ['-n', VMLINUX], { maxBuffer: 256 * 1024 * 1024, encoding: 'latin1' });
    expect(r.status).toBe(0);
    const d = await openRealDump(path.join(DUMPS_DIR, 'buggy-4cpu.d31.elf'));
    const k = openKernel(d);
    const t0 = performance.now();
    const m = parseSystemMap(r.stdout, k.vmcoreinfo, 'System.map (nm -n)');
    const ms = performance.now() - t0;
    let compared = 0;
    let differ = 0;
    for (const s of m.all()) {
      if (!/^[TDBR]$/.test(s.type)) continue;
      const a = k.symbols.lookup(s.name);
      if (a === undefined) continue;
      compared++;
      if (a !== m.lookup(s.name)) differ++;
    }
    console.log(`System.map: ${m.count} symbols parsed in ${ms.toFixed(0)} ms; ${compared} compared, ${differ} differ; ${m.description}`);
    expect(compared).toBeGreaterThan(20000);
    expect(differ).toBe(0);
    expect(m.lookup('__preempt_count')).toBe(0x1fb40n);
    expect(m.lookup('irq_fpu_usable')).toBe(k.symbols.lookup('irq_fpu_usable'));
    // With the kallsyms entries removed from VMCOREINFO, openKernel falls back to --system-map
    // and still reads the same per-CPU values.
    const mapFile = path.join(os.tmpdir(), `ktriage-kernel-test-System.map-${process.pid}`);
    fs.writeFileSync(mapFile, r.stdout, 'latin1');
    try {
      const noKallsyms = Object.create(d, { vmcoreinfo: { value: d.vmcoreinfo!.replace(/^SYMBOL\(kallsyms_\w+\)=.*\n/gm, '') } }) as DumpFile;
      const k2 = openKernel(noKallsyms, { systemMap: mapFile });
      expect(k2.symbols.source).toBe('system-map');
      expect(k2.symbolAttempts[0]).toMatchObject({ source: 'kallsyms', ok: false });
      expect(k2.percpu.preemptCount()!.values.map((v) => v.value)).toEqual(k.percpu.preemptCount()!.values.map((v) => v.value));
      expect(k2.panicCpu.cpu).toBe(k.panicCpu.cpu);
    } finally {
      fs.unlinkSync(mapFile);
    }
  });
});

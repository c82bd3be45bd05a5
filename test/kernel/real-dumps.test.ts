// The kernel layer on the committed dumps of the incident (fixtures/vmcore-*: makedumpfile's
// kdump-zlib and ELF of each panic, and the trimmed ELF cut from one), with no System.map or
// vmlinux, checked against crash's record of a session on the same dump (crash.<format>.txt), the
// referee JSON parsed from it, and makedumpfile --dump-dmesg.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openKernel } from '../../src/kernel/kernel.js';
import { formatLog } from '../../src/kernel/printk.js';
import type { KernelSymbol } from '../../src/kernel/symbols.js';
import { parseSystemMap, readVmlinuxSymbols } from '../../src/kernel/symfiles.js';
import { openDump } from '../../src/vmcore/index.js';
import type { DumpFile } from '../../src/vmcore/types.js';
import { fixtureDumps } from '../fixture-dumps.js';

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

const all = fixtureDumps();

describe('real dumps', () => {
  for (const c of all) {
    describe(c.name, () => {
      it('symbols, per-CPU values, log and panic CPU from the dump alone', () => {
        const d = openDump(c.file());
        const t0 = performance.now();
        const k = openKernel(d);
        expect(k.symbols.source).toBe('kallsyms');
        expect(k.kallsymsEncoding).toBe('absolute-percpu');
        const fpuAddr = k.symbols.lookup('irq_fpu_usable');
        expect(fpuAddr).toBeDefined();
        const pc = k.percpu.preemptCount()!;
        expect(pc.source).toBe('__preempt_count');
        const fpu = k.percpu.inKernelFpu()!;
        expect(fpu.source).toBe('in_kernel_fpu');
        const cur = k.percpu.currentTask()!;
        const log = k.log;
        const panic = k.panicCpu;
        const summary = k.summary();
        const ms = performance.now() - t0;
        expect(summary).toMatchObject({ release: c.referee.release, pageSize: 4096, pagingLevels: 5, symbolSource: 'kallsyms', kallsymsEncoding: 'absolute-percpu', panicCpuEvidence: 'panic_cpu variable' });
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

        expect(summary.cpusPossible?.length).toBe(Number(c.referee.cpus));
        expect({ cpu: panic.cpu, pid: task.pid, comm: task.comm }).toEqual({ cpu: c.referee.panic_task.cpu, pid: c.referee.panic_task.pid, comm: c.referee.panic_task.comm });
        expect(fpuAddr).toBe(BigInt(c.referee.sym_irq_fpu_usable));
        {
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
        {
          const ref = fs.readFileSync(c.dmesg, 'utf8').replace(/\r/g, '');
          expect(formatLog(log)).toBe(ref);
        }
        d.close();
      });
    });
  }
});


// The 860 MB debug vmlinux and its System.map are not in the repository. The symbol-file routes
// are checked on the real kernel's symbol set all the same: both files are written from the dump's
// own kallsyms at link-time addresses (KASLR undone), so the reader must find the shift again and
// agree with kallsyms on every symbol, and openKernel must fall back to them when VMCOREINFO names
// no kallsyms tables (a kernel before 6.0).
describe('symbol files (System.map, --vmlinux .symtab) vs kallsyms', () => {
  const c = all.find((x) => x.kind === 'kdump-zlib')!;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ktriage-symfiles-'));
  const linkTime = (k: ReturnType<typeof openKernel>, s: KernelSymbol) =>
    s.type === 'A' || s.type === 'a' || s.address < 0xffff800000000000n ? s.address : BigInt.asUintN(64, s.address - k.vmcoreinfo.kernelOffset!);
  // Without the kallsyms tables and without what would let the product find them in the image
  // (_stext, KERNELOFFSET), as a kernel before 6.0 with the KASLR information missing: only the
  // symbol file is left. Its addresses are then taken as they are, so it is written at run time.
  const withoutKallsyms = (d: DumpFile) =>
    Object.create(d, { vmcoreinfo: { value: d.vmcoreinfo!.replace(/^(SYMBOL\((kallsyms_\w+|_stext)\)|KERNELOFFSET)=.*\n/gm, '') } }) as DumpFile;
  const compare = (ks: ReturnType<typeof openKernel>['symbols'], other: { lookup(n: string): bigint | undefined; all(): readonly KernelSymbol[] }) => {
    let compared = 0;
    let differ = 0;
    for (const s of ks.all()) {
      if (!/^[TDBR]$/.test(s.type)) continue;
      compared++;
      if (other.lookup(s.name) !== ks.lookup(s.name)) differ++;
    }
    return { compared, differ };
  };

  it('System.map (nm -n form): same addresses after the KASLR shift; per-CPU symbols unshifted; the fallback reads the same per-CPU values', () => {
    const d = openDump(c.file());
    const k = openKernel(d);
    const syms = [...k.symbols.all()].filter((s) => /^[A-Za-z]$/.test(s.type));
    const text = syms
      .map((s) => ({ a: linkTime(k, s), s }))
      .sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : 0))
      .map(({ a, s }) => `${a.toString(16).padStart(16, '0')} ${s.type} ${s.name}`)
      .join('\n') + '\n';
    const m = parseSystemMap(text, k.vmcoreinfo, 'System.map (from kallsyms)');
    const { compared, differ } = compare(k.symbols, m);
    expect(compared).toBeGreaterThan(20000);
    expect(differ).toBe(0);
    expect(m.lookup('__preempt_count')).toBe(k.symbols.lookup('__preempt_count'));
    expect(m.lookup('__preempt_count')! < 0x100000n).toBe(true); // a per-CPU offset, not an address
    const mapFile = path.join(tmp, 'System.map');
    fs.writeFileSync(mapFile, syms.map((s) => `${s.address.toString(16).padStart(16, '0')} ${s.type} ${s.name}`).join('\n') + '\n');
    const k2 = openKernel(withoutKallsyms(d), { systemMap: mapFile });
    expect(k2.symbols.source).toBe('system-map');
    expect(k2.symbolAttempts[0]).toMatchObject({ source: 'kallsyms', ok: false });
    expect(k2.percpu.preemptCount()!.values.map((v) => v.value)).toEqual(k.percpu.preemptCount()!.values.map((v) => v.value));
    expect(k2.panicCpu.cpu).toBe(c.referee.panic_task.cpu);
    d.close();
  });

  it('--vmlinux: an ELF .symtab read back with nm-style types, the shift found from _stext, sizes used', () => {
    const d = openDump(c.file());
    const k = openKernel(d);
    const file = path.join(tmp, 'vmlinux');
    const syms = [...k.symbols.all()].filter((s) => /^[TtDdBbRrAaWV]$/.test(s.type)).map((s) => ({ ...s, address: linkTime(k, s) }));
    // st_size of irq_fpu_usable as objtool/gcc wrote it is smaller than kallsyms' gap to the next symbol
    writeSymtabElf(file, syms, new Map([['irq_fpu_usable', 0x42n]]));
    const v = readVmlinuxSymbols(file, k.vmcoreinfo);
    expect(v.description).toMatch(/SYMBOL\(_stext\) - file _stext/);
    const { compared, differ } = compare(k.symbols, v);
    expect(compared).toBeGreaterThan(20000);
    expect(differ).toBe(0);
    expect(k.symbols.all().filter((s) => /^[TDBR]$/.test(s.type) && v.get(s.name)?.type !== k.symbols.get(s.name)?.type).map((s) => s.name)).toEqual([]);
    expect(v.lookup('__preempt_count')).toBe(k.symbols.lookup('__preempt_count'));
    const fpu = k.symbols.lookup('irq_fpu_usable')!;
    expect(v.symbolize(fpu + 0x39n)).toMatchObject({ name: 'irq_fpu_usable', offset: 0x39n, size: 0x42n });
    expect(k.symbols.symbolize(fpu + 0x39n)).toMatchObject({ name: 'irq_fpu_usable', offset: 0x39n });
    const runtime = path.join(tmp, 'vmlinux.runtime');
    writeSymtabElf(runtime, k.symbols.all().filter((s) => /^[TtDdBbRrAaWV]$/.test(s.type)), new Map());
    const k2 = openKernel(withoutKallsyms(d), { vmlinux: runtime });
    expect(k2.symbols.source).toBe('vmlinux');
    expect(k2.percpu.preemptCount()!.values.map((v) => v.value)).toEqual(k.percpu.preemptCount()!.values.map((v) => v.value));
    d.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});

/**
 * A minimal ELF64 with the sections nm's letters come from (.text, .data, .bss, .rodata), a .symtab
 * and its .strtab: what readVmlinuxSymbols reads of a vmlinux.
 */
function writeSymtabElf(file: string, syms: KernelSymbol[], sizes: Map<string, bigint>): void {
  const SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8;
  const W = 1n, A = 2n, X = 4n;
  const secNames = ['', '.text', '.data', '.bss', '.rodata', '.symtab', '.strtab', '.shstrtab'];
  const shstr = Buffer.from(secNames.join('\0') + '\0');
  const nameOff = (i: number) => secNames.slice(0, i).reduce((n, s) => n + s.length + 1, 0);
  const shndx: Record<string, number> = { t: 1, d: 2, b: 3, r: 4, w: 1, v: 2 };
  const strs: Buffer[] = [Buffer.from([0])];
  let strLen = 1;
  const symtab = Buffer.alloc(24 * (syms.length + 1));
  syms.forEach((s, i) => {
    const o = 24 * (i + 1);
    symtab.writeUInt32LE(strLen, o);
    const nb = Buffer.from(s.name + '\0', 'latin1');
    strs.push(nb);
    strLen += nb.length;
    const lower = s.type.toLowerCase();
    const bind = s.type === 'W' || s.type === 'V' ? 2 : s.type === lower ? 0 : 1;
    const stt = lower === 't' || lower === 'w' ? 2 : 1;
    symtab[o + 4] = (bind << 4) | stt;
    symtab.writeUInt16LE(lower === 'a' ? 0xfff1 : shndx[lower], o + 6);
    symtab.writeBigUInt64LE(s.address, o + 8);
    symtab.writeBigUInt64LE(sizes.get(s.name) ?? 0n, o + 16);
  });
  const strtab = Buffer.concat(strs);
  const symOff = 64;
  const strOff = symOff + symtab.length;
  const shstrOff = strOff + strtab.length;
  const shoff = (shstrOff + shstr.length + 7) & ~7;
  const sh = Buffer.alloc(64 * secNames.length);
  const section = (i: number, type: number, flags: bigint, offset: number, size: number, link = 0, entsize = 0) => {
    const o = 64 * i;
    sh.writeUInt32LE(nameOff(i), o);
    sh.writeUInt32LE(type, o + 4);
    sh.writeBigUInt64LE(flags, o + 8);
    sh.writeBigUInt64LE(BigInt(offset), o + 24);
    sh.writeBigUInt64LE(BigInt(size), o + 32);
    sh.writeUInt32LE(link, o + 40);
    sh.writeBigUInt64LE(BigInt(entsize), o + 56);
  };
  section(1, SHT_PROGBITS, A | X, 0, 0);
  section(2, SHT_PROGBITS, A | W, 0, 0);
  section(3, SHT_NOBITS, A | W, 0, 0);
  section(4, SHT_PROGBITS, A, 0, 0);
  section(5, SHT_SYMTAB, 0n, symOff, symtab.length, 6, 24);
  section(6, SHT_STRTAB, 0n, strOff, strtab.length);
  section(7, SHT_STRTAB, 0n, shstrOff, shstr.length);
  const eh = Buffer.alloc(64);
  eh.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  eh.writeUInt16LE(2, 16); // ET_EXEC
  eh.writeUInt16LE(62, 18); // EM_X86_64
  eh.writeUInt32LE(1, 20);
  eh.writeBigUInt64LE(BigInt(shoff), 40);
  eh.writeUInt16LE(64, 52);
  eh.writeUInt16LE(64, 58);
  eh.writeUInt16LE(secNames.length, 60);
  eh.writeUInt16LE(7, 62);
  fs.writeFileSync(file, Buffer.concat([eh, symtab, strtab, shstr, Buffer.alloc(shoff - shstrOff - shstr.length), sh]));
}

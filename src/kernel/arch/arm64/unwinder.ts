// The arm64 unwinder: frame records (AAPCS64: x29 points at {previous x29, x30}), as the kernel's
// own unwind_frame() follows them (arch/arm64/kernel/stacktrace.c), with
//  - return addresses stripped of their pointer-authentication code: a kernel address gets the
//    KERNELPACMASK bits set again (arch/arm64/include/asm/pointer_auth.h
//    ptrauth_strip_kernel_insn_pac());
//  - exception frames: the entry code stores a frame record inside struct pt_regs
//    (pt_regs.stackframe, arch/arm64/kernel/entry.S kernel_entry) holding the interrupted x29 and
//    pc, so the walk goes on through it; the frame whose record lies in a pt_regs is the entry
//    stub's (el1h_64_irq, el0t_64_sync, ...), and a record of zeroes (the task's last pt_regs,
//    from user space) ends the walk;
//  - 6.13+ ("arm64: stacktrace: unwind exception boundaries"): the record in pt_regs is a
//    struct frame_record_meta (arch/arm64/include/asm/stacktrace/frame.h): fp = lr = 0 and a type,
//    FRAME_META_TYPE_FINAL (1: the end of the task's stack) or FRAME_META_TYPE_PT_REGS (2: go on
//    with pt_regs::pc and pt_regs::regs[29]); BTF's struct frame_record_meta says the kernel has it;
//  - records 8-byte aligned (the kernel's own check is fp & 0x7: 6.13+ pt_regs puts its record
//    at an offset that is not a multiple of 16);
//  - stack changes (call_on_irq_stack leaves a record on the IRQ stack pointing back to the task
//    stack): a record must lie higher than the one before on the same stack, and the walk may
//    leave a stack only for another known one, as the kernel's on_accessible_stack() checks.
// Frame 0 is NT_PRSTATUS's pc; a later frame's pc is the return address its caller's record
// holds (drgn prints the same), named by the call instruction before it (pc - 4: after a
// noreturn call the return address already lies in the next function).

import { onlyDumpData } from '../../../util/errors.js';
import type { KernelForUnwind } from '../../unwind/kernel-adapter.js';
import type { Backtrace, ExceptionInfo, Frame, StackKind, StackRegion, UnwinderStatus } from '../../unwind/types.js';
import type { KernelUnwinder } from '../types.js';
import { PagedMemory } from '../../unwind/memory.js';
import { ModuleSet, readModules } from '../../unwind/modules.js';
import { AARCH64_PT_REGS } from './registers.js';
import { irqStackRegion, overflowStackRegion, sdeiStackRegions, threadSizeFor } from './stacks.js';

const MAX_FRAMES = 128;
/** pt_regs.stackframe in 6.1 (arch/arm64/include/asm/ptrace.h): user_pt_regs (272), orig_x0, syscallno + unused2, sdei_ttbr1, pmr_save. */
const STACKFRAME_OFFSET_6_1 = 304;
const ENTRY_STUB = /^(el[01][th]_(64|32)_(sync|irq|fiq|error)|el[01]_(sync|irq|fiq|error)(_compat)?|vectors)$/;

const hex = (v: bigint) => '0x' + v.toString(16);

/** A stack; `inferred` when only its alignment placed it. */
type Region = StackRegion & { inferred?: boolean };

export function arm64UnwinderForKernel(k: KernelForUnwind & { vmcoreinfo?: { numbers: Map<string, bigint>; pageSize?: number } }): KernelUnwinder {
  const THREAD_SIZE = threadSizeFor(k.vmcoreinfo?.pageSize);
  const pacMask = BigInt.asUintN(64, k.vmcoreinfo?.numbers.get('KERNELPACMASK') ?? 0n);
  const problems: string[] = [];
  const stackframeOff = k.btf?.offsetOf('pt_regs', 'stackframe');
  if (stackframeOff === undefined) problems.push(`no BTF for pt_regs.stackframe: exception frames assume 6.1's layout (offset ${STACKFRAME_OFFSET_6_1})`);
  const frameOff = BigInt(stackframeOff ?? STACKFRAME_OFFSET_6_1);
  const metaTypeOff = k.btf?.offsetOf('frame_record_meta', 'type');
  const status: UnwinderStatus = { method: 'frame-record', orcFormat: null, formatEvidence: null, formatFallback: false, orcUnusable: null, problems };
  let current: Map<number, bigint> | undefined;
  const task = (cpu: number): bigint | undefined => {
    if (!current) {
      try {
        current = new Map((k.percpu.currentTask()?.values ?? []).filter((v) => v.value !== undefined).map((v) => [v.cpu, v.value as bigint]));
      } catch (e) {
        onlyDumpData(e);
        current = new Map();
      }
    }
    return current.get(cpu);
  };
  const strip = (v: bigint) => (pacMask !== 0n && (v & (1n << 55n)) !== 0n ? v | pacMask : v);
  const perCpuAddress = (cpu: number, symbol: string) => {
    try {
      return k.symbols.lookup(symbol) === undefined ? undefined : k.percpu.cpuOffset(cpu) + k.symbols.lookup(symbol)!;
    } catch (e) {
      onlyDumpData(e);
      return undefined;
    }
  };
  const tryU64 = (a: bigint): bigint | undefined => {
    try {
      return k.memory.readU64(a);
    } catch (e) {
      onlyDumpData(e);
      return undefined;
    }
  };

  function stacks(cpu: number, t: bigint | undefined): Region[] {
    const ctx = { mem: { tryU64 } as never, syms: k.symbols, types: k.btf, perCpuAddress };
    const out: Region[] = [];
    const off = k.btf?.offsetOf('task_struct', 'stack');
    const base = t !== undefined && off !== undefined ? tryU64(t + BigInt(off)) : undefined;
    if (base) out.push({ kind: 'task', begin: base, end: base + THREAD_SIZE });
    const irq = irqStackRegion(ctx, cpu, THREAD_SIZE);
    if (irq) out.push(irq);
    const ovf = overflowStackRegion(ctx, cpu);
    if (ovf) out.push(ovf);
    out.push(...sdeiStackRegions(ctx, cpu, THREAD_SIZE));
    return out;
  }

  /**
   * The stack holding fp. Without the task's stack or irq_stack_ptr (no BTF, or a kernel without
   * CONFIG_KALLSYMS_ALL, whose kallsyms has no per-CPU symbols), an unknown kernel address starts
   * a THREAD_SIZE-aligned stack (task and IRQ stacks are THREAD_ALIGN-aligned), at most two: the
   * one a walk leaves through call_on_irq_stack (arch/arm64/kernel/entry.S) was the IRQ stack.
   */
  function regionOf(regions: Region[], fp: bigint, leaving?: { region?: Region; via: string }): Region | undefined {
    const r = regions.find((x) => fp >= x.begin && fp < x.end);
    if (r) return r;
    const inferred = regions.filter((x) => x.inferred);
    if (fp < 0xff00000000000000n || regions.some((x) => x.kind === 'task' && !x.inferred) || inferred.length >= 2) return undefined;
    if (leaving?.region?.inferred && leaving.via === 'call_on_irq_stack') leaving.region.kind = 'irq';
    const begin = fp & ~(THREAD_SIZE - 1n);
    const t: Region = { kind: 'task', begin, end: begin + THREAD_SIZE, inferred: true };
    regions.push(t);
    return t;
  }

  // Module code is named from each module's own symbol table (struct module's kallsyms), as
  // crash and the kernel's own %pS do; the `modules` list head comes from kallsyms or, on kernels
  // without CONFIG_KALLSYMS_ALL, from print_modules()'s code (modules-locate.ts).
  let modules: ModuleSet | undefined;
  const symbolize = (addr: bigint) => {
    if (!modules) {
      const mem = k.memory instanceof PagedMemory ? k.memory : new PagedMemory(k.memory);
      const r = readModules(mem, k.symbols, k.btf, null);
      if (r.problem && r.modules.length === 0) problems.push(`module symbols: ${r.problem}`);
      modules = new ModuleSet(mem, r.modules);
    }
    return modules.symbolize(addr) ?? k.symbols.symbolize(addr);
  };

  function frameAt(index: number, pc: bigint, fp: bigint, stack: StackKind, returnAddress: boolean): Frame {
    const s = symbolize(returnAddress ? pc - 4n : pc);
    return {
      index,
      sp: fp,
      pc,
      function: s?.name ?? hex(pc),
      offset: s ? pc - s.address : 0n,
      size: s?.size ?? 0n,
      ...(s?.module ? { module: s.module } : {}),
      stack,
      reliable: true,
    };
  }

  function exceptionAt(regsAddr: bigint): ExceptionInfo | undefined {
    let buf: Buffer;
    try {
      buf = k.memory.read(regsAddr, AARCH64_PT_REGS.length * 8);
    } catch (e) {
      onlyDumpData(e);
      return undefined;
    }
    const registers: Record<string, bigint> = {};
    AARCH64_PT_REGS.forEach((n, i) => (registers[n] = buf.readBigUInt64LE(i * 8)));
    const pc = registers.pc ?? 0n;
    const userMode = ((registers.pstate ?? 0n) & 0xfn) === 0n;
    const s = userMode ? null : symbolize(pc);
    return { rip: s ? `${s.name}+${s.offset}` : hex(pc), ripAddress: pc, registers, regsAddress: regsAddr, userMode, partial: false };
  }

  async function backtrace(cpu: number): Promise<Backtrace> {
    await Promise.resolve();
    const c = k.cpus.find((x) => x.cpu === cpu);
    const t = task(cpu);
    const who = t !== undefined && k.task ? safeTask(t) : undefined;
    const frames: Frame[] = [];
    const warnings: string[] = [];
    let stopped = 'end';
    if (!c) return { unwinder: status, cpu, task: t, frames, stopped: `no registers for CPU ${cpu}`, usedFallback: false, warnings };
    const regions = stacks(cpu, t);
    let fp = c.regs.x29 ?? 0n;
    let pc = c.regs.pc ?? 0n;
    let region = regionOf(regions, fp);
    frames.push(frameAt(0, pc, fp, region?.kind ?? 'unknown', false));
    const seen = new Set<bigint>();
    while (frames.length < MAX_FRAMES) {
      if (fp === 0n) break;
      if ((fp & 0x7n) !== 0n) {
        stopped = `frame pointer ${hex(fp)} is not 8-byte aligned`;
        break;
      }
      if (!region) {
        stopped = `frame record at ${hex(fp)} is on no known stack`;
        break;
      }
      if (seen.has(fp)) {
        stopped = `frame record at ${hex(fp)} reached twice`;
        break;
      }
      seen.add(fp);
      const next = tryU64(fp);
      const ret = tryU64(fp + 8n);
      if (next === undefined || ret === undefined) {
        stopped = `frame record at ${hex(fp)} unreadable`;
        break;
      }
      const prev = frames[frames.length - 1];
      if (next === 0n && ret === 0n) {
        // Before 6.13 the final record, in the task's first pt_regs. From 6.13 a metadata record.
        const type = metaTypeOff === undefined ? undefined : tryU64(fp + BigInt(metaTypeOff));
        if (type === 2n) {
          const regsAt = fp - frameOff;
          const e = exceptionAt(regsAt);
          if (!e) {
            stopped = `pt_regs at ${hex(regsAt)} unreadable`;
            break;
          }
          prev.exception = e;
          if (e.userMode) break;
          const nfp = e.registers.x29 ?? 0n;
          pc = strip(e.ripAddress);
          const nextRegion = nfp === 0n ? region : regionOf(regions, nfp, { region, via: prev.function });
          const f = frameAt(frames.length, pc, nfp, nextRegion?.kind ?? region.kind, false);
          f.interrupted = true;
          frames.push(f);
          fp = nfp;
          region = nextRegion;
          continue;
        }
        if (type !== undefined && type !== 1n && type !== 0n) stopped = `metadata frame record at ${hex(fp)} of unknown type ${type}`;
        break;
      }
      // A record inside pt_regs: the frame that led here is the entry stub; the next pc is the interrupted one.
      const inRegs = ENTRY_STUB.test(prev.function) && frames.length > 1;
      if (inRegs) {
        const e = exceptionAt(fp - frameOff);
        if (e) prev.exception = e;
      }
      pc = strip(ret);
      const nextRegion = next === 0n ? region : regionOf(regions, next, { region, via: k.symbols.symbolize(pc - 4n)?.name ?? '' });
      if (next !== 0n && nextRegion === region && next <= fp) {
        stopped = `frame record at ${hex(next)} is not above the previous one (${hex(fp)}) on the ${region.kind} stack`;
        frames.push(frameAt(frames.length, pc, next, region.kind, !inRegs));
        break;
      }
      const f = frameAt(frames.length, pc, next, nextRegion?.kind ?? 'unknown', !inRegs);
      if (inRegs) f.interrupted = true;
      frames.push(f);
      fp = next;
      region = nextRegion;
    }
    if (frames.length >= MAX_FRAMES) stopped = `more than ${MAX_FRAMES} frames`;
    return { unwinder: status, cpu, task: t, pid: who?.pid, comm: who?.comm, frames, stopped, usedFallback: false, warnings };
  }

  function safeTask(t: bigint): { pid?: number; comm?: string } | undefined {
    try {
      return k.task?.(t);
    } catch (e) {
      onlyDumpData(e);
      return undefined;
    }
  }

  return {
    status: () => status,
    backtrace,
    async backtraceAll() {
      const out: Backtrace[] = [];
      for (const c of [...k.cpus].sort((a, b) => a.cpu - b.cpu)) out.push(await backtrace(c.cpu));
      return out;
    },
  };
}

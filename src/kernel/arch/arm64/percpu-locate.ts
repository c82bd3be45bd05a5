// Per-CPU data on an arm64 kernel whose kallsyms has text symbols only (no CONFIG_KALLSYMS_ALL,
// as Debian builds it): __per_cpu_offset and the per-CPU variables are found from the code and BTF.
//
// nr_iowait_cpu() (kernel/sched/core.c: atomic_read(&cpu_rq(cpu)->nr_iowait)) and idle_cpu()
// compile to `adrp/add` of __per_cpu_offset and of runqueues, then `ldr xT, [xOFF, wCPU, sxtw #3]`
// (per_cpu_offset(cpu), include/asm-generic/percpu.h) and `add xRQ, xRQ, xT`. The instructions are
// decoded here (A64: ADRP, ADD immediate, LDR register), not guessed from capstone's text.
// runqueues' address and its offset in BTF's ".data..percpu" DATASEC give __per_cpu_start, and
// then every per-CPU variable BTF lists (__entry_task, irq_stack_ptr, fpsimd_context_busy, ...).
// Accepted only when every CPU's rq->cpu reads back as that CPU.
import { onlyDumpData } from '../../../util/errors.js';
import type { KernelAddressSpace } from '../../address-space.js';
import type { Btf } from '../../btf.js';
import type { KernelSymbol, SymbolTable } from '../../symbols.js';
import { RET, trackAddress } from './a64.js';


interface Found {
  perCpuOffset: bigint;
  runqueues: bigint;
}

/** Decode the first instructions of a function that indexes __per_cpu_offset with a CPU number. */
export function perCpuOffsetFromCode(code: Buffer, pc: bigint): Found | undefined {
  const regs = new Map<number, bigint>();
  let perCpuOffset: bigint | undefined;
  let offsetReg: number | undefined;
  for (let i = 0; i + 4 <= code.length; i += 4) {
    const insn = code.readUInt32LE(i);
    const rd = insn & 0x1f;
    const rn = (insn >>> 5) & 0x1f;
    if (trackAddress(regs, insn, pc + BigInt(i)).handled) {
      // ADRP / ADD: addresses of __per_cpu_offset and of the per-CPU variable
    } else if ((insn & 0xffe00c00) >>> 0 === 0xf8600800) {
      // LDR Xt, [Xn, Rm, <extend> #3]: the per-CPU offset of a CPU
      const base = regs.get(rn);
      if (base !== undefined && (insn >>> 12) & 1) {
        perCpuOffset = base;
        offsetReg = rd;
      }
      regs.delete(rd);
    } else if ((insn & 0xffe0fc00) >>> 0 === 0x8b000000 && offsetReg !== undefined && perCpuOffset !== undefined) {
      // ADD Xd, Xn, Xm: the per-CPU variable's address plus that offset
      const rm = (insn >>> 16) & 0x1f;
      const v = rm === offsetReg ? regs.get(rn) : rn === offsetReg ? regs.get(rm) : undefined;
      if (v !== undefined) return { perCpuOffset, runqueues: v };
    } else if (insn === RET) break;
  }
  return undefined;
}

/** Symbols for __per_cpu_offset, __per_cpu_start/_end and every per-CPU variable BTF names; [] when they cannot be proven. */
export function recoverPerCpuSymbols(mem: KernelAddressSpace, syms: SymbolTable, btf: Btf | undefined, cpus: number): KernelSymbol[] {
  if (!btf) return [];
  const rq = btf.findVar('runqueues');
  if (rq?.offset === undefined || rq.section !== '.data..percpu') return [];
  const cpuOff = btf.offsetOf('rq', 'cpu');
  let found: Found | undefined;
  for (const fn of ['nr_iowait_cpu', 'idle_cpu']) {
    const a = syms.lookup(fn);
    if (a === undefined) continue;
    try {
      found = perCpuOffsetFromCode(mem.readVirtual(a, 64), a);
    } catch (e) {
      onlyDumpData(e);
    }
    if (found) break;
  }
  if (!found || cpuOff === undefined) return [];
  // rq->cpu of every CPU must read back as its number.
  for (let cpu = 0; cpu < Math.max(1, cpus); cpu++) {
    try {
      const off = mem.readU64(found.perCpuOffset + BigInt(cpu) * 8n);
      if (mem.readU32(BigInt.asUintN(64, found.runqueues + off + BigInt(cpuOff))) !== cpu) return [];
    } catch (e) {
      onlyDumpData(e);
      return [];
    }
  }
  const start = found.runqueues - BigInt(rq.offset);
  const out: KernelSymbol[] = [
    { name: '__per_cpu_offset', address: found.perCpuOffset, type: 'D' },
    { name: '__per_cpu_start', address: start, type: 'D' },
  ];
  const sec = btf.findByName('.data..percpu')[0];
  const ds = sec === undefined ? undefined : btf.type(sec);
  if (ds?.size) out.push({ name: '__per_cpu_end', address: start + BigInt(ds.size), type: 'D' });
  for (const v of ds?.vars ?? []) {
    const name = btf.type(v.type)?.name;
    if (name && syms.lookup(name) === undefined) out.push({ name, address: start + BigInt(v.offset), type: 'd' });
  }
  return out;
}

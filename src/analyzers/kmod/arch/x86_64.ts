// x86_64: capstone Intel syntax, variable-length instructions whose control flow is read from the
// bytes (call/jmp/jcc rel8/rel32, indirect ff /2 and /4), PC-relative relocations
// (R_X86_64_PC32/PLT32) resolved as the CPU would, the System V argument registers, and a kernel
// where int3 kprobes run in NMI context (exc_int3 -> irqentry_nmi_enter, 5.8+).
import {
  type Relocation,
  SHN_UNDEF,
  R_X86_64_PC32, R_X86_64_PLT32,
} from '../elf.js';
import type { Func, GlobalCond, ModInsn, Program, Ref, TrackedValue } from '../program.js';
import type { DecodedStore, DirectContext, Flow, KmodArch } from './types.js';
import type { HandlerKind } from '../probes.js';

const PREFIXES = new Set([0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36, 0xf0]);

function opcodeStart(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && PREFIXES.has(b[i])) i++;
  if (i < b.length && b[i] >= 0x40 && b[i] <= 0x4f) i++;
  return i;
}

const s32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));
const s8 = (v: number): number => (v << 24) >> 24;

/** Control-flow class of an instruction from its bytes (rel = signed displacement from its end). */
function flowOf(i: ModInsn): Flow {
  const b = i.bytes;
  const o = opcodeStart(b);
  const op = b[o];
  if (op === 0xe8) return { kind: 'call', rel: s32(b, o + 1) };
  if (op === 0xe9) return { kind: 'jmp', rel: s32(b, o + 1) };
  if (op === 0xeb) return { kind: 'jmp', rel: s8(b[o + 1]) };
  if (op >= 0x70 && op <= 0x7f) return { kind: 'jcc', rel: s8(b[o + 1]) };
  if (op === 0xe3 || (op >= 0xe0 && op <= 0xe2)) return { kind: 'jcc', rel: s8(b[o + 1]) };
  if (op === 0x0f && b[o + 1] >= 0x80 && b[o + 1] <= 0x8f) return { kind: 'jcc', rel: s32(b, o + 2) };
  if (op === 0x0f && b[o + 1] === 0x0b) return { kind: 'stop' }; // ud2 (BUG())
  if (op === 0xc3 || op === 0xc2) return { kind: 'ret' };
  if (op === 0xcc) return { kind: 'stop' };
  if (op === 0xff) {
    const reg = (b[o + 1] >> 3) & 7;
    if (reg === 2) return { kind: 'icall' };
    if (reg === 4) return { kind: 'ijmp' };
  }
  return { kind: 'seq' };
}

export const isPcRel = (t: number): boolean => t === R_X86_64_PC32 || t === R_X86_64_PLT32;

/** What a relocation at an instruction points at (PC-relative relocations are resolved as the CPU would). */
function relocTargetAt(r: Relocation, insnEnd: number): Ref {
  const adj = isPcRel(r.type) ? insnEnd - r.offset : 0;
  const s = r.symbol;
  if (s.shndx === SHN_UNDEF) return { kind: 'extern', name: s.name, offset: r.addend + adj };
  return { kind: 'local', shndx: s.shndx, offset: s.value + r.addend + adj };
}

const REG_FAMILIES: string[][] = [
  ['rax', 'eax', 'ax', 'al'], ['rbx', 'ebx', 'bx', 'bl'], ['rcx', 'ecx', 'cx', 'cl'], ['rdx', 'edx', 'dx', 'dl'],
  ['rsi', 'esi', 'si', 'sil'], ['rdi', 'edi', 'di', 'dil'], ['rbp', 'ebp', 'bp', 'bpl'], ['rsp', 'esp', 'sp', 'spl'],
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => [`r${n}`, `r${n}d`, `r${n}w`, `r${n}b`]),
];
const REG_CANON = new Map<string, string>();
for (const f of REG_FAMILIES) for (const r of f) REG_CANON.set(r, f[0]);
const ARG_REGS = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
const CALLER_SAVED = new Set(['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11']);

function canonReg(r: string): string | undefined {
  return REG_CANON.get(r.trim());
}

/** Split operands at top-level commas (not inside `[...]`). */
export function operands(opStr: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of opStr) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function parseImm(s: string): bigint | null {
  const t = s.trim();
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) return null;
  return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
}

const WIDTHS: Record<string, number> = { byte: 1, word: 2, dword: 4, qword: 8 };

/** The module location a memory operand addresses through a relocation (rip-relative or absolute disp32). */
function memRef(i: ModInsn, operand: string): Ref | null {
  if (!operand.includes('[')) return null;
  const end = i.secOff + i.size;
  if (operand.includes('rip')) {
    const r = i.relocs.find((x) => isPcRel(x.type));
    return r ? relocTargetAt(r, end) : null;
  }
  // Absolute disp32 (e.g. `[r13*8 + table]`): the non-PC relocation that is not the immediate.
  const hasImm = parseImm(operands(i.opStr).at(-1) ?? '') !== null && !(operands(i.opStr).at(-1) ?? '').includes('[');
  const r = i.relocs.find((x) => !isPcRel(x.type) && !(hasImm && x.offset === end - 4));
  return r ? relocTargetAt(r, end) : null;
}

/** The module location an immediate operand holds through a relocation (`mov rdi, 0` + R_X86_64_32S). */
function immRef(i: ModInsn): Ref | null {
  const end = i.secOff + i.size;
  const r = i.relocs.find((x) => !isPcRel(x.type) && x.offset === end - 4) ?? (i.mnemonic === 'movabs' ? i.relocs.find((x) => x.offset === end - 8) : undefined);
  return r ? relocTargetAt(r, end) : null;
}

function writesReg(i: ModInsn, reg: string): boolean {
  const fl = flowOf(i);
  if (fl.kind === 'call' || fl.kind === 'icall') return CALLER_SAVED.has(reg);
  if (/^(cmp|test|push|j|nop|bt$)/.test(i.mnemonic)) return false;
  const ops = operands(i.opStr);
  if (ops.length && canonReg(ops[0]) === reg) return true;
  return /^(xchg|xadd|cmpxchg)/.test(i.mnemonic) && ops.some((o) => canonReg(o) === reg);
}

function stackEffect(i: ModInsn): number {
  const m = i.mnemonic;
  if (m === 'push') return 8;
  if (m === 'pop') return -8;
  const ops = operands(i.opStr);
  if (ops[0] === 'rsp' && ops.length === 2) {
    const v = parseImm(ops[1]);
    if (v !== null && m === 'sub') return Number(v);
    if (v !== null && m === 'add') return -Number(v);
  }
  return 0;
}

function trackStep(p: Program, f: Func, j: number, reg: string, steps: number): TrackedValue | null {
  const i = f.insns[j];
  const fl = flowOf(i);
  if (fl.kind === 'call' || fl.kind === 'icall') {
    if (CALLER_SAVED.has(reg)) return { kind: 'unknown', why: `clobbered by the call at ${f.name}+0x${(i.secOff - f.start).toString(16)}` };
    return null;
  }
  const ops = operands(i.opStr);
  if (ops.length === 0 || canonReg(ops[0]) !== reg) {
    if (i.mnemonic === 'pop' || i.mnemonic === 'xchg' || i.mnemonic.startsWith('cmpxchg')) {
      if (ops.some((o) => canonReg(o) === reg)) return { kind: 'unknown', why: i.mnemonic };
    }
    return null;
  }
  const m = i.mnemonic;
  const src = ops[1] ?? '';
  if ((m === 'mov' || m === 'movabs') && parseImm(src) !== null) {
    const ref = immRef(i);
    return ref ? { kind: 'ref', ref } : { kind: 'imm', value: parseImm(src)! };
  }
  if (m === 'xor' && canonReg(src) === reg) return { kind: 'imm', value: 0n };
  if (m === 'lea') {
    if (src.includes('rip')) {
      const ref = memRef(i, src);
      return ref ? { kind: 'ref', ref } : { kind: 'unknown', why: 'lea without relocation' };
    }
    const sm = /^\[rsp(?: \+ (0x[0-9a-f]+|\d+))?\]$/.exec(src.replace(/^\w+ ptr /, ''));
    if (sm) return { kind: 'stack', frame: Number(sm[1] ?? 0) - f.depth[j] };
    return { kind: 'unknown', why: `lea ${src}` };
  }
  if ((m === 'mov' || m === 'movzx' || m === 'movsxd') && src.includes('[')) {
    const ref = memRef(i, src);
    const w = WIDTHS[src.split(' ')[0]] ?? 8;
    return ref ? { kind: 'load', ref, width: w } : { kind: 'unknown', why: `load from ${src}` };
  }
  if (m === 'mov' && canonReg(src) === 'rsp') return { kind: 'stack', frame: -f.depth[j] };
  if (m === 'mov' || m === 'movsxd' || m === 'movzx') {
    const r2 = canonReg(src);
    if (r2) return p.track(f, j, r2, steps - 1);
  }
  return { kind: 'unknown', why: `${m} ${i.opStr}` };
}

/** The global compared by the flag-setting instruction before a jcc, if it is `cmp/test [global], imm`. */
function condAt(p: Program, f: Func, k: number): GlobalCond | null {
  for (let j = k - 1; j >= Math.max(0, k - 4); j--) {
    const i = f.insns[j];
    const m = i.mnemonic;
    if (m === 'cmp' || m === 'test') {
      const ops = operands(i.opStr);
      if (ops.length !== 2) return null;
      const imm = parseImm(ops[1]);
      if (imm === null) return null;
      let mem = memRef(i, ops[0]);
      let width = WIDTHS[ops[0].split(' ')[0]] ?? 0;
      if (!mem) {
        const reg = canonReg(ops[0]);
        if (!reg) return null;
        const v = p.track(f, j, reg);
        if (v.kind !== 'load') return null;
        mem = v.ref;
        width = v.width;
      }
      if (mem.kind !== 'local' || !width) return null;
      return { loc: { shndx: mem.shndx, offset: mem.offset }, name: p.symbolize(mem.shndx, mem.offset), width, op: m, imm, jcc: f.insns[k].mnemonic };
    }
    if (!/^(mov|lea|nop|push|pop)/.test(m)) return null;
  }
  return null;
}

/** `mov [mem], src` whose destination is a module global or a stack slot. */
function storesAt(p: Program, f: Func, k: number): DecodedStore[] {
  const i = f.insns[k];
  if (i.mnemonic !== 'mov') return [];
  const ops = operands(i.opStr);
  if (ops.length !== 2 || !ops[0].includes('[')) return [];
  let dest: DecodedStore['dest'] | null = null;
  const m = /\[rsp(?: \+ (0x[0-9a-f]+|\d+))?\]$/.exec(ops[0]);
  if (m) dest = { kind: 'stack', frame: Number(m[1] ?? 0) - f.depth[k] };
  else {
    const r = memRef(i, ops[0]);
    if (r && r.kind === 'local') dest = { kind: 'data', shndx: r.shndx, offset: r.offset };
  }
  if (!dest) return [];
  let value: TrackedValue;
  const reg = canonReg(ops[1]);
  if (reg) value = p.track(f, k, reg);
  else {
    const ref = immRef(i);
    if (ref) value = { kind: 'ref', ref };
    else if (/^-?(0x[0-9a-f]+|\d+)$/i.test(ops[1])) value = { kind: 'imm', value: ops[1].startsWith('-') ? -BigInt(ops[1].slice(1)) : BigInt(ops[1]) };
    else value = { kind: 'unknown', why: ops[1] };
  }
  return [{ dest, value }];
}

const DIRECT_CONTEXT: Partial<Record<HandlerKind, DirectContext>> = {
  nmi: { context: 'nmi', mechanism: 'NMI', why: 'Registered with register_nmi_handler(): called from the NMI handler (nmi_handle()), in NMI context.' },
  'perf-overflow': { context: 'nmi', mechanism: 'PMU interrupt (NMI on x86)', why: 'Overflow handler of a perf_event_create_kernel_counter() event: for hardware counters the x86 PMU interrupt is an NMI, so it runs in NMI context (software events call it from hardirq/softirq).' },
  'hw-breakpoint': { context: 'nmi', mechanism: '#DB exception', why: 'Hardware-breakpoint callback: called from the debug exception (exc_debug_kernel() -> irqentry_nmi_enter() on x86 5.10+), in NMI context.' },
  'die-notifier': { context: 'nmi', mechanism: 'exception notifier', why: 'A die notifier is called from exception and NMI handlers (DIE_INT3, DIE_NMI, DIE_DEBUG...), so it can run in NMI context.' },
  tracepoint: { context: 'atomic', mechanism: 'tracepoint', why: 'A tracepoint probe runs in the context of the code that hits the tracepoint, under rcu_read_lock_sched (preemption disabled); some tracepoints fire in NMI or IRQ context.' },
  ftrace: { context: 'atomic', mechanism: 'ftrace', why: 'An ftrace_ops callback is called from the fentry trampoline of the traced function, in the caller\'s context with preemption disabled (ftrace_test_recursion_trylock), not through int3: not NMI unless the traced function runs in NMI.' },
  'fprobe-entry': { context: 'atomic', mechanism: 'ftrace (fprobe)', why: 'fprobe handlers are called through ftrace from the traced function\'s entry, in the caller\'s context with preemption disabled, not through int3.' },
  'fprobe-exit': { context: 'atomic', mechanism: 'rethook (fprobe)', why: 'fprobe exit handlers are called from the return trampoline (rethook) of the traced function, in its context with preemption disabled.' },
  'kretprobe-return': { context: 'atomic', mechanism: 'return trampoline', why: 'A kretprobe return handler is called from the return trampoline (rethook on 5.19+ x86, kretprobe_trampoline before) when the probed function returns, in its context with preemption disabled, not through int3.' },
};

export const x86_64: KmodArch = {
  name: 'x86_64',
  machine: 62,
  disasmMode: 'x86_64',
  badSize: 1,
  sp: 'rsp',
  trackSteps: 64,
  flowOf,
  branchReloc: (i) => {
    const end = i.secOff + i.size;
    return i.relocs.find((x) => x.offset === end - 4 && isPcRel(x.type));
  },
  relocTarget: (r, i) => relocTargetAt(r, i.secOff + i.size),
  argReg: (n) => ARG_REGS[n],
  writesReg,
  stackEffect,
  trackStep,
  condAt,
  storesAt,
  kprobesOnFtrace: true,
  directContext: DIRECT_CONTEXT,
  layoutBase: 'Struct offsets (kprobe pre/post_handler 64/72, symbol_name 48, offset 56; kretprobe handler 128; fprobe entry/exit 224/232; nmiaction.handler 16) and gfp bits are those of x86_64 Linux 6.1.',
  seedFix: {
    mitigates: 'On the cache it is applied to, shuffle_freelist() returns early, so a new slab no longer asks get_random_u32(): the RNG -> CRNG reseed -> BLAKE2s -> kernel_fpu_begin() -> irq_fpu_usable() WARN path from kmem_cache_alloc() on that cache is gone.',
    doesNotMitigate: 'The allocation still runs in NMI context (slab locks taken with IRQs off do not stop an NMI; the page allocator behind a new slab is not NMI-safe). Any other allocation from the handler, e.g. kmalloc(), uses the kernel\'s shared kmalloc caches, which are still shuffled. It relies on a non-exported internal found through kallsyms. Fix: do not allocate in the handler (deferred design) or hook without int3.',
    otherCallee: (callee) => `${callee}() allocates from the kernel's shared kmalloc caches, whose freelists are still randomized; and the allocation still runs in NMI context.`,
  },
};

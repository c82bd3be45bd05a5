// The module as a program: functions, their instructions (capstone), what each instruction's
// relocations point at, direct/tail calls, an instruction-level control-flow graph per function
// (for "which call sites are reachable when global X == v"), and a small backwards register
// tracker for call arguments and stores. Everything is x86_64 and best effort: the goal is the
// calls and stores that kernel C compiles to, not arbitrary assembly.
import { disassemble, type Insn } from '../../util/disasm.js';
import {
  type ElfModule, type ElfSymbol, type Relocation, type Section,
  SHF_EXECINSTR, SHN_UNDEF, STT_FUNC, STT_OBJECT, STT_SECTION, SHT_NOBITS,
  R_X86_64_PC32, R_X86_64_PLT32,
} from './elf.js';

/** A place in the module (section + offset), or a kernel symbol it imports. */
export type Ref =
  | { kind: 'local'; shndx: number; offset: number }
  | { kind: 'extern'; name: string; offset: number };

export interface ModInsn extends Insn {
  /** Offset inside the section. */
  secOff: number;
  relocs: Relocation[];
}

export type CallTarget =
  | { kind: 'extern'; name: string }
  | { kind: 'local'; fn: Func }
  | { kind: 'indirect' };

export interface CallSite {
  /** Index into the function's instruction list. */
  index: number;
  /** `call`, or `tail` for a jmp that leaves the function. */
  kind: 'call' | 'tail';
  target: CallTarget;
}

export interface Func {
  name: string;
  sym: ElfSymbol;
  section: Section;
  start: number;
  end: number;
  insns: ModInsn[];
  calls: CallSite[];
  /** Conditional branches on a module global compared with a constant. */
  conds: Map<number, GlobalCond>;
  /** Stack depth (bytes pushed/allocated since entry) before each instruction. */
  depth: number[];
  /** Jump targets inside the function: target index -> indices of the jumps to it. */
  jumpsTo: Map<number, number[]>;
}

export interface GlobalCond {
  /** The global (section + offset) and its symbol name. */
  loc: { shndx: number; offset: number };
  name: string;
  width: number;
  op: 'cmp' | 'test';
  imm: bigint;
  /** The jcc mnemonic (je, jne, ja...). */
  jcc: string;
}

/** Values of module globals assumed known (by symbol name), e.g. { hmode: 2 }. */
export type Assumptions = Record<string, number>;

const PREFIXES = new Set([0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36, 0xf0]);

function opcodeStart(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && PREFIXES.has(b[i])) i++;
  if (i < b.length && b[i] >= 0x40 && b[i] <= 0x4f) i++;
  return i;
}

const s32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));
const s8 = (v: number): number => (v << 24) >> 24;

export type Flow =
  | { kind: 'call'; rel: number | null }
  | { kind: 'jmp'; rel: number | null }
  | { kind: 'jcc'; rel: number }
  | { kind: 'icall' } | { kind: 'ijmp' } | { kind: 'ret' } | { kind: 'stop' } | { kind: 'seq' };

/** Control-flow class of an instruction from its bytes (rel = signed displacement from its end). */
function flowOf(i: Insn): Flow {
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

const isPcRel = (t: number): boolean => t === R_X86_64_PC32 || t === R_X86_64_PLT32;

/** What a relocation at an instruction points at (PC-relative relocations are resolved as the CPU would). */
function relocTarget(r: Relocation, insnEnd: number): Ref {
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
export const ARG_REGS = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
const CALLER_SAVED = new Set(['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11']);

export function canonReg(r: string): string | undefined {
  return REG_CANON.get(r.trim());
}

/** Split Intel operands at top-level commas. */
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

export class Program {
  readonly funcs: Func[] = [];
  private byName = new Map<string, Func>();
  private bySection = new Map<number, Func[]>();
  private symsBySection = new Map<number, ElfSymbol[]>();

  private constructor(readonly elf: ElfModule) {}

  static async load(elf: ElfModule, maxInsns = 2_000_000): Promise<Program> {
    const p = new Program(elf);
    for (const s of elf.symbols) {
      if (s.shndx === SHN_UNDEF || s.shndx >= elf.sections.length || s.type === STT_SECTION || !s.name) continue;
      const list = p.symsBySection.get(s.shndx) ?? [];
      list.push(s);
      p.symsBySection.set(s.shndx, list);
    }
    for (const l of p.symsBySection.values()) l.sort((a, b) => a.value - b.value);
    const fsyms = elf.symbols.filter((s) => s.type === STT_FUNC && s.shndx !== SHN_UNDEF && s.shndx < elf.sections.length && (elf.sections[s.shndx].flags & SHF_EXECINSTR) !== 0n);
    // Aliases (init_module = hazard_init) share an address: keep one function, prefer the local name.
    const seen = new Map<string, Func>();
    let budget = maxInsns;
    const ordered = [...fsyms].sort((a, b) => a.shndx - b.shndx || a.value - b.value || (a.bind - b.bind));
    for (const s of ordered) {
      const key = `${s.shndx}:${s.value}`;
      const sec = elf.sections[s.shndx];
      if (seen.has(key)) {
        p.byName.set(s.name, seen.get(key)!);
        continue;
      }
      const end = Math.min(sec.size, s.size > 0 ? s.value + s.size : nextSymbolAfter(ordered, s, sec.size));
      if (s.value >= end || sec.type === SHT_NOBITS) continue;
      const code = elf.sectionBytes(sec).subarray(s.value, end);
      const raw = await disassembleFunction(code, BigInt(s.value), Math.max(1, budget));
      budget -= raw.length;
      const rel = elf.relocs.get(s.shndx) ?? [];
      const insns: ModInsn[] = raw.map((i) => {
        const secOff = s.value + i.offset;
        return { ...i, secOff, relocs: relocsIn(rel, secOff, secOff + i.size) };
      });
      const f: Func = { name: s.name, sym: s, section: sec, start: s.value, end, insns, calls: [], conds: new Map(), depth: [], jumpsTo: new Map() };
      seen.set(key, f);
      p.funcs.push(f);
      p.byName.set(s.name, f);
      const l = p.bySection.get(s.shndx) ?? [];
      l.push(f);
      p.bySection.set(s.shndx, l);
    }
    for (const f of p.funcs) p.analyseFunc(f);
    return p;
  }

  func(name: string): Func | undefined {
    return this.byName.get(name);
  }

  /** The function containing a text location. */
  funcAt(shndx: number, offset: number): Func | undefined {
    return (this.bySection.get(shndx) ?? []).find((f) => offset >= f.start && offset < f.end);
  }

  /** Symbol name for a data location: `stat_cachep`, `kp+0x48`, or `.bss+0x21a8`. */
  symbolize(shndx: number, offset: number): string {
    const syms = this.symsBySection.get(shndx) ?? [];
    let best: ElfSymbol | undefined;
    for (const s of syms) {
      if (s.value > offset) break;
      if (s.type !== STT_OBJECT && s.type !== STT_FUNC) continue;
      if (offset < s.value + Math.max(1, s.size)) best = s;
    }
    if (best) return offset === best.value ? best.name : `${best.name}+0x${(offset - best.value).toString(16)}`;
    const sec = this.elf.sections[shndx];
    return `${sec ? sec.name : `section${shndx}`}+0x${offset.toString(16)}`;
  }

  /** The object symbol that starts at a location, if any. */
  objectAt(shndx: number, offset: number): ElfSymbol | undefined {
    return (this.symsBySection.get(shndx) ?? []).find((s) => s.value === offset && s.type === STT_OBJECT);
  }

  refName(r: Ref): string {
    if (r.kind === 'extern') return r.offset ? `${r.name}${r.offset > 0 ? '+' : '-'}0x${Math.abs(r.offset).toString(16)}` : r.name;
    return this.symbolize(r.shndx, r.offset);
  }

  isText(r: Ref): boolean {
    return r.kind === 'local' && !!this.elf.sections[r.shndx] && (this.elf.sections[r.shndx].flags & SHF_EXECINSTR) !== 0n;
  }

  private analyseFunc(f: Func): void {
    const byOff = new Map<number, number>();
    f.insns.forEach((i, k) => byOff.set(i.secOff, k));
    f.insns.forEach((i, k) => {
      const fl = flowOf(i);
      if ((fl.kind === 'jcc' || fl.kind === 'jmp') && fl.rel !== null && !i.relocs.length) {
        const t = byOff.get(i.secOff + i.size + fl.rel);
        if (t !== undefined) f.jumpsTo.set(t, [...(f.jumpsTo.get(t) ?? []), k]);
      }
    });
    let depth = 0;
    for (let k = 0; k < f.insns.length; k++) {
      const i = f.insns[k];
      f.depth.push(depth);
      depth += stackEffect(i);
      const fl = flowOf(i);
      const end = i.secOff + i.size;
      if (fl.kind === 'call' || fl.kind === 'jmp') {
        const r = i.relocs.find((x) => x.offset === end - 4 && isPcRel(x.type));
        let target: CallTarget | null = null;
        if (r) {
          const t = relocTarget(r, end);
          if (t.kind === 'extern') target = { kind: 'extern', name: t.name };
          else {
            const g = this.funcAt(t.shndx, t.offset);
            if (g && (g !== f || fl.kind === 'call')) target = { kind: 'local', fn: g };
          }
        } else if (fl.rel !== null) {
          const dest = end + fl.rel;
          if (fl.kind === 'call' || dest < f.start || dest >= f.end) {
            const g = this.funcAt(f.section.index, dest);
            if (g) target = { kind: 'local', fn: g };
          }
        }
        if (target) f.calls.push({ index: k, kind: fl.kind === 'call' ? 'call' : 'tail', target });
      } else if (fl.kind === 'icall') f.calls.push({ index: k, kind: 'call', target: { kind: 'indirect' } });
      else if (fl.kind === 'ijmp') f.calls.push({ index: k, kind: 'tail', target: { kind: 'indirect' } });
      if (fl.kind === 'jcc') {
        const c = this.condBefore(f, k);
        if (c) f.conds.set(k, { ...c, jcc: i.mnemonic });
      }
    }
  }

  /** The global compared by the flag-setting instruction before a jcc, if it is `cmp/test [global], imm`. */
  private condBefore(f: Func, k: number): Omit<GlobalCond, 'jcc'> | null {
    for (let j = k - 1; j >= Math.max(0, k - 4); j--) {
      const i = f.insns[j];
      const m = i.mnemonic;
      if (m === 'cmp' || m === 'test') {
        const ops = operands(i.opStr);
        if (ops.length !== 2) return null;
        const imm = parseImm(ops[1]);
        if (imm === null) return null;
        let mem = this.memRef(i, ops[0]);
        let width = WIDTHS[ops[0].split(' ')[0]] ?? 0;
        if (!mem) {
          const reg = canonReg(ops[0]);
          if (!reg) return null;
          const v = this.track(f, j, reg);
          if (v.kind !== 'load') return null;
          mem = v.ref;
          width = v.width;
        }
        if (mem.kind !== 'local' || !width) return null;
        return { loc: { shndx: mem.shndx, offset: mem.offset }, name: this.symbolize(mem.shndx, mem.offset), width, op: m, imm };
      }
      if (!/^(mov|lea|nop|push|pop)/.test(m)) return null;
    }
    return null;
  }

  /** The module location a memory operand addresses through a relocation (rip-relative or absolute disp32). */
  memRef(i: ModInsn, operand: string): Ref | null {
    if (!operand.includes('[')) return null;
    const end = i.secOff + i.size;
    if (operand.includes('rip')) {
      const r = i.relocs.find((x) => isPcRel(x.type));
      return r ? relocTarget(r, end) : null;
    }
    // Absolute disp32 (e.g. `[r13*8 + table]`): the non-PC relocation that is not the immediate.
    const hasImm = parseImm(operands(i.opStr).at(-1) ?? '') !== null && !(operands(i.opStr).at(-1) ?? '').includes('[');
    const r = i.relocs.find((x) => !isPcRel(x.type) && !(hasImm && x.offset === end - 4));
    return r ? relocTarget(r, end) : null;
  }

  /** The module location an immediate operand holds through a relocation (`mov rdi, 0` + R_X86_64_32S). */
  immRef(i: ModInsn): Ref | null {
    const end = i.secOff + i.size;
    const r = i.relocs.find((x) => !isPcRel(x.type) && x.offset === end - 4) ?? (i.mnemonic === 'movabs' ? i.relocs.find((x) => x.offset === end - 8) : undefined);
    return r ? relocTarget(r, end) : null;
  }

  /**
   * What a register holds just before instruction `k`, scanning backwards in layout order.
   * Stops (unknown) at calls that clobber it, at writes it does not understand, and after 64 steps.
   */
  track(f: Func, k: number, reg: string, steps = 64): TrackedValue {
    if (reg === 'rsp') return { kind: 'stack', frame: -f.depth[k] };
    for (let j = k - 1; j >= 0 && steps > 0; j--, steps--) {
      // Passing a join point (j + 1 is a jump target): another path reaches it. Unknown if that
      // path can bring another value (a loop that writes the register, or a jump over a write).
      for (const s of f.jumpsTo.get(j + 1) ?? []) {
        const [lo, hi] = s > j ? [j + 1, s] : [s + 1, j];
        for (let m = lo; m <= hi; m++) {
          if (writesReg(f.insns[m], reg)) return { kind: 'unknown', why: `${reg} differs on the paths joining at ${f.name}+0x${(f.insns[j + 1].secOff - f.start).toString(16)}` };
        }
      }
      const i = f.insns[j];
      const fl = flowOf(i);
      if (fl.kind === 'call' || fl.kind === 'icall') {
        if (CALLER_SAVED.has(reg)) return { kind: 'unknown', why: `clobbered by the call at ${f.name}+0x${(i.secOff - f.start).toString(16)}` };
        continue;
      }
      const ops = operands(i.opStr);
      if (ops.length === 0 || canonReg(ops[0]) !== reg) {
        if (i.mnemonic === 'pop' || i.mnemonic === 'xchg' || i.mnemonic.startsWith('cmpxchg')) {
          if (ops.some((o) => canonReg(o) === reg)) return { kind: 'unknown', why: i.mnemonic };
        }
        continue;
      }
      const m = i.mnemonic;
      const src = ops[1] ?? '';
      if ((m === 'mov' || m === 'movabs') && parseImm(src) !== null) {
        const ref = this.immRef(i);
        return ref ? { kind: 'ref', ref } : { kind: 'imm', value: parseImm(src)! };
      }
      if (m === 'xor' && canonReg(src) === reg) return { kind: 'imm', value: 0n };
      if (m === 'lea') {
        if (src.includes('rip')) {
          const ref = this.memRef(i, src);
          return ref ? { kind: 'ref', ref } : { kind: 'unknown', why: 'lea without relocation' };
        }
        const sm = /^\[rsp(?: \+ (0x[0-9a-f]+|\d+))?\]$/.exec(src.replace(/^\w+ ptr /, ''));
        if (sm) return { kind: 'stack', frame: Number(sm[1] ?? 0) - f.depth[j] };
        return { kind: 'unknown', why: `lea ${src}` };
      }
      if ((m === 'mov' || m === 'movzx' || m === 'movsxd') && src.includes('[')) {
        const ref = this.memRef(i, src);
        const w = WIDTHS[src.split(' ')[0]] ?? 8;
        return ref ? { kind: 'load', ref, width: w } : { kind: 'unknown', why: `load from ${src}` };
      }
      if (m === 'mov' && canonReg(src) === 'rsp') return { kind: 'stack', frame: -f.depth[j] };
      if (m === 'mov' || m === 'movsxd' || m === 'movzx') {
        const r2 = canonReg(src);
        if (r2) return this.track(f, j, r2, steps - 1);
      }
      return { kind: 'unknown', why: `${m} ${i.opStr}` };
    }
    return { kind: 'unknown', why: 'not set in this function' };
  }

  /** Arguments of a call site: argument n in ARG_REGS order. */
  arg(f: Func, index: number, n: number): TrackedValue {
    return this.track(f, index, ARG_REGS[n]);
  }

  /**
   * Instructions of a function reachable from its entry, with conditional branches on assumed
   * globals pruned. `skip` removes one edge (the taken or the fall-through edge of a jcc).
   */
  reachable(f: Func, assume: Assumptions, skip?: { index: number; edge: 'taken' | 'fall' }): Uint8Array {
    const n = f.insns.length;
    const seen = new Uint8Array(n);
    const byOff = new Map<number, number>();
    f.insns.forEach((i, k) => byOff.set(i.secOff, k));
    const stack = n > 0 ? [0] : [];
    while (stack.length) {
      const k = stack.pop()!;
      if (seen[k]) continue;
      seen[k] = 1;
      const i = f.insns[k];
      const fl = flowOf(i);
      const end = i.secOff + i.size;
      const push = (off: number) => {
        const t = byOff.get(off);
        if (t !== undefined && !seen[t]) stack.push(t);
      };
      if (fl.kind === 'ret' || fl.kind === 'stop' || fl.kind === 'ijmp') continue;
      if (fl.kind === 'jmp') {
        if (fl.rel !== null && !i.relocs.length) push(end + fl.rel);
        continue;
      }
      if (fl.kind === 'jcc') {
        let taken = true;
        let fall = true;
        const c = f.conds.get(k);
        if (c && c.name in assume) {
          const t = evalCond(c, BigInt(assume[c.name]));
          taken = t;
          fall = !t;
        }
        if (skip && skip.index === k) {
          if (skip.edge === 'taken') taken = false;
          else fall = false;
        }
        if (taken) push(end + fl.rel);
        if (fall) push(end);
        continue;
      }
      if (fl.kind === 'call' && i.relocs.some((r) => /^(__stack_chk_fail|__ubsan_handle_.*_abort|panic|BUG_func|__warn_abort)$/.test(r.symbol.name))) continue;
      push(end);
    }
    return seen;
  }

  /** Conditions on globals that a call site at `index` depends on: reachable on one side of the branch only. */
  guards(f: Func, index: number, assume: Assumptions): Guard[] {
    const out: Guard[] = [];
    const base = this.reachable(f, assume);
    if (!base[index]) return out;
    for (const [k, c] of f.conds) {
      if (c.name in assume || !base[k]) continue;
      const noTaken = this.reachable(f, assume, { index: k, edge: 'taken' })[index];
      const noFall = this.reachable(f, assume, { index: k, edge: 'fall' })[index];
      if (noTaken && !noFall) out.push({ cond: c, text: describeCond(c, false) });
      else if (!noTaken && noFall) out.push({ cond: c, text: describeCond(c, true) });
    }
    return out;
  }
}

export interface Guard {
  cond: GlobalCond;
  text: string;
}

export type TrackedValue =
  | { kind: 'ref'; ref: Ref }
  | { kind: 'imm'; value: bigint }
  | { kind: 'stack'; frame: number }
  | { kind: 'load'; ref: Ref; width: number }
  | { kind: 'unknown'; why: string };

/**
 * Linear disassembly of one function through the shared wrapper, in windows of at most 4 KiB
 * (util/disasm.ts decodes in 4096-byte chunks and, measured on Debian 6.1 modules, marks an
 * instruction that crosses a chunk boundary `(bad)` and desynchronises, and capstone.js throws
 * when a chunk starts with bytes it cannot decode). An instruction is kept only when it ends well
 * inside its window; undecodable bytes become one-byte `(bad)` entries.
 */
async function disassembleFunction(code: Uint8Array, base: bigint, maxInsns: number): Promise<Insn[]> {
  const WINDOW = 4096;
  const out: Insn[] = [];
  let pos = 0;
  while (pos < code.length && out.length < maxInsns) {
    const end = Math.min(code.length, pos + WINDOW);
    let got: Insn[];
    try {
      got = await disassemble(code.subarray(pos, end), 0n, maxInsns - out.length);
    } catch {
      // Broad on purpose: capstone's failures are plain Errors; an undecodable window has no insns.
      got = [];
    }
    const last = end === code.length;
    let advanced = 0;
    for (const i of got) {
      if (i.bad && advanced === i.offset && i.offset > 0) break;
      if (!last && i.offset + i.size > end - pos - 16) break;
      out.push({ ...i, offset: pos + i.offset, address: base + BigInt(pos + i.offset) });
      advanced = i.offset + i.size;
      if (i.bad) break;
    }
    if (advanced === 0) {
      out.push({ offset: pos, address: base + BigInt(pos), size: 1, mnemonic: '(bad)', opStr: '', bytes: code.subarray(pos, pos + 1), bad: true });
      advanced = 1;
    }
    pos += advanced;
  }
  return out;
}

/** Whether an instruction may change a register (calls clobber the caller-saved ones). */
function writesReg(i: Insn, reg: string): boolean {
  const fl = flowOf(i);
  if (fl.kind === 'call' || fl.kind === 'icall') return CALLER_SAVED.has(reg);
  if (/^(cmp|test|push|j|nop|bt$)/.test(i.mnemonic)) return false;
  const ops = operands(i.opStr);
  if (ops.length && canonReg(ops[0]) === reg) return true;
  return /^(xchg|xadd|cmpxchg)/.test(i.mnemonic) && ops.some((o) => canonReg(o) === reg);
}

function nextSymbolAfter(sorted: ElfSymbol[], s: ElfSymbol, secSize: number): number {
  let best = secSize;
  for (const o of sorted) if (o.shndx === s.shndx && o.value > s.value && o.value < best) best = o.value;
  return best;
}

function relocsIn(sorted: Relocation[], from: number, to: number): Relocation[] {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid].offset < from) lo = mid + 1;
    else hi = mid;
  }
  const out: Relocation[] = [];
  for (let j = lo; j < sorted.length && sorted[j].offset < to; j++) out.push(sorted[j]);
  return out;
}

function stackEffect(i: Insn): number {
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

function mask(v: bigint, width: number): bigint {
  return BigInt.asUintN(width * 8, v);
}
function signed(v: bigint, width: number): bigint {
  return BigInt.asIntN(width * 8, v);
}

/** Whether the jcc after `cmp/test [global], imm` is taken when the global holds `value`. */
function evalCond(c: GlobalCond, value: bigint): boolean {
  const w = c.width;
  const a = mask(value, w);
  const b = mask(c.imm, w);
  if (c.op === 'test') {
    const t = a & b;
    switch (c.jcc) {
      case 'je': case 'jz': return t === 0n;
      case 'jne': case 'jnz': return t !== 0n;
      case 'js': return signed(t, w) < 0n;
      case 'jns': return signed(t, w) >= 0n;
      default: return true;
    }
  }
  const sa = signed(a, w);
  const sb = signed(b, w);
  switch (c.jcc) {
    case 'je': case 'jz': return a === b;
    case 'jne': case 'jnz': return a !== b;
    case 'ja': return a > b;
    case 'jae': case 'jnb': case 'jnc': return a >= b;
    case 'jb': case 'jc': case 'jnae': return a < b;
    case 'jbe': case 'jna': return a <= b;
    case 'jg': return sa > sb;
    case 'jge': return sa >= sb;
    case 'jl': return sa < sb;
    case 'jle': return sa <= sb;
    case 'js': return signed(mask(a - b, w), w) < 0n;
    case 'jns': return signed(mask(a - b, w), w) >= 0n;
    default: return true;
  }
}

/** `hmode == 2` for the taken (true) or not-taken (false) side of a branch. */
function describeCond(c: GlobalCond, taken: boolean): string {
  const imm = c.imm < 0n ? `-0x${(-c.imm).toString(16)}` : c.imm < 10n ? c.imm.toString() : `0x${c.imm.toString(16)}`;
  const ops: Record<string, [string, string]> = {
    je: ['==', '!='], jz: ['==', '!='], jne: ['!=', '=='], jnz: ['!=', '=='],
    ja: ['>', '<='], jae: ['>=', '<'], jnb: ['>=', '<'], jb: ['<', '>='], jc: ['<', '>='], jbe: ['<=', '>'], jna: ['<=', '>'],
    jg: ['>', '<='], jge: ['>=', '<'], jl: ['<', '>='], jle: ['<=', '>'],
  };
  if (c.op === 'test') {
    const zero = c.jcc === 'je' || c.jcc === 'jz';
    const isZero = zero ? taken : !taken;
    return `(${c.name} & ${imm}) ${isZero ? '==' : '!='} 0`;
  }
  const pair = ops[c.jcc];
  if (!pair) return `${c.name} ${c.jcc}${taken ? '' : ' not taken'} ${imm}`;
  return `${c.name} ${taken ? pair[0] : pair[1]} ${imm}`;
}

// The module as a program: functions, their instructions (capstone), what each instruction's
// relocations point at, direct/tail calls, an instruction-level control-flow graph per function
// (for "which call sites are reachable when global X == v"), and a small backwards register
// tracker for call arguments and stores. What depends on the instruction set is in the module's
// architecture record (arch/: x86_64, arm64); everything is best effort: the goal is the calls and
// stores that kernel C compiles to, not arbitrary assembly.
import { disassemble, type Insn } from '../../util/disasm.js';
import {
  type ElfModule, type ElfSymbol, type Relocation, type Section,
  SHF_EXECINSTR, SHN_UNDEF, STT_FUNC, STT_OBJECT, STT_SECTION, SHT_NOBITS,
} from './elf.js';
import { archForMachine } from './arch/index.js';
import type { Flow, KmodArch } from './arch/types.js';

export type { Flow };

/** A place in the module (section + offset), or a kernel symbol it imports. */
export type Ref =
  | { kind: 'local'; shndx: number; offset: number }
  | { kind: 'extern'; name: string; offset: number };

export interface ModInsn extends Insn {
  /** Offset inside the section. */
  secOff: number;
  relocs: Relocation[];
  /**
   * Set on code the kernel patches (arm64 alternatives and static keys): the other target's
   * section offset, or null for the next instruction. Such an instruction may go either way.
   */
  patch?: number | null;
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
  /** The jcc mnemonic (je, jne, ja...); A64 branches under their x86 names (b.eq and cbz: je, tbnz: jne). */
  jcc: string;
}

/** Values of module globals assumed known (by symbol name), e.g. { hmode: 2 }. */
export type Assumptions = Record<string, number>;

export class Program {
  readonly funcs: Func[] = [];
  private byName = new Map<string, Func>();
  private bySection = new Map<number, Func[]>();
  private symsBySection = new Map<number, ElfSymbol[]>();

  private constructor(readonly elf: ElfModule, readonly arch: KmodArch) {}

  static async load(elf: ElfModule, maxInsns = 2_000_000): Promise<Program> {
    const p = new Program(elf, archForMachine(elf.machine, 'module'));
    const patches = p.arch.patchSites?.(elf);
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
      const raw = await disassembleFunction(code, BigInt(s.value), Math.max(1, budget), p.arch);
      budget -= raw.length;
      const rel = elf.relocs.get(s.shndx) ?? [];
      const insns: ModInsn[] = raw.map((i) => {
        const secOff = s.value + i.offset;
        const mi: ModInsn = { ...i, secOff, relocs: relocsIn(rel, secOff, secOff + i.size) };
        const patch = patches?.get(`${s.shndx}:${secOff}`);
        if (patch !== undefined) mi.patch = patch;
        return mi;
      });
      const f: Func = { name: s.name, sym: s, section: sec, start: s.value, end, insns, calls: [], conds: new Map(), depth: [], jumpsTo: new Map() };
      seen.set(key, f);
      p.funcs.push(f);
      p.byName.set(s.name, f);
      const l = p.bySection.get(s.shndx) ?? [];
      l.push(f);
      p.bySection.set(s.shndx, l);
    }
    // Jump targets and stack depths of every function first: the tracker may read any function.
    for (const f of p.funcs) p.layoutFunc(f);
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

  /** Relocation target as the CPU sees it, for a relocation at instruction i. */
  relocTarget(r: Relocation, i: ModInsn): Ref {
    return this.arch.relocTarget(r, i);
  }

  private layoutFunc(f: Func): void {
    const byOff = new Map<number, number>();
    f.insns.forEach((i, k) => byOff.set(i.secOff, k));
    f.insns.forEach((i, k) => {
      const fl = this.arch.flowOf(i);
      if ((fl.kind === 'jcc' || fl.kind === 'jmp') && fl.rel !== null && !i.relocs.length) {
        const t = byOff.get(i.secOff + i.size + fl.rel);
        if (t !== undefined) f.jumpsTo.set(t, [...(f.jumpsTo.get(t) ?? []), k]);
      }
    });
    let depth = 0;
    for (let k = 0; k < f.insns.length; k++) {
      f.depth.push(depth);
      depth += this.arch.stackEffect(f.insns[k]);
    }
  }

  private analyseFunc(f: Func): void {
    for (let k = 0; k < f.insns.length; k++) {
      const i = f.insns[k];
      const fl = this.arch.flowOf(i);
      const end = i.secOff + i.size;
      if (fl.kind === 'call' || fl.kind === 'jmp') {
        const r = this.arch.branchReloc(i);
        let target: CallTarget | null = null;
        if (r) {
          const t = this.arch.relocTarget(r, i);
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
        const c = this.arch.condAt(this, f, k);
        if (c) f.conds.set(k, c);
      }
    }
  }

  /**
   * What a register holds just before instruction `k`, scanning backwards in layout order.
   * Stops (unknown) at calls that clobber it, at writes it does not understand, and after
   * arch.trackSteps instructions.
   */
  track(f: Func, k: number, reg: string, steps = this.arch.trackSteps): TrackedValue {
    if (reg === this.arch.sp) return { kind: 'stack', frame: -f.depth[k] };
    for (let j = k - 1; j >= 0 && steps > 0; j--, steps--) {
      // Passing a join point (j + 1 is a jump target): another path reaches it. Unknown if that
      // path can bring another value (a loop that writes the register, or a jump over a write).
      for (const s of f.jumpsTo.get(j + 1) ?? []) {
        const [lo, hi] = s > j ? [j + 1, s] : [s + 1, j];
        for (let m = lo; m <= hi; m++) {
          if (this.arch.writesReg(f.insns[m], reg)) return { kind: 'unknown', why: `${reg} differs on the paths joining at ${f.name}+0x${(f.insns[j + 1].secOff - f.start).toString(16)}` };
        }
      }
      const v = this.arch.trackStep(this, f, j, reg, steps);
      if (v) return v;
    }
    return { kind: 'unknown', why: 'not set in this function' };
  }

  /** Arguments of a call site: argument n in the calling convention's order. */
  arg(f: Func, index: number, n: number): TrackedValue {
    return this.track(f, index, this.arch.argReg(n));
  }

  /**
   * Instructions of a function reachable from its entry, with conditional branches on assumed
   * globals pruned. `skip` removes edges (the taken or the fall-through edge of a jcc).
   */
  reachable(f: Func, assume: Assumptions, skip?: { index: number; edge: 'taken' | 'fall' } | { index: number; edge: 'taken' | 'fall' }[]): Uint8Array {
    const skips = skip === undefined ? [] : Array.isArray(skip) ? skip : [skip];
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
      const fl = this.arch.flowOf(i);
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
        for (const sk of skips) {
          if (sk.index !== k) continue;
          if (sk.edge === 'taken') taken = false;
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
      // The same test compiled more than once (e.g. on both sides of an arm64 alternative): remove
      // the matching edge of every copy, or each copy would keep the call reachable through the other.
      const twins = [...f.conds].filter(([k2, c2]) => k2 !== k && sameTest(c, c2) !== null);
      const edges = (edge: 'taken' | 'fall') => [{ index: k, edge }, ...twins.map(([k2, c2]) => ({ index: k2, edge: sameTest(c, c2) === edge ? 'taken' as const : 'fall' as const }))];
      const noTaken = this.reachable(f, assume, edges('taken'))[index];
      const noFall = this.reachable(f, assume, edges('fall'))[index];
      let g: Guard | null = null;
      if (noTaken && !noFall) g = { cond: c, text: describeCond(c, false) };
      else if (!noTaken && noFall) g = { cond: c, text: describeCond(c, true) };
      if (g && !out.some((o) => o.text === g.text)) out.push(g);
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
async function disassembleFunction(code: Uint8Array, base: bigint, maxInsns: number, arch: KmodArch): Promise<Insn[]> {
  const WINDOW = 4096;
  const out: Insn[] = [];
  let pos = 0;
  while (pos < code.length && out.length < maxInsns) {
    const end = Math.min(code.length, pos + WINDOW);
    let got: Insn[];
    try {
      got = await disassemble(code.subarray(pos, end), 0n, maxInsns - out.length, arch.disasmMode);
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
      const n = Math.min(arch.badSize, code.length - pos);
      out.push({ offset: pos, address: base + BigInt(pos), size: n, mnemonic: '(bad)', opStr: '', bytes: code.subarray(pos, pos + n), bad: true });
      advanced = n;
    }
    pos += advanced;
  }
  return out;
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

function mask(v: bigint, width: number): bigint {
  return BigInt.asUintN(width * 8, v);
}
function signed(v: bigint, width: number): bigint {
  return BigInt.asIntN(width * 8, v);
}

const NEGATED: Record<string, string> = { je: 'jne', jz: 'jnz', ja: 'jbe', jae: 'jb', jg: 'jle', jge: 'jl', js: 'jns' };
for (const [a, b] of Object.entries(NEGATED)) NEGATED[b] = a;

/**
 * Whether two conditions test the same thing: 'taken' when c2's taken edge is c's taken edge,
 * 'fall' when it is c's fall-through edge (the opposite branch), null when they differ.
 */
function sameTest(c: GlobalCond, c2: GlobalCond): 'taken' | 'fall' | null {
  if (c.loc.shndx !== c2.loc.shndx || c.loc.offset !== c2.loc.offset || c.op !== c2.op || c.imm !== c2.imm || c.width !== c2.width) return null;
  if (c.jcc === c2.jcc) return 'taken';
  if (NEGATED[c.jcc] === c2.jcc) return 'fall';
  return null;
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

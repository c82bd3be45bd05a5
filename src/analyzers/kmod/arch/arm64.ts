// AArch64 (A64): fixed 4-byte instructions, capstone's ARM64 mode. Calls are `bl`/`blr`, tail
// calls `b`/`br`, both with R_AARCH64_CALL26/JUMP26 when the target is another section or an
// imported symbol; addresses of globals are built with `adrp` + `add` or `adrp` + `ldr`
// (R_AARCH64_ADR_PREL_PG_HI21 + ADD_ABS_LO12_NC / LDSTn_ABS_LO12_NC, where the low relocation
// alone names the symbol) or from a base register plus an offset; arguments in x0-x7.
// Conditions: `cmp/cmn/tst wN, #imm; b.cond`, `cbz/cbnz wN`, `tbz/tbnz`, on a value loaded from a
// module global. Code the kernel patches (alternatives, static keys) may go either way.
//
// The kernel side (Linux 6.1, Debian's arm64 configuration): arm64 does not select
// HAVE_KPROBES_ON_FTRACE, so every kprobe is a BRK instruction. Its handlers run in the debug
// exception: el1_dbg() -> arm64_enter_el1_dbg() calls lockdep_hardirqs_off() and ct_nmi_enter()
// (rcu_nmi_enter() before 6.0) but not __nmi_enter(), so in_nmi() is false, with DAIF (IRQs,
// FIQs, pseudo-NMIs) masked; the post handler runs from a second BRK after the out-of-line
// single-step (5.16+). There is no SIMD BLAKE2s on arm64 (lib/crypto/blake2s.c uses the generic C
// compression), so the x86 chain get_random_u32() -> crng_reseed() -> BLAKE2s ->
// kernel_fpu_begin() -> irq_fpu_usable()'s WARN_ON(in_nmi()) does not exist here.
// struct kprobe is generic (include/linux/kprobes.h) with 8-byte pointers: pre_handler 64,
// post_handler 72, symbol_name 48, offset 56, flags 120, as on x86_64 (opcode and ainsn differ in
// size but sit between post_handler and flags without moving either); checked against the
// stores and loads of kmod-reference built for Debian 12's 6.1.192 arm64 kernel.
import {
  type ElfModule, type Relocation,
  SHN_UNDEF,
  R_AARCH64_ADD_ABS_LO12_NC, R_AARCH64_ADR_PREL_PG_HI21, R_AARCH64_ADR_PREL_PG_HI21_NC, R_AARCH64_CALL26, R_AARCH64_JUMP26,
  R_AARCH64_LDST8_ABS_LO12_NC, R_AARCH64_LDST16_ABS_LO12_NC, R_AARCH64_LDST32_ABS_LO12_NC, R_AARCH64_LDST64_ABS_LO12_NC,
  R_AARCH64_LDST128_ABS_LO12_NC, R_AARCH64_PREL32,
} from '../elf.js';
import type { Func, GlobalCond, ModInsn, Program, Ref, TrackedValue } from '../program.js';
import type { HandlerKind } from '../probes.js';
import type { DecodedStore, DirectContext, Flow, KmodArch, KprobeFacts } from './types.js';
import { operands } from './x86_64.js';

const LDST_LO12 = new Set([R_AARCH64_LDST8_ABS_LO12_NC, R_AARCH64_LDST16_ABS_LO12_NC, R_AARCH64_LDST32_ABS_LO12_NC, R_AARCH64_LDST64_ABS_LO12_NC, R_AARCH64_LDST128_ABS_LO12_NC]);

const word = (i: ModInsn): number => (i.bytes.length >= 4 ? (i.bytes[0] | (i.bytes[1] << 8) | (i.bytes[2] << 16) | (i.bytes[3] << 24)) >>> 0 : 0);
const NOP = 0xd503201f;
const imm26 = (w: number): number => ((w & 0x3ffffff) << 6) >> 4; // sign-extended, times 4
const imm19 = (w: number): number => (((w >>> 5) & 0x7ffff) << 13) >> 11;
const imm14 = (w: number): number => (((w >>> 5) & 0x3fff) << 18) >> 16;

function flowOf(i: ModInsn): Flow {
  if (i.bad || i.size !== 4) return { kind: 'seq' };
  const w = word(i);
  const m = i.mnemonic;
  // rel is from the instruction's end, as on x86: target - (pc + 4).
  if (i.patch !== undefined) {
    if ((w & 0xfc000000) >>> 0 === 0x14000000) return { kind: 'jcc', rel: imm26(w) - 4 };
    if (w === NOP && i.patch !== null) return { kind: 'jcc', rel: i.patch - i.secOff - 4 };
  }
  if ((w & 0xfc000000) >>> 0 === 0x94000000) return { kind: 'call', rel: imm26(w) - 4 };
  if ((w & 0xfc000000) >>> 0 === 0x14000000) return { kind: 'jmp', rel: imm26(w) - 4 };
  if ((w & 0xff000010) >>> 0 === 0x54000000) return (w & 0xe) === 0xe ? { kind: 'jmp', rel: imm19(w) - 4 } : { kind: 'jcc', rel: imm19(w) - 4 };
  if ((w & 0x7e000000) >>> 0 === 0x34000000) return { kind: 'jcc', rel: imm19(w) - 4 }; // cbz/cbnz
  if ((w & 0x7e000000) >>> 0 === 0x36000000) return { kind: 'jcc', rel: imm14(w) - 4 }; // tbz/tbnz
  if (/^(brk|udf|hlt)$/.test(m)) return { kind: 'stop' }; // BUG() is brk #0x800
  if (m.startsWith('blr')) return { kind: 'icall' };
  if (m === 'br' || m.startsWith('bra')) return { kind: 'ijmp' };
  if (m.startsWith('ret') || m === 'eret') return { kind: 'ret' };
  return { kind: 'seq' };
}

function relocTarget(r: Relocation): Ref {
  // Every relocation used here resolves to S + A (the page, the low 12 bits, the branch target):
  // the location it names is the symbol plus the addend.
  const s = r.symbol;
  if (s.shndx === SHN_UNDEF) return { kind: 'extern', name: s.name, offset: r.addend };
  return { kind: 'local', shndx: s.shndx, offset: s.value + r.addend };
}

const relocOf = (i: ModInsn, types: (t: number) => boolean): Relocation | undefined => i.relocs.find((r) => r.offset === i.secOff && types(r.type));

function canon(r: string | undefined): string | undefined {
  if (r === undefined) return undefined;
  const t = r.trim();
  const m = /^[xw](\d+)$/.exec(t);
  if (m) return Number(m[1]) <= 30 ? `x${m[1]}` : undefined;
  if (t === 'sp' || t === 'wsp') return 'sp';
  if (t === 'xzr' || t === 'wzr') return 'zr';
  if (t === 'fp') return 'x29';
  if (t === 'lr') return 'x30';
  return undefined;
}

const ARG_REGS = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];
// AAPCS64: x0-x18 and the link register do not survive a call (x16/x17 are the veneer scratch
// registers, x18 the platform register: the kernel's shadow call stack, not preserved either).
const CALLER_SAVED = new Set([...Array.from({ length: 19 }, (_, n) => `x${n}`), 'x30']);

/** `#0xa20`, `#-0x40`, `#2` -> bigint. */
function imm(s: string | undefined): bigint | null {
  const m = /^#(-?)(0x[0-9a-f]+|\d+)$/i.exec((s ?? '').trim());
  if (!m) return null;
  const v = BigInt(m[2]);
  return m[1] ? -v : v;
}
/** `lsl #16` -> 16n. */
function shiftOf(s: string | undefined): bigint {
  const m = /^lsl #(\d+)$/.exec((s ?? '').trim());
  return m ? BigInt(m[1]) : 0n;
}

interface Mem { base: string; disp: number; index: boolean; pre: boolean }
function mem(op: string | undefined): Mem | null {
  const t = (op ?? '').trim();
  if (!t.startsWith('[')) return null;
  const m = /^\[(\w+)(?:, #(-?)(0x[0-9a-f]+|\d+))?\](!?)$/i.exec(t);
  if (m) return { base: m[1], disp: (m[2] ? -1 : 1) * Number(m[3] ?? 0), index: false, pre: m[4] === '!' };
  const b = /^\[(\w+),/.exec(t);
  return b ? { base: b[1], disp: 0, index: true, pre: false } : null;
}

const NO_DEST = /^(cmp|cmn|tst|b|bl|b\..*|br\w*|blr\w*|ret\w*|eret|cbn?z|tbn?z|nop|prfm|prfum|dmb|dsb|isb|msr|hint|pac\w*|aut\w*|xpac\w*|bti|brk|hlt|udf|sev\w*|wf[ei]|yield|clrex|esb|csdb|st(r|rb|rh|ur|urb|urh|lr|lrb|lrh|llr\w*|lur\w*|p|np)|st(add|clr|eor|set|smax|smin|umax|umin)\w*)$/;
const PAIR_DEST = /^(ldp|ldpsw|ldnp|ldxp|ldaxp|casp\w*)$/;
const SECOND_DEST = /^(swp\w*|ld(add|clr|eor|set|smax|smin|umax|umin)\w*)$/;
const EXCL_STORE = /^stl?x(r|rb|rh|p)$/;
/** Exclusive and atomic read-modify-write instructions (the accesses of lock words and atomics). */
const ATOMIC = /^(ldx|ldax|stx|stlx|cas|swp|ld(add|clr|eor|set|smax|smin|umax|umin)|st(add|clr|eor|set|smax|smin|umax|umin))\w*$/;

/** The base register an instruction writes back (`[x0, #8]!` or `[x0], #8`), if any. */
function writeback(ops: string[]): string | undefined {
  for (let n = 0; n < ops.length; n++) {
    const mm = mem(ops[n]);
    if (!mm) continue;
    if (mm.pre || (n + 1 < ops.length && imm(ops[n + 1]) !== null)) return canon(mm.base);
  }
  return undefined;
}

function written(i: ModInsn): string[] {
  const m = i.mnemonic;
  const ops = operands(i.opStr);
  const out: (string | undefined)[] = [];
  if (EXCL_STORE.test(m)) out.push(ops[0]);
  else if (PAIR_DEST.test(m)) out.push(ops[0], ops[1]);
  else if (SECOND_DEST.test(m)) out.push(ops[1]);
  else if (!NO_DEST.test(m)) out.push(ops[0]);
  const regs = out.map(canon).filter((r): r is string => !!r);
  const wb = writeback(ops);
  if (wb) regs.push(wb);
  return regs;
}

function writesReg(i: ModInsn, reg: string): boolean {
  const fl = flowOf(i);
  if (fl.kind === 'call' || fl.kind === 'icall') return CALLER_SAVED.has(reg);
  return written(i).includes(reg);
}

function stackEffect(i: ModInsn): number {
  const m = i.mnemonic;
  const ops = operands(i.opStr);
  if ((m === 'sub' || m === 'add') && ops[0] === 'sp' && ops[1] === 'sp') {
    const v = imm(ops[2]);
    if (v !== null) return m === 'sub' ? Number(v) : -Number(v);
    return 0;
  }
  for (let n = 0; n < ops.length; n++) {
    const mm = mem(ops[n]);
    if (!mm || canon(mm.base) !== 'sp') continue;
    if (mm.pre) return -mm.disp; // stp x29, x30, [sp, #-0x40]!
    const post = imm(ops[n + 1]);
    if (post !== null) return -Number(post); // ldp x29, x30, [sp], #0x40
  }
  return 0;
}

function loadWidth(m: string, dest: string): number {
  if (/^(ldr|ldur|ldar|ldapr|ldtr)s?b$/.test(m)) return 1;
  if (/^(ldr|ldur|ldar|ldapr|ldtr)s?h$/.test(m)) return 2;
  if (/^(ldr|ldur|ldtr)sw$/.test(m)) return 4;
  return dest.trim().startsWith('w') ? 4 : 8;
}

function maskTo(v: bigint, w32: boolean): bigint {
  return w32 ? BigInt.asUintN(32, v) : v;
}

function trackStep(p: Program, f: Func, j: number, reg: string, steps: number): TrackedValue | null {
  const i = f.insns[j];
  const fl = flowOf(i);
  const at = `${f.name}+0x${(i.secOff - f.start).toString(16)}`;
  if (fl.kind === 'call' || fl.kind === 'icall') return CALLER_SAVED.has(reg) ? { kind: 'unknown', why: `clobbered by the call at ${at}` } : null;
  if (!writesReg(i, reg)) return null;
  const m = i.mnemonic;
  const ops = operands(i.opStr);
  const unknown: TrackedValue = { kind: 'unknown', why: `${m} ${i.opStr}` };
  if (canon(ops[0]) !== reg || PAIR_DEST.test(m) || SECOND_DEST.test(m) || EXCL_STORE.test(m) || writeback(ops) === reg) return unknown;
  const w32 = ops[0].trim().startsWith('w');
  if (m === 'mov' || m === 'movz') {
    const v = imm(ops[1]);
    if (v !== null) return { kind: 'imm', value: maskTo(v << shiftOf(ops[2]), w32) };
    const src = canon(ops[1]);
    if (src === 'sp') return { kind: 'stack', frame: -f.depth[j] };
    if (src === 'zr') return { kind: 'imm', value: 0n };
    if (!src) return unknown;
    const t = p.track(f, j, src, steps - 1);
    return t.kind === 'imm' ? { kind: 'imm', value: maskTo(t.value, w32) } : t;
  }
  if (m === 'movn') {
    const v = imm(ops[1]);
    return v === null ? unknown : { kind: 'imm', value: maskTo(BigInt.asUintN(64, ~(v << shiftOf(ops[2]))), w32) };
  }
  if (m === 'movk') {
    const v = imm(ops[1]);
    if (v === null) return unknown;
    const sh = shiftOf(ops[2]);
    const prev = p.track(f, j, reg, steps - 1);
    if (prev.kind !== 'imm') return unknown;
    return { kind: 'imm', value: maskTo((BigInt.asUintN(64, prev.value) & ~(0xffffn << sh)) | (v << sh), w32) };
  }
  if (m === 'adrp' || m === 'adr') {
    const r = relocOf(i, (t) => t === R_AARCH64_ADR_PREL_PG_HI21 || t === R_AARCH64_ADR_PREL_PG_HI21_NC);
    return r ? { kind: 'ref', ref: relocTarget(r) } : { kind: 'unknown', why: `${m} without relocation` };
  }
  if (m === 'add' || m === 'sub') {
    const r = m === 'add' ? relocOf(i, (t) => t === R_AARCH64_ADD_ABS_LO12_NC) : undefined;
    if (r) return { kind: 'ref', ref: relocTarget(r) };
    const v = imm(ops[2]);
    if (v === null) return unknown;
    const delta = Number((m === 'add' ? v : -v) << shiftOf(ops[3]));
    const src = canon(ops[1]);
    if (src === 'sp') return { kind: 'stack', frame: delta - f.depth[j] };
    if (!src || src === 'zr') return unknown;
    const b = p.track(f, j, src, steps - 1);
    if (b.kind === 'ref') return { kind: 'ref', ref: { ...b.ref, offset: b.ref.offset + delta } };
    if (b.kind === 'stack') return { kind: 'stack', frame: b.frame + delta };
    if (b.kind === 'imm') return { kind: 'imm', value: maskTo(b.value + BigInt(delta), w32) };
    return unknown;
  }
  if (/^(ldr|ldur|ldar|ldapr|ldtr)(s?b|s?h|sw)?$/.test(m)) {
    const width = loadWidth(m, ops[0]);
    const r = relocOf(i, (t) => LDST_LO12.has(t));
    if (r) return { kind: 'load', ref: relocTarget(r), width };
    const mm = mem(ops[1]);
    if (!mm || mm.index) return { kind: 'unknown', why: `load from ${ops[1] ?? '?'}` };
    const base = canon(mm.base);
    if (!base || base === 'sp') return { kind: 'unknown', why: `load from ${ops[1]}` };
    const disp = ops.length > 2 ? 0 : mm.disp; // post-index: the address is the base before the increment
    const b = p.track(f, j, base, steps - 1);
    if (b.kind === 'ref') return { kind: 'load', ref: { ...b.ref, offset: b.ref.offset + disp }, width };
    return { kind: 'unknown', why: `load from ${ops[1]}` };
  }
  return unknown;
}

/** Module words accessed with exclusive or atomic instructions: lock words and atomics, not mode globals. */
const lockWordCache = new WeakMap<Program, Set<string>>();
function lockWords(p: Program): Set<string> {
  const cached = lockWordCache.get(p);
  if (cached) return cached;
  const s = new Set<string>();
  lockWordCache.set(p, s);
  for (const f of p.funcs) {
    f.insns.forEach((i, k) => {
      if (!ATOMIC.test(i.mnemonic)) return;
      const mm = operands(i.opStr).map(mem).find((x) => x);
      const base = mm && !mm.index ? canon(mm.base) : undefined;
      if (!mm || !base || base === 'sp') return;
      const v = p.track(f, k, base, 32);
      if (v.kind === 'ref' && v.ref.kind === 'local') s.add(`${v.ref.shndx}:${v.ref.offset + mm.disp}`);
    });
  }
  return s;
}

const CONDS: Record<string, string> = {
  eq: 'je', ne: 'jne', hi: 'ja', hs: 'jae', cs: 'jae', lo: 'jb', cc: 'jb', ls: 'jbe',
  gt: 'jg', ge: 'jge', lt: 'jl', le: 'jle', mi: 'js', pl: 'jns',
};

function condAt(p: Program, f: Func, k: number): GlobalCond | null {
  const i = f.insns[k];
  const m = i.mnemonic;
  const ops = operands(i.opStr);
  const loaded = (regOp: string | undefined, at: number) => {
    const reg = canon(regOp);
    if (!reg || reg === 'sp' || reg === 'zr') return null;
    const v = p.track(f, at, reg);
    if (v.kind !== 'load' || v.ref.kind !== 'local') return null;
    if (lockWords(p).has(`${v.ref.shndx}:${v.ref.offset}`)) return null;
    return { loc: { shndx: v.ref.shndx, offset: v.ref.offset }, name: p.symbolize(v.ref.shndx, v.ref.offset), width: v.width };
  };
  if (m.startsWith('b.')) {
    const jcc = CONDS[m.slice(2)];
    if (!jcc) return null;
    for (let j = k - 1; j >= Math.max(0, k - 4); j--) {
      const c = f.insns[j];
      if (c.mnemonic === 'cmp' || c.mnemonic === 'cmn' || c.mnemonic === 'tst') {
        const o = operands(c.opStr);
        let v = imm(o[1]);
        if (v === null) return null;
        v <<= shiftOf(o[2]);
        if (c.mnemonic === 'cmn') v = -v;
        const g = loaded(o[0], j);
        return g ? { ...g, op: c.mnemonic === 'tst' ? 'test' : 'cmp', imm: v, jcc } : null;
      }
      // Anything between the compare and the branch must leave the flags alone.
      if (!/^(ldr\w*|ldur\w*|mov|movk|adrp|add|sub|nop|orr|and|eor|lsl|lsr|asr|str\w*|stur\w*)$/.test(c.mnemonic)) return null;
    }
    return null;
  }
  if (m === 'cbz' || m === 'cbnz') {
    // Only 32-bit values (ints, enums, bools): a 64-bit cbz is a pointer or a long checked for
    // NULL/0 (a cached kallsyms result, a lazily set pointer), not a mode.
    if (!ops[0]?.startsWith('w')) return null;
    const g = loaded(ops[0], k);
    return g && g.width <= 4 ? { ...g, op: 'cmp', imm: 0n, jcc: m === 'cbz' ? 'je' : 'jne' } : null;
  }
  if (m === 'tbz' || m === 'tbnz') {
    const bit = imm(ops[1]);
    const g = bit === null ? null : loaded(ops[0], k);
    return g && bit !== null ? { ...g, op: 'test', imm: 1n << bit, jcc: m === 'tbz' ? 'je' : 'jne' } : null;
  }
  return null;
}

function storesAt(p: Program, f: Func, k: number): DecodedStore[] {
  const i = f.insns[k];
  const m = i.mnemonic;
  if (!/^(str|strb|strh|stur|sturb|sturh|stlr|stlrb|stlrh|stp|stnp)$/.test(m)) return [];
  const ops = operands(i.opStr);
  const pair = m === 'stp' || m === 'stnp';
  const memAt = pair ? 2 : 1;
  const mm = mem(ops[memAt]);
  if (!mm || mm.index) return [];
  const disp = ops.length > memAt + 1 ? 0 : mm.disp;
  const size = m.endsWith('b') ? 1 : m.endsWith('h') ? 2 : ops[0].trim().startsWith('w') ? 4 : 8;
  let dest: DecodedStore['dest'] | null = null;
  const r = relocOf(i, (t) => LDST_LO12.has(t));
  if (r) {
    const t = relocTarget(r);
    if (t.kind === 'local') dest = { kind: 'data', shndx: t.shndx, offset: t.offset };
  } else {
    const base = canon(mm.base);
    if (base === 'sp') dest = { kind: 'stack', frame: disp - f.depth[k] };
    else if (base) {
      const b = p.track(f, k, base);
      if (b.kind === 'ref' && b.ref.kind === 'local' && !p.isText(b.ref)) dest = { kind: 'data', shndx: b.ref.shndx, offset: b.ref.offset + disp };
      else if (b.kind === 'stack') dest = { kind: 'stack', frame: b.frame + disp };
    }
  }
  if (!dest) return [];
  const valueOf = (op: string): TrackedValue => {
    const reg = canon(op);
    if (reg === 'zr') return { kind: 'imm', value: 0n };
    return reg ? p.track(f, k, reg) : { kind: 'unknown', why: op };
  };
  const out: DecodedStore[] = [{ dest, value: valueOf(ops[0]) }];
  if (pair) {
    const d2: DecodedStore['dest'] = dest.kind === 'data' ? { ...dest, offset: dest.offset + size } : { ...dest, frame: dest.frame + size };
    out.push({ dest: d2, value: valueOf(ops[1]) });
  }
  return out;
}

/**
 * Alternatives (.altinstructions: struct alt_instr { s32 orig_offset, alt_offset; u16 cpufeature;
 * u8 orig_len, alt_len }, 12 bytes) and static keys (__jump_table: struct jump_entry { s32 code,
 * target; long key }, 16 bytes), both located by R_AARCH64_PREL32 relocations.
 */
function patchSites(elf: ElfModule): Map<string, number | null> {
  const out = new Map<string, number | null>();
  const at = (r: Relocation | undefined) => (r && r.type === R_AARCH64_PREL32 && r.symbol.shndx !== SHN_UNDEF ? { shndx: r.symbol.shndx, offset: r.symbol.value + r.addend } : null);
  const alt = elf.sectionByName('.altinstructions');
  if (alt) {
    for (const r of elf.relocs.get(alt.index) ?? []) {
      if (r.offset % 12 !== 0) continue;
      const o = at(r);
      if (o && !out.has(`${o.shndx}:${o.offset}`)) out.set(`${o.shndx}:${o.offset}`, null);
    }
  }
  const jt = elf.sectionByName('__jump_table');
  if (jt) {
    const rel = elf.relocs.get(jt.index) ?? [];
    const byOff = new Map(rel.map((r) => [r.offset, r]));
    for (const r of rel) {
      if (r.offset % 16 !== 0) continue;
      const code = at(r);
      const target = at(byOff.get(r.offset + 4));
      if (code) out.set(`${code.shndx}:${code.offset}`, target && target.shndx === code.shndx ? target.offset : null);
    }
  }
  return out;
}

const ENTRY = 'el1_dbg() -> arm64_enter_el1_dbg() calls lockdep_hardirqs_off() and ct_nmi_enter(), an NMI as far as RCU is concerned, but not __nmi_enter(): in_nmi() is false';

function kprobeBreakpoint(facts: KprobeFacts): { context: 'debug-exception'; mechanism: string; why: string } {
  const post = facts.hasPost ? ' The post handler runs in the same state, from the second BRK that ends the out-of-line single-step (or right after a simulated instruction).' : '';
  const rejects = facts.rejectsFtrace ? ` The module's KPROBE_FLAG_FTRACE test (${facts.rejectsFtrace.test}, unregister_kprobe() at ${facts.rejectsFtrace.unregister}) never fires on arm64.` : '';
  return {
    context: 'debug-exception',
    mechanism: 'BRK',
    why: `On arm64 every kprobe is a BRK breakpoint (6.1 arm64 does not select HAVE_KPROBES_ON_FTRACE, so not even a probe at a function's entry is ftrace-based): its handlers run in the debug exception taken at the probed instruction (${ENTRY}), with IRQs, FIQs and pseudo-NMIs masked.${post}${rejects}`,
  };
}

const DIRECT_CONTEXT: Partial<Record<HandlerKind, DirectContext>> = {
  nmi: { context: 'nmi', mechanism: 'NMI', why: 'Registered with register_nmi_handler() (an x86 interface): called from the NMI handler, in NMI context.' },
  'perf-overflow': { context: 'nmi', mechanism: 'PMU interrupt (pseudo-NMI or IRQ on arm64)', why: 'Overflow handler of a perf_event_create_kernel_counter() event: the arm64 PMU interrupt is requested as a pseudo-NMI when the kernel has CONFIG_ARM64_PSEUDO_NMI and boots with irqchip.gicv3_pseudo_nmi=1, then it runs in NMI context; otherwise (Debian 6.1 arm64 kernels are built without it) it is a hardirq. Software events call it from hardirq/softirq.' },
  'hw-breakpoint': { context: 'debug-exception', mechanism: 'debug exception (breakpoint/watchpoint)', why: `Hardware-breakpoint callback: on arm64 called from the debug exception (do_debug_exception() -> breakpoint_handler()/watchpoint_handler(); ${ENTRY}), with IRQs masked.` },
  'die-notifier': { context: 'nmi', mechanism: 'exception notifier', why: 'A die notifier is called from die() (DIE_OOPS) in the context that oopsed, which can be an exception or a pseudo-NMI.' },
  tracepoint: { context: 'atomic', mechanism: 'tracepoint', why: 'A tracepoint probe runs in the context of the code that hits the tracepoint, under rcu_read_lock_sched (preemption disabled); some tracepoints fire in NMI or IRQ context.' },
  ftrace: { context: 'atomic', mechanism: 'ftrace', why: 'An ftrace_ops callback is called from ftrace_caller, which the traced function\'s patchable entry NOPs branch to, in the caller\'s context with preemption disabled (ftrace_test_recursion_trylock), not through BRK: not NMI unless the traced function runs in NMI.' },
  'fprobe-entry': { context: 'atomic', mechanism: 'ftrace (fprobe)', why: 'fprobe handlers are called through ftrace from the traced function\'s entry, in the caller\'s context with preemption disabled, not through BRK (arm64 6.1 has no rethook, so no fprobe; later kernels do).' },
  'fprobe-exit': { context: 'atomic', mechanism: 'rethook (fprobe)', why: 'fprobe exit handlers are called from the return trampoline (rethook) of the traced function, in its context with preemption disabled.' },
  'kretprobe-return': { context: 'atomic', mechanism: 'return trampoline', why: 'A kretprobe return handler is called from __kretprobe_trampoline when the probed function returns, in its context with preemption disabled, not through BRK.' },
};

export const arm64: KmodArch = {
  name: 'arm64',
  machine: 183,
  disasmMode: 'arm64',
  badSize: 4,
  sp: 'sp',
  trackSteps: 192,
  flowOf,
  branchReloc: (i) => relocOf(i, (t) => t === R_AARCH64_CALL26 || t === R_AARCH64_JUMP26),
  relocTarget: (r) => relocTarget(r),
  argReg: (n) => ARG_REGS[n],
  writesReg,
  stackEffect,
  trackStep,
  condAt,
  storesAt,
  patchSites,
  kprobesOnFtrace: false,
  kprobeBreakpoint,
  directContext: DIRECT_CONTEXT,
  layoutBase: 'Struct offsets (kprobe pre/post_handler 64/72, symbol_name 48, offset 56, flags 120; kretprobe handler 128; notifier_block.notifier_call 0) and gfp bits are those of arm64 Linux 6.1 (the generic structs, laid out as on x86_64).',
  debugException: {
    context: `In an arm64 BRK debug exception (${ENTRY}; IRQs masked):`,
    allocation: {
      id: 'arm64-kprobe-brk-alloc',
      severity: 'warning',
      why: (gfp) => `On arm64 a kprobe handler runs in the BRK debug exception (${ENTRY}), with IRQs masked, at whatever instruction the probe sits on. The x86 incident cannot happen here: there is no int3/NMI entry, and arm64 has no SIMD BLAKE2s (lib/crypto uses the generic C code), so a CRNG reseed never reaches kernel_fpu_begin() and irq_fpu_usable()'s WARN_ON(in_nmi()). The flags${gfp} do not sleep, so the context rules allow the call. What remains wrong: the handler enters the slab allocator from an exception at an arbitrary instruction; if the probed code can run inside the allocator or with its per-CPU/node locks held (masking IRQs does not keep a synchronous BRK out), it deadlocks or corrupts the freelists. A new slab calls the page allocator and, with CONFIG_SLAB_FREELIST_RANDOM, get_random_u32() (a CRNG reseed takes base_crng.lock) with every interrupt masked; GFP_ATOMIC fails under memory pressure and the event is lost; and the same code is an NMI-context hazard on x86.`,
      fix: 'Do not allocate in the handler: record into preallocated per-CPU storage and allocate later in process context (irq_work -> workqueue), as kmod-reference mode `deferred` does. That is also the fix for the same module on x86, where the handler runs in NMI context.',
    },
  },
  seedFix: {
    mitigates: 'On the cache it is applied to, shuffle_freelist() returns early, so a new slab no longer asks get_random_u32() (nor reseeds the CRNG) from the BRK handler. On arm64 there is no FPU WARN path to remove: this mostly removes the random-number call from the exception.',
    doesNotMitigate: 'The allocation still runs in the BRK debug exception (reentering the slab and page allocators from an arbitrary probed instruction with IRQs masked). Any other allocation from the handler, e.g. kmalloc(), uses the kernel\'s shared kmalloc caches, which are still shuffled. It relies on a non-exported internal found through kallsyms. Fix: do not allocate in the handler (deferred design).',
    otherCallee: (callee) => `${callee}() allocates from the kernel's shared kmalloc caches, whose freelists are still randomized; and the allocation still runs in the BRK debug exception.`,
  },
};

// Probe registrations and their handlers, and the context each handler runs in.
//
// Struct layouts are x86_64 Linux 6.1 (the generic ones, kprobe/kretprobe/notifier_block, are the
// same on arm64: arch/arm64.ts), read from /usr/src/linux-headers-6.1.0-*-common:
//   include/linux/kprobes.h   struct kprobe { hlist 0, list 16, nmissed 32, addr 40, symbol_name 48,
//                             offset 56 (u32), pre_handler 64, post_handler 72, ... } (128 bytes);
//                             struct kretprobe { kp 0, handler 128, entry_handler 136, ... }
//   include/linux/ftrace.h    struct ftrace_ops { func 0, ... } (184 bytes)
//   include/linux/fprobe.h    struct fprobe { ops 0, ..., entry_handler 224, exit_handler 232 }
//   arch/x86/include/asm/nmi.h struct nmiaction { list 0, handler 16, max_duration 24, flags 32, name 40 }
//   include/linux/notifier.h  struct notifier_block { notifier_call 0, ... }
// (offsets checked with gdb `ptype /o` on modules built against those headers). They vary by
// version: before 5.14 struct kprobe had fault_handler after post_handler (pre/post keep 64/72, but
// kretprobe.handler moves), before 4.18 also break_handler; fprobe exists since 5.18 and its
// layout changed again in 6.x. Modules for other versions get the same offsets, with a caveat in
// the result. The context a handler runs in depends on the architecture (p.arch): on x86 an
// int3 kprobe runs in NMI context, on arm64 every kprobe is a BRK in a debug exception.
import { readCString } from './elf.js';
import type { KprobeFacts } from './arch/types.js';
import type { Func, Program, Ref, TrackedValue } from './program.js';

export type HandlerKind =
  | 'kprobe-pre' | 'kprobe-post' | 'kretprobe-entry' | 'kretprobe-return' | 'nmi' | 'ftrace' | 'fprobe-entry' | 'fprobe-exit'
  | 'perf-overflow' | 'hw-breakpoint' | 'die-notifier' | 'tracepoint';

/**
 * nmi: in_nmi() is true. atomic: caller's context, preemption disabled. nmi-or-atomic: depends on
 * the kernel config or run-time values. debug-exception: an arm64 BRK (kprobe) or hardware
 * breakpoint exception: IRQs masked, RCU in NMI mode, in_nmi() false.
 */
export type HandlerContext = 'nmi' | 'atomic' | 'nmi-or-atomic' | 'debug-exception';

export interface Handler {
  /** The handler function's symbol name. */
  function: string;
  kind: HandlerKind;
  context: HandlerContext;
  /** How the kernel enters the handler: `int3`, `ftrace`, `int3 or ftrace`, `NMI`, `#DB`, `BRK` (arm64)... */
  mechanism: string;
  /** Why we think so, in one or two sentences. */
  why: string;
  registration: {
    /** The kernel function that registers it. */
    call: string;
    /** Where: `init_module+0x229`. */
    site: string;
    /** The registered object (`kp`, `.bss+0x20`), when there is one. */
    object: string | null;
    /** Probe target: `copy_page_to_iter+0x?`, when known. */
    target: string | null;
  };
}

interface Layout {
  fields: { off: number; kind: HandlerKind }[];
}

const LAYOUTS: Record<string, Layout> = {
  kprobe: { fields: [{ off: 64, kind: 'kprobe-pre' }, { off: 72, kind: 'kprobe-post' }] },
  kretprobe: { fields: [{ off: 136, kind: 'kretprobe-entry' }, { off: 128, kind: 'kretprobe-return' }] },
  ftrace_ops: { fields: [{ off: 0, kind: 'ftrace' }] },
  fprobe: { fields: [{ off: 224, kind: 'fprobe-entry' }, { off: 232, kind: 'fprobe-exit' }] },
  nmiaction: { fields: [{ off: 16, kind: 'nmi' }] },
  notifier_block: { fields: [{ off: 0, kind: 'die-notifier' }] },
};
const KP_ADDR = 40;
const KP_SYMBOL = 48;
const KP_OFFSET = 56;

interface Registration {
  call: string;
  arg: number;
  /** The argument points at this struct (or, with array, at an array of pointers to it). */
  object?: keyof typeof LAYOUTS;
  array?: boolean;
  /** The argument is the handler function itself. */
  direct?: HandlerKind;
}

const REGISTRATIONS: Registration[] = [
  { call: 'register_kprobe', arg: 0, object: 'kprobe' },
  { call: 'register_kprobes', arg: 0, object: 'kprobe', array: true },
  { call: 'register_kretprobe', arg: 0, object: 'kretprobe' },
  { call: 'register_kretprobes', arg: 0, object: 'kretprobe', array: true },
  { call: '__register_nmi_handler', arg: 1, object: 'nmiaction' },
  { call: 'register_ftrace_function', arg: 0, object: 'ftrace_ops' },
  { call: 'register_ftrace_function_nolock', arg: 0, object: 'ftrace_ops' },
  { call: 'register_fprobe', arg: 0, object: 'fprobe' },
  { call: 'register_fprobe_ips', arg: 0, object: 'fprobe' },
  { call: 'register_fprobe_syms', arg: 0, object: 'fprobe' },
  { call: 'register_die_notifier', arg: 0, object: 'notifier_block' },
  { call: 'perf_event_create_kernel_counter', arg: 3, direct: 'perf-overflow' },
  { call: 'register_wide_hw_breakpoint', arg: 1, direct: 'hw-breakpoint' },
  { call: 'register_user_hw_breakpoint', arg: 1, direct: 'hw-breakpoint' },
  { call: 'tracepoint_probe_register', arg: 1, direct: 'tracepoint' },
  { call: 'tracepoint_probe_register_prio', arg: 1, direct: 'tracepoint' },
];

/** A registered object: a module global, or a slot in a function's stack frame. */
type Obj = { kind: 'data'; shndx: number; offset: number } | { kind: 'stack'; fn: Func; frame: number };

interface Store {
  fn: Func;
  index: number;
  /** Data location or stack slot written. */
  dest: Obj;
  value: TrackedValue;
}

/** Every store in the module whose destination we can name (the architecture decodes them). */
function collectStores(p: Program): Store[] {
  const out: Store[] = [];
  for (const f of p.funcs) {
    for (let k = 0; k < f.insns.length; k++) {
      for (const st of p.arch.storesAt(p, f, k)) {
        const dest: Obj = st.dest.kind === 'stack' ? { kind: 'stack', fn: f, frame: st.dest.frame } : st.dest;
        out.push({ fn: f, index: k, dest, value: st.value });
      }
    }
  }
  return out;
}

function site(f: Func, index: number): string {
  return `${f.name}+0x${(f.insns[index].secOff - f.start).toString(16)}`;
}

function sameSlot(a: Obj, b: Obj, delta: number): boolean {
  if (a.kind === 'data' && b.kind === 'data') return a.shndx === b.shndx && a.offset + delta === b.offset;
  if (a.kind === 'stack' && b.kind === 'stack') return a.fn === b.fn && a.frame + delta === b.frame;
  return false;
}

export interface FieldValue {
  value: TrackedValue;
  /** `static initializer` or the store site. */
  from: string;
}

/** Every value a field of an object may hold: its static initializer (relocation or bytes) and every store to it. */
function fieldValues(p: Program, stores: Store[], obj: Obj, off: number, width: number): FieldValue[] {
  const out: FieldValue[] = [];
  if (obj.kind === 'data') {
    const at = obj.offset + off;
    const rel = (p.elf.relocs.get(obj.shndx) ?? []).find((r) => r.offset === at);
    if (rel) {
      const s = rel.symbol;
      const ref: Ref = s.shndx === 0 ? { kind: 'extern', name: s.name, offset: rel.addend } : { kind: 'local', shndx: s.shndx, offset: s.value + rel.addend };
      out.push({ value: { kind: 'ref', ref }, from: 'static initializer' });
    } else {
      const sec = p.elf.sections[obj.shndx];
      const bytes = p.elf.sectionBytes(sec);
      if (at + width <= bytes.length) {
        let v = 0n;
        for (let b = width - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[at + b]);
        out.push({ value: { kind: 'imm', value: v }, from: 'static initializer' });
      }
    }
  } else out.push({ value: { kind: 'imm', value: 0n }, from: 'unset stack slot' });
  for (const st of stores) if (sameSlot(obj, st.dest, off)) out.push({ value: st.value, from: site(st.fn, st.index) });
  return out;
}

function objName(p: Program, o: Obj): string {
  return o.kind === 'data' ? p.symbolize(o.shndx, o.offset) : `stack object in ${o.fn.name}`;
}

function handlerFns(p: Program, vals: FieldValue[]): { fn: string; from: string }[] {
  const out: { fn: string; from: string }[] = [];
  for (const v of vals) {
    if (v.value.kind !== 'ref') continue;
    const r = v.value.ref;
    if (r.kind === 'extern') out.push({ fn: r.name, from: v.from });
    else if (p.isText(r)) {
      const f = p.funcAt(r.shndx, r.offset);
      if (f) out.push({ fn: f.name, from: v.from });
    }
  }
  return out;
}

function describeKprobe(p: Program, stores: Store[], obj: Obj, hasPost: boolean): { context: HandlerContext; mechanism: string; why: string; target: string | null } {
  const symVals = fieldValues(p, stores, obj, KP_SYMBOL, 8);
  const offVals = fieldValues(p, stores, obj, KP_OFFSET, 4);
  const addrVals = fieldValues(p, stores, obj, KP_ADDR, 8);
  const names = new Set<string>();
  for (const v of symVals) {
    if (v.value.kind === 'ref' && v.value.ref.kind === 'local') {
      const s = readCString(p.elf, v.value.ref.shndx, v.value.ref.offset);
      if (s) names.add(s);
    }
  }
  // The static value is overridden by any store; with stores, consider the stored values.
  const offs = offVals.length > 1 ? offVals.slice(1) : offVals;
  const consts = offs.filter((v) => v.value.kind === 'imm').map((v) => (v.value as { value: bigint }).value);
  const runtime = offs.filter((v) => v.value.kind !== 'imm');
  const addrSet = addrVals.some((v) => v.value.kind !== 'imm' || v.value.value !== 0n);
  const sym = [...names].join('|') || null;
  if (!p.arch.kprobesOnFtrace && p.arch.kprobeBreakpoint) {
    // Every kprobe is a breakpoint here: the offset only names the target.
    const offsets = [...new Set(consts.map((c) => Number(c)))];
    const target = !sym ? null : runtime.length ? `${sym}+?` : offsets.map((o) => (o ? `${sym}+0x${o.toString(16)}` : sym)).join(', ') || sym;
    const facts: KprobeFacts = { sym, addrSet, offsets, runtimeSites: runtime.map((v) => v.from), rejectsFtrace: rejectsFtrace(p, obj), hasPost };
    return { ...p.arch.kprobeBreakpoint(facts, target), target };
  }
  const post = hasPost
    ? ' A post handler does not decide the mechanism (x86 kprobe_ftrace_handler() calls post handlers too); on an int3 probe it runs after the single-step, still in the int3 exception (NMI context).'
    : '';
  const ftraceNote = 'CONFIG_KPROBES_ON_FTRACE (set in Debian/RHEL kernels) makes a probe at a traceable function\'s fentry site ftrace-based: it runs in the caller\'s context, not NMI';
  if (!sym && addrSet) {
    return { context: 'nmi-or-atomic', mechanism: 'int3 or ftrace', target: null, why: `The probe address is set at run time (kprobe.addr), so the site is unknown: int3 (NMI context) unless it is a function's fentry site on a kernel with KPROBES_ON_FTRACE.${post}` };
  }
  const rejects = rejectsFtrace(p, obj);
  if (rejects && (runtime.length || offs.some((v) => v.value.kind === 'imm' && v.value.value === 0n))) {
    return {
      context: 'nmi', mechanism: 'int3', target: sym ? `${sym}+?` : null,
      why: `The module unregisters the probe when the kernel made it ftrace-based (it tests KPROBE_FLAG_FTRACE in kprobe.flags at ${rejects.test} and calls unregister_kprobe() at ${rejects.unregister}), so only an int3 probe stays registered: on x86 exc_int3() runs its handlers under irqentry_nmi_enter(), in NMI context.${post}`,
    };
  }
  if (runtime.length) {
    const where = runtime.map((v) => v.from).join(', ');
    const known = consts.length ? ` (constant values stored elsewhere: ${consts.map((c) => `0x${c.toString(16)}`).join(', ')})` : '';
    return {
      context: 'nmi-or-atomic', mechanism: 'int3 unless at the fentry site', target: sym ? `${sym}+?` : null,
      why: `kprobe.offset is computed at run time (stored at ${where})${known}: the probe is an int3 breakpoint (NMI context) unless the offset is 0, where ${ftraceNote}.${post}`,
    };
  }
  const offsets = [...new Set(consts.map((c) => Number(c)))];
  const target = sym ? offsets.map((o) => (o ? `${sym}+0x${o.toString(16)}` : sym)).join(', ') : null;
  if (offsets.length && offsets.every((o) => o !== 0)) {
    const ibt = offsets.includes(4) ? ' (with CONFIG_X86_KERNEL_IBT the fentry call follows a 4-byte ENDBR64, so +0x4 could still be the fentry site)' : '';
    return { context: 'nmi', mechanism: 'int3', target, why: `The probe is at a non-zero offset into ${sym ?? 'its function'} (${target}), past the fentry call: it is armed with an int3, and on x86 exc_int3() runs the handlers under irqentry_nmi_enter(), in NMI context${ibt}.${post}` };
  }
  return {
    context: 'nmi-or-atomic', mechanism: 'ftrace if KPROBES_ON_FTRACE, else int3', target,
    why: `The probe is at the entry of ${sym ?? 'its function'} (offset 0): ${ftraceNote}; without it, or on a function that is not traceable, it is an int3 breakpoint and the handler runs in NMI context.${post}`,
  };
}

const KP_FLAGS = 120;
const KPROBE_FLAG_FTRACE = 8n;

/** Code that tests KPROBE_FLAG_FTRACE in this kprobe's flags and, when set, calls unregister_kprobe(). */
function rejectsFtrace(p: Program, obj: Obj): { test: string; unregister: string } | null {
  if (obj.kind !== 'data') return null;
  for (const f of p.funcs) {
    for (const [k, c] of f.conds) {
      const byte = c.loc.offset - (obj.offset + KP_FLAGS);
      if (c.loc.shndx !== obj.shndx || c.op !== 'test' || byte < 0 || byte > 3 || ((c.imm << BigInt(8 * byte)) & KPROBE_FLAG_FTRACE) === 0n) continue;
      for (const call of f.calls) {
        if (call.target.kind !== 'extern' || call.target.name !== 'unregister_kprobe') continue;
        if (p.guards(f, call.index, {}).some((g) => g.cond === c && g.text.endsWith('!= 0'))) return { test: site(f, k), unregister: site(f, call.index) };
      }
    }
  }
  return null;
}

/** The context of a handler whose registration says it all, on the module's architecture. */
function direct(p: Program, kind: HandlerKind): { context: HandlerContext; mechanism: string; why: string } {
  const d = p.arch.directContext[kind];
  return d ?? { context: 'nmi-or-atomic', mechanism: 'unknown', why: `No context known for ${kind} handlers on ${p.arch.name}.` };
}

function objectOf(p: Program, v: TrackedValue): Obj | null {
  if (v.kind === 'ref' && v.ref.kind === 'local' && !p.isText(v.ref)) return { kind: 'data', shndx: v.ref.shndx, offset: v.ref.offset };
  return null;
}

export interface ProbeScan {
  handlers: Handler[];
  /** Registrations whose handlers could not be resolved (unknown object, indirect values). */
  unresolved: string[];
}

export function findHandlers(p: Program): ProbeScan {
  const stores = collectStores(p);
  const handlers: Handler[] = [];
  const unresolved: string[] = [];
  const seen = new Set<string>();
  const add = (h: Handler) => {
    const key = `${h.function}|${h.kind}|${h.registration.object ?? h.registration.site}`;
    if (seen.has(key)) return;
    seen.add(key);
    handlers.push(h);
  };
  for (const f of p.funcs) {
    for (const c of f.calls) {
      if (c.target.kind !== 'extern') continue;
      const callName = c.target.name;
      const reg = REGISTRATIONS.find((r) => r.call === callName);
      if (!reg) continue;
      const where = site(f, c.index);
      const argVal = p.arg(f, c.index, reg.arg);
      if (reg.direct) {
        if (argVal.kind === 'imm' && argVal.value === 0n) continue; // no handler (NULL)
        const fns = handlerFns(p, [{ value: argVal, from: where }]);
        if (!fns.length) unresolved.push(`${callName} at ${where}: handler argument not resolved (${argVal.kind === 'unknown' ? argVal.why : argVal.kind})`);
        for (const h of fns) add({ function: h.fn, kind: reg.direct, ...direct(p, reg.direct), registration: { call: callName, site: where, object: null, target: null } });
        continue;
      }
      let objs: Obj[] = [];
      if (argVal.kind === 'stack') objs = [{ kind: 'stack', fn: f, frame: argVal.frame }];
      else {
        const o = objectOf(p, argVal);
        if (o && reg.array && o.kind === 'data') {
          // register_kprobes(kps, n): an array of pointers, filled by relocations or stores.
          for (let e = 0; e < 64; e++) {
            const vals = fieldValues(p, stores, o, e * 8, 8);
            const ptrs = vals.map((v) => objectOf(p, v.value)).filter((x): x is Obj => !!x);
            if (!ptrs.length) break;
            objs.push(...ptrs);
          }
        } else if (o) objs = [o];
      }
      if (!objs.length) {
        unresolved.push(`${callName} at ${where}: registered object not resolved (${argVal.kind === 'unknown' ? argVal.why : argVal.kind})`);
        continue;
      }
      const layout = LAYOUTS[reg.object!];
      for (const o of objs) {
        const fields = layout.fields.map((fl) => ({ fl, fns: handlerFns(p, fieldValues(p, stores, o, fl.off, 8)) }));
        const hasPost = fields.some((x) => x.fl.kind === 'kprobe-post' && x.fns.length > 0);
        for (const { fl, fns } of fields) {
          for (const h of fns) {
            let ctx: { context: HandlerContext; mechanism: string; why: string; target: string | null };
            if (reg.object === 'kprobe') ctx = describeKprobe(p, stores, o, hasPost);
            else if (fl.kind === 'kretprobe-entry') {
              const k = describeKprobe(p, stores, o, false);
              ctx = { ...k, why: `kretprobe entry handler: runs from the kprobe at the function entry. ${k.why}` };
            } else if (fl.kind === 'nmi' || fl.kind === 'die-notifier') ctx = { ...direct(p, fl.kind), target: null };
            else ctx = { ...direct(p, fl.kind), target: reg.object === 'kretprobe' ? describeKprobe(p, stores, o, false).target : null };
            add({
              function: h.fn, kind: fl.kind, context: ctx.context, mechanism: ctx.mechanism,
              why: `${ctx.why} (handler set by ${h.from}.)`,
              registration: { call: callName, site: where, object: objName(p, o), target: ctx.target },
            });
          }
        }
      }
    }
  }
  return { handlers, unresolved };
}

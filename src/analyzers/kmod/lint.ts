// lint-kmod: find every path from a probe/NMI handler in a kernel module to a kernel function that
// is unsafe in the handler's context, from the module's object code alone.
import { readFile } from 'node:fs/promises';
import { InputError } from '../../util/errors.js';
import { UNSAFE_CALLS, gfpMaySleep, gfpName, isIgnoredCallee, matchUnsafeCall, type Severity } from '../unsafe-calls.js';
import { readInlineInfo, type InlineInfo } from './dwarf.js';
import { modinfo, parseElfModule, readCString } from './elf.js';
import type { LintFinding, LintResult, LintVariant, Mitigation } from './model.js';
import { findHandlers, type Handler } from './probes.js';
import { Program, type Assumptions, type CallSite, type Func, type Guard } from './program.js';

export interface LintOptions {
  /** Assume these module globals hold these values (e.g. a mode parameter: { hmode: 2 }). */
  assume?: Assumptions;
  /** Compute per-value variants for globals the findings depend on (default true). */
  variants?: boolean;
  /** Cap on paths reported per handler (default 256). */
  maxPathsPerHandler?: number;
}

const SEV_ORDER: Severity[] = ['none', 'note', 'warning', 'error'];
const maxSev = (a: Severity, b: Severity): Severity => (SEV_ORDER.indexOf(a) >= SEV_ORDER.indexOf(b) ? a : b);

const SEED_FIX_SYMBOL = 'cache_random_seq_destroy';

/** Lint a .ko file. Throws InputError (one line) for unreadable, non-ELF, non-x86_64/AArch64 or non-relocatable input. */
export async function lintKmod(path: string, options: LintOptions = {}): Promise<LintResult> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'error')})`);
  }
  return lintKmodBytes(bytes, path, options);
}

/** Lint a module already in memory; `name` is used in messages and as the artifact. */
export async function lintKmodBytes(bytes: Uint8Array, name: string, options: LintOptions = {}): Promise<LintResult> {
  const elf = parseElfModule(bytes, name);
  const prog = await Program.load(elf);
  const info = modinfo(elf);
  const vermagic = info.vermagic ?? null;
  const kernel = vermagic ? vermagic.split(' ')[0] : null;
  const version = kernel ? parseVersion(kernel) : null;
  const scan = findHandlers(prog);
  const assume = options.assume ?? {};
  const inline = readInlineInfo(elf);
  const run = analyse(prog, scan.handlers, assume, version, options.maxPathsPerHandler ?? 256, inline);

  const variants: LintVariant[] = [];
  if (options.variants !== false) {
    const globals = new Map<string, Set<bigint>>();
    for (const g of run.guardsSeen) {
      if (g.cond.name in assume) continue;
      const s = globals.get(g.cond.name) ?? new Set<bigint>();
      s.add(g.cond.imm);
      globals.set(g.cond.name, s);
    }
    // Values the code compares with, plus one it does not (the "anything else" case).
    for (const [g, imms] of [...globals].slice(0, 2)) {
      const vals = [...imms].filter((v) => v >= -1000n && v <= 1000n).map(Number);
      let other = 0;
      while (vals.includes(other)) other++;
      for (const v of [...vals, other].sort((a, b) => a - b).slice(0, 9)) {
        const a = { ...assume, [g]: v };
        const r = analyse(prog, scan.handlers, a, version, options.maxPathsPerHandler ?? 256, inline);
        const hazards = r.findings.filter((f) => f.status !== 'note');
        variants.push({
          assume: a,
          verdict: hazards.length === 0 ? 'clean' : hazards.every((f) => f.status === 'mitigated') ? 'mitigated' : 'hazard',
          hazards: hazards.map((f) => `${f.path.join(' -> ')} [${f.ruleId}]${f.status === 'mitigated' ? ' (mitigated, not fixed)' : ''}`),
          mitigations: r.mitigations.map((m) => m.evidence),
        });
      }
    }
  }

  const limits = [...scan.unresolved, ...run.limits];
  if (scan.handlers.length === 0) limits.push('No probe, NMI, perf, ftrace or notifier handler registration was recognised; nothing to check.');
  const findings = run.findings;
  return {
    file: name,
    module: { name: info.name ?? null, vermagic, kernel, arch: prog.arch.name },
    layoutNote: layoutNote(prog.arch.layoutBase, version),
    assumptions: assume,
    handlers: scan.handlers,
    findings,
    mitigations: run.mitigations,
    variants,
    limits,
    summary: {
      handlers: scan.handlers.length,
      hazards: findings.filter((f) => f.status === 'hazard').length,
      mitigated: findings.filter((f) => f.status === 'mitigated').length,
      notes: findings.filter((f) => f.status === 'note').length,
    },
  };
}

/** 1 when any hazard (including mitigated-but-not-fixed ones) was found, else 0. */
export function lintExitCode(result: LintResult): number {
  return result.findings.some((f) => f.status !== 'note') ? 1 : 0;
}

function parseVersion(kernel: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function layoutNote(base: string, v: [number, number] | null): string {
  if (!v) return `${base} The module's kernel version is unknown (no vermagic).`;
  const [maj, min] = v;
  if (maj === 6 && min <= 2) return `${base} They match this module's kernel.`;
  if (maj < 5 || (maj === 5 && min < 14)) return `${base} This module is for ${maj}.${min}: kprobe pre/post offsets are the same, but kretprobe/fprobe handler offsets differ (struct kprobe had fault_handler before 5.14).`;
  return `${base} This module is for ${maj}.${min}: unchecked, offsets may differ.`;
}

interface RunResult {
  findings: LintFinding[];
  mitigations: Mitigation[];
  limits: string[];
  guardsSeen: Guard[];
}

function analyse(p: Program, handlers: Handler[], assume: Assumptions, version: [number, number] | null, maxPaths: number, inline: InlineInfo): RunResult {
  const liveCache = new Map<Func, Uint8Array>();
  const live = (f: Func): Uint8Array => {
    let l = liveCache.get(f);
    if (!l) liveCache.set(f, (l = p.reachable(f, assume)));
    return l;
  };
  const guardsSeen: Guard[] = [];
  const guardCache = new Map<string, Guard[]>();
  const guardsAt = (f: Func, index: number): Guard[] => {
    const key = `${f.name}:${index}`;
    let g = guardCache.get(key);
    if (!g) {
      g = p.guards(f, index, assume);
      guardCache.set(key, g);
      guardsSeen.push(...g);
    }
    return g;
  };
  const limits: string[] = [];
  const mitigations = findSeedFix(p, assume, live, guardsAt);
  const findings: LintFinding[] = [];
  const seen = new Set<string>();

  for (const h of handlers) {
    const root = p.func(h.function);
    if (!root) {
      limits.push(`Handler ${h.function} is not a function of this module; not followed.`);
      continue;
    }
    let count = 0;
    const stack: { f: Func; site: CallSite | null }[] = [];
    const visit = (f: Func, via: CallSite | null) => {
      if (count >= maxPaths) return;
      stack.push({ f, site: via });
      const l = live(f);
      for (const c of f.calls) {
        if (!l[c.index]) continue;
        if (c.target.kind === 'local') {
          const g = c.target.fn;
          if (!stack.some((s) => s.f === g)) visit(g, c);
          continue;
        }
        const name = c.target.kind === 'extern' ? c.target.name : null;
        if (name === null || name.startsWith('__x86_indirect_thunk_') || name.startsWith('__x86_indirect_call_thunk')) {
          const chain = [...stack.map((s) => s.f.name)].join(' -> ');
          const msg = `Indirect call at ${f.name}+0x${(f.insns[c.index].secOff - f.start).toString(16)} (reached from handler ${h.function}: ${chain}) not followed.`;
          if (!limits.includes(msg)) limits.push(msg);
          continue;
        }
        if (isIgnoredCallee(name)) continue;
        const m = matchUnsafeCall(name);
        if (!m) continue;
        const path = [...stack.map((s) => s.f.name), name];
        const key = `${h.function}|${h.kind}|${path.join('>')}`;
        if (seen.has(key)) continue;
        const finding = makeFinding(p, h, stack, f, c, name, m.entry, m.pattern.gfpArg, version, guardsAt, mitigations, inline);
        if (!finding) continue;
        seen.add(key);
        findings.push(finding);
        count++;
      }
      stack.pop();
    };
    visit(root, null);
    if (count >= maxPaths) limits.push(`Handler ${h.function}: more than ${maxPaths} unsafe paths; the rest are not listed.`);
  }
  return { findings, mitigations, limits, guardsSeen };
}

function contextSeverity(p: Program, h: Handler, entry: (typeof UNSAFE_CALLS)[number], gfp: number | null, version: [number, number] | null): { sev: Severity; whyCtx: string; debugAlloc?: boolean } {
  let nmi = entry.severity.nmi;
  if (entry.olderKernels && version && (version[0] < entry.olderKernels.before[0] || (version[0] === entry.olderKernels.before[0] && version[1] < entry.olderKernels.before[1]))) nmi = entry.olderKernels.nmi;
  let atomic = entry.severity.atomic;
  let whyAtomic = entry.whyAtomic;
  if (entry.category === 'allocation' && entry.patterns.some((p) => p.gfpArg !== undefined) && entry.severity.atomic !== 'error') {
    if (gfp === null) {
      atomic = 'warning';
      whyAtomic = `${entry.whyAtomic} The gfp flags are not a constant here, so whether it may sleep is unknown.`;
    } else if (gfpMaySleep(gfp)) {
      atomic = 'error';
      whyAtomic = `${gfpName(gfp)} allows direct reclaim, so this allocation may sleep, which is forbidden with preemption disabled.`;
    } else whyAtomic = `${entry.whyAtomic} Flags here: ${gfpName(gfp)}, which does not sleep.`;
  }
  if (h.context === 'nmi') return { sev: nmi, whyCtx: entry.why };
  if (h.context === 'atomic') return { sev: atomic, whyCtx: whyAtomic };
  const ex = p.arch.debugException;
  if (h.context === 'debug-exception' && ex) {
    // Not NMI: the caller's rules (atomic) hold, IRQs off; an allocation that does not sleep is
    // still an allocator reentered from an exception at an arbitrary instruction.
    if (entry.category === 'allocation' && atomic !== 'error' && gfp !== null) {
      return { sev: ex.allocation.severity, whyCtx: ex.allocation.why(` here (${gfpName(gfp)})`), debugAlloc: true };
    }
    return { sev: atomic, whyCtx: `${ex.context} ${whyAtomic}` };
  }
  // Either: an int3 probe (NMI) or an ftrace-based one (caller's context).
  const sev = atomic === 'error' ? 'error' : nmi === 'error' ? 'warning' : maxSev(nmi, atomic);
  return { sev, whyCtx: `If the probe is int3-based (NMI context): ${entry.why} If it is ftrace-based: ${whyAtomic}` };
}

function makeFinding(
  p: Program, h: Handler, stack: { f: Func; site: CallSite | null }[], f: Func, c: CallSite, callee: string,
  entry: (typeof UNSAFE_CALLS)[number], gfpArg: number | undefined, version: [number, number] | null,
  guardsAt: (f: Func, i: number) => Guard[], mitigations: Mitigation[], inline: InlineInfo,
): LintFinding | null {
  let gfp: number | null = null;
  if (gfpArg !== undefined) {
    const v = p.arg(f, c.index, gfpArg);
    if (v.kind === 'imm') gfp = Number(BigInt.asUintN(32, v.value));
  }
  const { sev, whyCtx, debugAlloc } = contextSeverity(p, h, entry, gfp, version);
  if (sev === 'none') return null;
  // Outside NMI, the problem with a direct-reclaim allocation is that it may sleep: report it
  // under the sleeping rule, with that rule's fix.
  let ruleId = entry.id;
  let fix = entry.fix;
  if ((h.context === 'atomic' || h.context === 'debug-exception') && entry.category === 'allocation' && gfp !== null && gfpMaySleep(gfp)) {
    const sleeping = UNSAFE_CALLS.find((u) => u.category === 'sleeping')!;
    ruleId = sleeping.id;
    fix = `Use GFP_ATOMIC (or GFP_NOWAIT) here, or preallocate / move the allocation to process context. ${sleeping.fix}`;
  }
  if (debugAlloc && p.arch.debugException) {
    ruleId = p.arch.debugException.allocation.id;
    fix = p.arch.debugException.allocation.fix;
  }
  const conditions: string[] = [];
  for (let k = 0; k < stack.length; k++) {
    const fn = stack[k].f;
    const idx = k + 1 < stack.length ? stack[k + 1].site!.index : c.index;
    for (const g of guardsAt(fn, idx)) conditions.push(`in ${fn.name}: ${g.text}`);
  }
  const path = [...stack.map((s) => s.f.name), callee];
  const sourcePath: string[] = [];
  for (let k = 0; k < stack.length; k++) {
    const fn = stack[k].f;
    const idx = k + 1 < stack.length ? stack[k + 1].site!.index : c.index;
    sourcePath.push(fn.name, ...inline.chainAt(fn.section.index, fn.insns[idx].secOff).map((n) => `${n} (inlined)`));
  }
  sourcePath.push(callee);
  const insn = f.insns[c.index];
  const ctxWord = h.context === 'nmi' ? `NMI context (${h.mechanism})`
    : h.context === 'atomic' ? `caller's context (${h.mechanism}), not NMI`
      : h.context === 'debug-exception' ? `debug exception (${h.mechanism}), IRQs masked, not NMI`
        : `NMI context if int3-based, caller's context if ftrace-based`;
  let status: LintFinding['status'] = sev === 'note' ? 'note' : 'hazard';
  let mitigation: LintFinding['mitigation'] = null;
  const seedFix = mitigations.find((m) => m.kind === 'slab-freelist-random-disabled');
  if (seedFix && entry.id === 'kprobe-int3-nmi-slab-fpu' && h.context !== 'atomic') {
    if (/^kmem_cache_alloc/.test(callee)) {
      // Only call it mitigated when the workaround runs whenever this path can: a workaround that
      // depends on a global (a mode) the path does not need leaves the hazard as it is.
      if (status === 'hazard' && seedFix.conditions.length === 0) status = 'mitigated';
      const when = seedFix.conditions.length ? `, only when ${seedFix.conditions.join(' and ')}` : '';
      mitigation = { summary: `${seedFix.evidence} (${seedFix.site}${when})`, mitigates: seedFix.mitigates, doesNotMitigate: seedFix.doesNotMitigate };
    } else {
      mitigation = { summary: `${seedFix.evidence}: does not cover ${callee}()`, mitigates: 'nothing on this path', doesNotMitigate: p.arch.seedFix.otherCallee(callee) };
    }
  }
  const gfpText = gfp !== null ? ` with ${gfpName(gfp)}` : '';
  const what = `${entry.title} ${callee}()${gfpText}`;
  const message = status === 'note'
    ? `${h.function} (${h.kind}) -> ${callee}: ${what} in ${ctxWord}: allowed here${h.context === 'atomic' ? ' (not the int3/NMI hazard)' : ''}, see why.`
    : `${h.function} (${h.kind} handler, ${ctxWord}) reaches ${what} via ${sourcePath.join(' -> ')}${status === 'mitigated' ? ' (mitigated, not fixed)' : ''}`;
  return {
    ruleId,
    category: entry.category,
    message,
    severity: sev,
    status,
    handler: { function: h.function, kind: h.kind, context: h.context, mechanism: h.mechanism },
    path,
    sourcePath,
    callee,
    callSite: { function: f.name, offset: insn.secOff - f.start, section: f.section.name, sectionOffset: insn.secOff, fileOffset: f.section.offset + insn.secOff, length: insn.size },
    gfp: gfp !== null ? { value: gfp, name: gfpName(gfp), maySleep: gfpMaySleep(gfp) } : null,
    conditions,
    why: whyCtx,
    fix,
    mitigation,
  };
}

/**
 * The incident's workaround: cache_random_seq_destroy() (not exported; found through kallsyms,
 * usually by a kprobe on kallsyms_lookup_name) called on the module's cache. Evidence: the string
 * or symbol `cache_random_seq_destroy` referenced from code reachable from init_module.
 */
function findSeedFix(p: Program, assume: Assumptions, live: (f: Func) => Uint8Array, guardsAt: (f: Func, i: number) => Guard[]): Mitigation[] {
  const init = p.func('init_module');
  // Functions reachable from init_module through live call sites, with the call chain.
  const parent = new Map<Func, { from: Func; index: number } | null>();
  if (init) {
    parent.set(init, null);
    const q = [init];
    while (q.length) {
      const f = q.shift()!;
      const l = live(f);
      for (const c of f.calls) {
        if (!l[c.index] || c.target.kind !== 'local' || parent.has(c.target.fn)) continue;
        parent.set(c.target.fn, { from: f, index: c.index });
        q.push(c.target.fn);
      }
    }
  }
  const out: Mitigation[] = [];
  for (const f of p.funcs) {
    f.insns.forEach((i, k) => {
      for (const r of i.relocs) {
        const s = r.symbol;
        let hit = s.name === SEED_FIX_SYMBOL && s.shndx === 0;
        if (!hit && s.shndx !== 0 && !p.isText({ kind: 'local', shndx: s.shndx, offset: 0 })) {
          const t = p.relocTarget(r, i);
          hit = t.kind === 'local' && readCString(p.elf, t.shndx, t.offset) === SEED_FIX_SYMBOL;
        }
        if (!hit) continue;
        if (!live(f)[k] || (init && !parent.has(f))) continue;
        const conditions = guardsAt(f, k).map((g) => g.text);
        for (let cur = parent.get(f); cur; cur = parent.get(cur.from)) conditions.push(...guardsAt(cur.from, cur.index).map((g) => g.text));
        if (out.length) continue;
        out.push({
          kind: 'slab-freelist-random-disabled',
          evidence: `the module looks up ${SEED_FIX_SYMBOL}() (kallsyms) to disable freelist randomization on its slab cache`,
          site: `${f.name}+0x${(i.secOff - f.start).toString(16)}`,
          conditions: [...new Set(conditions)],
          mitigates: p.arch.seedFix.mitigates,
          doesNotMitigate: p.arch.seedFix.doesNotMitigate,
        });
      }
    });
  }
  return out;
}

// Matches crash reports against the hazard table. Input is plain data (a parsed report, and when
// the report came from a vmcore, the CPU context read from memory), so logs and dumps share it.
import type { CrashReport, Frame } from '../report-model.js';
import type { PreemptDecode } from '../preempt-count.js';
import { parseKernelRelease, versionAtLeast } from '../preempt-count.js';
import type { FrameGroup, HazardRule } from './rule-types.js';
import { HAZARD_RULES } from './table.js';

/** What memory says about the CPU that produced the report (vmcore analysis only). */
export interface MemoryContext {
  cpu: number;
  preempt: PreemptDecode;
  inKernelFpu: boolean | null;
  /** Frames unwound from memory, innermost first (when available, preferred over log frames). */
  frames?: Frame[];
  /** Where the values came from, e.g. "per-CPU __preempt_count of CPU 0". */
  source: string;
}

export interface HazardInput {
  report: CrashReport;
  memory?: MemoryContext;
}

export type Confidence = 'high' | 'medium' | 'low';

export interface HazardMatch {
  id: string;
  title: string;
  kernels: string;
  confidence: Confidence;
  confidenceWhy: string[];
  evidence: string[];
  explanation: string[];
  fix: string[];
  references: string[];
}

/** Compiler-generated suffixes that do not change which function it is. */
export function baseFunctionName(name: string): string {
  return name.replace(/(\.(constprop|isra|part|cold|llvm|lto_priv|localalias)(\.\d+)?)+$/g, '').replace(/\.\d+$/, '');
}

function nameMatches(pattern: string, name: string): boolean {
  const base = baseFunctionName(name);
  if (pattern.endsWith('*')) {
    const p = pattern.slice(0, -1);
    return base.startsWith(p) || name.startsWith(p);
  }
  return base === pattern || name === pattern;
}

function groupMatches(group: FrameGroup, f: Frame): boolean {
  return f.function !== null && group.any.some((p) => nameMatches(p, f.function as string));
}

function describe(f: Frame): string {
  const fn = f.function ?? f.address ?? '?';
  const off = f.offset !== null ? `+0x${f.offset.toString(16)}${f.size !== null ? `/0x${f.size.toString(16)}` : ''}` : '';
  return `${f.unreliable ? '? ' : ''}${fn}${off}${f.module ? ` [${f.module}]` : ''}`;
}

/** Frames used for matching: the faulting RIP first (it is not always in the trace), then the trace. */
function framesOf(input: HazardInput): { frames: Frame[]; source: string } {
  if (input.memory?.frames && input.memory.frames.length > 0) return { frames: input.memory.frames, source: 'stack unwound from memory' };
  const r = input.report;
  const frames = r.rip && r.rip.function && !r.frames.some((f) => f.function === r.rip?.function && !f.unreliable) ? [r.rip, ...r.frames] : r.frames;
  return { frames, source: 'call trace in the log' };
}

interface OrderResult { ok: boolean; hits: Frame[]; usedUnreliable: boolean }

function findInOrder(groups: FrameGroup[], frames: Frame[], allowUnreliable: boolean): OrderResult {
  const hits: Frame[] = [];
  let i = 0;
  let usedUnreliable = false;
  for (const g of groups) {
    let found = -1;
    for (let j = i; j < frames.length; j++) {
      if (!allowUnreliable && frames[j].unreliable) continue;
      if (groupMatches(g, frames[j])) {
        found = j;
        break;
      }
    }
    if (found < 0) return { ok: false, hits, usedUnreliable };
    if (frames[found].unreliable) usedUnreliable = true;
    hits.push(frames[found]);
    i = found + 1;
  }
  return { ok: true, hits, usedUnreliable };
}

const INT3_FRAMES = ['exc_int3', 'do_int3', 'asm_exc_int3', 'kprobe_int3_handler', 'kprobe_post_process', 'aggr_post_handler'];
const NMI_FRAMES = [...INT3_FRAMES, 'nmi_handle', 'default_do_nmi', 'exc_nmi', 'asm_exc_nmi', 'do_nmi'];
// arm64 BRK kprobe dispatch (docs/arm64-kprobe-context.md): the break hooks of
// arch/arm64/kernel/probes/kprobes.c, 6.1 kprobe_breakpoint_handler()/kprobe_breakpoint_ss_handler()
// (registered break_hooks), 6.17+ kprobe_brk_handler()/kprobe_ss_brk_handler()/
// kretprobe_brk_handler() (called from debug-monitors.c call_el1_break_hook()).
const BRK_KPROBE_FRAMES = ['kprobe_breakpoint_handler', 'kprobe_breakpoint_ss_handler', 'kprobe_brk_handler', 'kprobe_ss_brk_handler', 'kretprobe_brk_handler'];
// The arm64 debug-exception entry around them; kprobe_handler() alone (a static function several
// architectures have) counts only next to one of these.
const ARM64_DBG_ENTRY_FRAMES = ['el1_dbg', 'el1_brk64', 'do_el1_brk64', 'do_debug_exception', 'brk_handler', 'call_break_hook', 'call_el1_break_hook'];

/** The architecture the report is from: the dump's when there is one, else what the log showed. */
export function reportArch(input: HazardInput): string | null {
  return input.memory?.preempt.arch ?? input.report.arch ?? null;
}

interface ContextResult { ok: boolean; evidence: string[]; fromMemory: boolean; contradiction?: string }

function checkContext(need: string, input: HazardInput, frames: Frame[]): ContextResult {
  const evidence: string[] = [];
  const int3 = frames.filter((f) => f.function && INT3_FRAMES.includes(baseFunctionName(f.function)) && !f.unreliable);
  const nmiFrames = frames.filter((f) => (f.function && NMI_FRAMES.includes(baseFunctionName(f.function)) && !f.unreliable) || f.context === 'NMI');
  const mem = input.memory;
  let fromMemory = false;
  let contradiction: string | undefined;
  if (mem && need !== 'brk-kprobe') {
    const p = mem.preempt.predicates;
    const line = `${mem.source} = ${mem.preempt.value} (${mem.preempt.summary})`;
    if ((need === 'nmi' || need === 'int3-kprobe') && p.inNmi) {
      evidence.push(`memory: ${line}: in_nmi() is true`);
      fromMemory = true;
    } else if (need === 'atomic' && p.inAtomic) {
      evidence.push(`memory: ${line}: in_atomic() is true`);
      fromMemory = true;
    } else if (need === 'hardirq' && p.inHardirq) {
      evidence.push(`memory: ${line}: in_hardirq() is true`);
      fromMemory = true;
    } else {
      contradiction = `memory: ${line} does not show the expected ${need} context`;
    }
    if (mem.inKernelFpu !== null) evidence.push(`memory: in_kernel_fpu on CPU ${mem.cpu} = ${mem.inKernelFpu ? 1 : 0}${mem.inKernelFpu ? ' (FPU already in use)' : ' (FPU not in use: the refusal came from the context, not from nesting)'}`);
  }
  if (need === 'brk-kprobe') {
    const named = (list: string[]) => frames.filter((f) => f.function && list.includes(baseFunctionName(f.function)) && !f.unreliable);
    const dispatch = named(BRK_KPROBE_FRAMES);
    const entry = named(ARM64_DBG_ENTRY_FRAMES);
    const generic = entry.length ? named(['kprobe_handler']) : [];
    const brk = [...dispatch, ...generic, ...entry];
    if (brk.length) evidence.push(`trace: entered through an arm64 BRK exception: ${brk.map((f) => f.function).join(', ')} (IRQs masked; arm64_enter_el1_dbg() does not call __nmi_enter(), so in_nmi() is false)`);
    // Memory cannot show the BRK; it can show that the context is the one the rule describes (no
    // NMI bits). NMI bits mean the BRK hit inside an NMI handler (pseudo-NMI, SDEI, SError).
    let consistent = false;
    if (mem) {
      const p = mem.preempt.predicates;
      const line = `${mem.source} = ${mem.preempt.value} (${mem.preempt.summary})`;
      if (p.inNmi) contradiction = `memory: ${line}: in_nmi() is true, so this BRK was taken inside an NMI-like handler and the NMI rules apply as well`;
      else {
        evidence.push(`memory: ${line}: in_nmi() false, as expected in an arm64 BRK handler`);
        consistent = true;
      }
      if (mem.inKernelFpu !== null) evidence.push(`memory: fpsimd_context_busy on CPU ${mem.cpu} = ${mem.inKernelFpu ? 1 : 0}`);
    }
    return { ok: dispatch.length > 0 || generic.length > 0, evidence, fromMemory: consistent, contradiction };
  }
  if (need === 'int3-kprobe') {
    if (int3.length) evidence.push(`trace: entered through int3: ${int3.map((f) => f.function).join(' <- ')} (kernel-mode int3 runs under irqentry_nmi_enter)`);
    return { ok: int3.length > 0 || fromMemory, evidence, fromMemory, contradiction };
  }
  if (need === 'nmi') {
    if (nmiFrames.length) evidence.push(`trace: NMI entry frames: ${nmiFrames.map((f) => f.function ?? f.address).join(' <- ')}`);
    return { ok: nmiFrames.length > 0 || fromMemory, evidence, fromMemory, contradiction };
  }
  return { ok: fromMemory, evidence, fromMemory, contradiction };
}

function kernelInRange(rule: HazardRule, release: string | null): string | null {
  if (!release) return null;
  const v = parseKernelRelease(release);
  if (!v) return null;
  const { min, max } = rule.kernels;
  if (min && !versionAtLeast(v, min[0], min[1])) return `kernel ${release} is older than the rule's range (${rule.kernels.text})`;
  if (max && versionAtLeast(v, max[0], max[1] + 1)) return `kernel ${release} is newer than the rule's range (${rule.kernels.text})`;
  return null;
}

function matchRule(rule: HazardRule, input: HazardInput): HazardMatch | null {
  const r = input.report;
  const m = rule.match;
  const evidence: string[] = [];
  const why: string[] = [];
  let score = 2; // 2 high, 1 medium, 0 low

  // A report of unknown architecture is matched only by rules that apply to x86 (what every report
  // was taken for before rules had an architecture): arm64 logs name themselves (pc : line, entry
  // frames), so an arm64-only rule needs that.
  const arch = reportArch(input);
  if (rule.arch && !(rule.arch as string[]).includes(arch ?? 'x86_64')) return null;
  if (m.kinds && !m.kinds.includes(r.kind)) return null;
  if (m.headline) {
    const hit = m.headline.find((re) => re.test(r.headline) || re.test(r.title));
    if (!hit) return null;
    evidence.push(`report: "${r.headline}"`);
  }
  if (m.location) {
    if (!r.location || !m.location.test(r.location)) return null;
    evidence.push(`WARN/BUG location: ${r.location}`);
  }
  const { frames, source } = framesOf(input);
  if (m.framesInOrder) {
    let res = findInOrder(m.framesInOrder, frames, false);
    if (!res.ok) res = findInOrder(m.framesInOrder, frames, true);
    if (!res.ok) return null;
    evidence.push(`${source}, innermost first: ${res.hits.map((f, i) => `${m.framesInOrder?.[i].label}: ${describe(f)}`).join(' <- ')}`);
    if (res.usedUnreliable) {
      score = Math.min(score, 0);
      why.push('some frames matched only as unreliable (`?`) entries');
    }
  }
  if (m.framesAnywhere) {
    for (const g of m.framesAnywhere) {
      const f = frames.find((x) => groupMatches(g, x) && !x.unreliable) ?? frames.find((x) => groupMatches(g, x));
      if (!f) return null;
      evidence.push(`${g.label}: ${describe(f)}`);
      if (f.unreliable) {
        score = Math.min(score, 0);
        why.push(`${g.label} seen only as an unreliable frame`);
      }
    }
  }
  if (m.context) {
    const c = checkContext(m.context, input, frames);
    if (!c.ok) return null;
    evidence.push(...c.evidence);
    if (c.contradiction) {
      score = Math.min(score, 0);
      why.push(c.contradiction);
    } else if (c.fromMemory) {
      why.push('the CPU context read from memory confirms what the frames show');
    } else {
      score = Math.min(score, 1);
      why.push('context inferred from the frames only (no memory evidence: a console log)');
    }
  } else if (!input.memory) {
    score = Math.min(score, 1);
    why.push('matched on the log text and frames only');
  }
  // Rules of other architectures than x86 say which architecture they were matched for (x86
  // output stays as it was before rules had an architecture).
  if (rule.arch && !rule.arch.includes('x86_64')) evidence.push(`architecture: ${arch} (${input.memory ? 'the dump' : 'the log'})`);
  const range = kernelInRange(rule, r.kernelRelease);
  if (range) {
    score = Math.min(score, 0);
    why.push(range);
  } else if (r.kernelRelease) {
    why.push(`kernel ${r.kernelRelease} is within the rule's range`);
  }
  if (r.corrupted) {
    score = Math.min(score, 0);
    why.push('the report is damaged (interleaved or cut off)');
  }
  const modFrames = frames.filter((f) => f.module && !f.unreliable);
  if (modFrames.length) evidence.push(`module code on the path: ${[...new Set(modFrames.map(describe))].join(', ')}`);
  if (score === 2 && why.length === 0) why.push('all evidence present');
  return {
    id: rule.id,
    title: rule.title,
    kernels: rule.kernels.text,
    confidence: score === 2 ? 'high' : score === 1 ? 'medium' : 'low',
    confidenceWhy: why,
    evidence,
    explanation: rule.explanation,
    fix: rule.fix,
    references: rule.references,
  };
}

export function matchHazards(input: HazardInput, rules: HazardRule[] = HAZARD_RULES): HazardMatch[] {
  const matched = new Map<string, HazardMatch>();
  for (const rule of rules) {
    const hit = matchRule(rule, input);
    if (hit) matched.set(rule.id, hit);
  }
  return rules
    .filter((r) => matched.has(r.id) && !(r.supersededBy ?? []).some((id) => matched.has(id)))
    .map((r) => matched.get(r.id) as HazardMatch);
}

// The ORC unwinder, following arch/x86/kernel/unwind_orc.c (unwind_next_frame) step by step, on
// the dump's memory: start from a CPU's saved registers, look up the ORC entry of each ip
// (ip - 1 for return addresses), compute the caller's sp/bp, and follow pt_regs (ORC_TYPE_REGS)
// and iret frames (ORC_TYPE_REGS_PARTIAL) through exception entries and stack switches. When ORC
// has no answer, frame scanning (scan.ts) takes over and its frames are marked unreliable.

import { PagedMemory } from './memory.js';
import {
  KernelOrc,
  ORC_REG_BP,
  ORC_REG_BP_INDIRECT,
  ORC_REG_DI,
  ORC_REG_DX,
  ORC_REG_PREV_SP,
  ORC_REG_R10,
  ORC_REG_R13,
  ORC_REG_SP,
  ORC_REG_SP_INDIRECT,
  ORC_REG_UNDEFINED,
  ORC_REG_AX,
  ORC_ENTRY_SIZE,
  ORC_FORMATS,
  ORC_HEADER_SIZE,
  OrcFormatError,
  isTerminal,
  orcVersionForRelease,
  orcVersionFromEntries,
  orcVersionFromHeader,
  type OrcLookupResult,
  type OrcVersion,
} from './orc.js';
import { ModuleSet, readModules } from './modules.js';
import { precededByCall, scanForReturn } from './scan.js';
import { prologueFrameSize } from './prologue.js';
import { mapKprobeSlot, readKprobeSlots, type KprobeSlot } from './kprobes.js';
import { CpuStacks, taskStackRegion, type StackContext } from './stacks.js';
// The ORC unwinder is x86_64's: its stacks are x86_64's.
import { exceptionStackRegions, irqStackRegion } from '../arch/x86_64/stacks.js';
import type {
  Backtrace,
  ExceptionInfo,
  Frame,
  RegisterSet,
  StackKind,
  StackRegion,
  SymbolInfo,
  UnwindCpuInput,
  UnwindMemory,
  UnwindSymbols,
  UnwindTypes,
  UnwinderStatus,
} from './types.js';
import { onlyDumpData } from '../../util/errors.js';

/** x86_64 struct pt_regs, in order (8 bytes each). */
export const PT_REGS = ['r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di', 'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss'] as const;
export type PtRegName = (typeof PT_REGS)[number];
const PT_REGS_SIZE = PT_REGS.length * 8;
const IRET_FRAME_OFFSET = 16 * 8;
const IRET_FRAME_SIZE = 5 * 8;

export const MAX_FRAMES = 256;

/** Functions a CPU sits in after kdump saved its registers (see Unwinder.findDeeperStart). */
export const STOP_FUNCTIONS = new Set(['machine_kexec', 'crash_nmi_callback']);

/** crash's exception_functions_5_8 (x86_64.c): entries whose pt_regs crash prints as an eframe. */
export const CRASH_EXCEPTION_FUNCTIONS = new Set([
  'asm_exc_invalid_tss', 'asm_exc_segment_not_present', 'asm_exc_alignment_check', 'asm_exc_general_protection',
  'asm_exc_page_fault', 'asm_exc_divide_error', 'asm_exc_overflow', 'asm_exc_bounds', 'asm_exc_invalid_op',
  'asm_exc_device_not_available', 'asm_exc_coproc_segment_overrun', 'asm_exc_spurious_interrupt_bug',
  'asm_exc_coprocessor_error', 'asm_exc_simd_coprocessor_error', 'asm_exc_debug', 'xen_asm_exc_stack_segment',
  'xen_asm_exc_xen_hypervisor_callback', 'xen_asm_exc_int3',
  // pre-5.8 names
  'invalid_TSS', 'segment_not_present', 'alignment_check', 'xen_stack_segment', 'general_protection', 'page_fault',
  'divide_error', 'overflow', 'bounds', 'invalid_op', 'device_not_available', 'coprocessor_segment_overrun',
  'spurious_interrupt_bug', 'coprocessor_error', 'simd_coprocessor_error', 'xen_hypervisor_callback', 'xen_debug',
  'xen_int3', 'async_page_fault',
]);

export interface UnwinderInput {
  memory: UnwindMemory;
  symbols: UnwindSymbols;
  types?: UnwindTypes;
  /** OSRELEASE (decides the ORC entry layout). */
  release: string;
  cpus: UnwindCpuInput[];
  /** Task identity for headers (pid/comm), when the caller knows it. */
  describeTask?(task: bigint): { pid?: number; comm?: string } | undefined;
}

export interface UnwindOptions {
  maxFrames?: number;
  /** Scan the stack when ORC fails (default true). */
  scan?: boolean;
  /** Look below the saved registers for kdump's machine_kexec / crash_nmi_callback frames (default true). */
  deeperStart?: boolean;
}

/** One unwinder state, as the kernel's struct unwind_state holds it after each step. */
export interface UnwindStep {
  ip: bigint;
  sp: bigint;
  bp: bigint;
  /** How this state was reached from the previous one. */
  via: 'start' | 'call' | 'regs' | 'regs_partial' | 'prologue' | 'fp' | 'scan';
  /** For 'call', 'prologue', 'fp' and 'scan': the stack slot the return address was read from. */
  slot?: bigint;
  /** For 'regs'/'regs_partial' (and 'start'): the registers of the interrupted context. */
  regs?: RegisterSet;
  regsAddress?: bigint;
  stack: StackKind;
  reliable: boolean;
  /** How the step was found when not from ORC. */
  note?: string;
}

/** Normalise NT_PRSTATUS register names (user_regs_struct: ip/rip, flags/eflags...). */
export function normalizeRegs(r: RegisterSet): Record<PtRegName, bigint> {
  const pick = (...names: string[]): bigint => {
    for (const n of names) if (r[n] !== undefined) return r[n];
    return 0n;
  };
  return {
    r15: pick('r15'), r14: pick('r14'), r13: pick('r13'), r12: pick('r12'),
    bp: pick('bp', 'rbp'), bx: pick('bx', 'rbx'), r11: pick('r11'), r10: pick('r10'), r9: pick('r9'), r8: pick('r8'),
    ax: pick('ax', 'rax'), cx: pick('cx', 'rcx'), dx: pick('dx', 'rdx'), si: pick('si', 'rsi'), di: pick('di', 'rdi'),
    orig_ax: pick('orig_ax', 'orig_rax'), ip: pick('ip', 'rip'), cs: pick('cs'), flags: pick('flags', 'eflags', 'rflags'),
    sp: pick('sp', 'rsp'), ss: pick('ss'),
  };
}

export function decodePtRegs(buf: Buffer, partial: boolean): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  PT_REGS.forEach((n, i) => {
    if (partial && i < 16) return;
    out[n] = buf.readBigUInt64LE(partial ? (i - 16) * 8 : i * 8);
  });
  return out;
}

export interface WalkResult {
  steps: UnwindStep[];
  stopped: string;
  usedFallback: boolean;
  warnings: string[];
  /** Set when the walk was extended below the saved registers (see findDeeperStart). */
  deeperStart?: string;
}

interface State {
  ip: bigint;
  sp: bigint;
  bp: bigint;
  /** Registers of the current state's pt_regs (full or iret-only). */
  regs: Record<string, bigint> | null;
  fullRegs: boolean;
  prevRegs: Record<string, bigint> | null;
  signal: boolean;
  region: StackRegion | undefined;
}

export class Unwinder {
  readonly mem: PagedMemory;
  readonly version: OrcVersion | null;
  /** How the ORC format was chosen (.orc_header hash, release, table entries). */
  readonly formatEvidence: string | null;
  /** The format was chosen without a known .orc_header hash where one should have named it. */
  readonly formatFallback: boolean;
  /** Why vmlinux's ORC tables cannot be used (null when they are). */
  readonly orcUnusable: string | null = null;
  /** The kernel was built with ORC (so a frame-pointer walk is only a guess on it). */
  readonly hasOrcSymbols: boolean;
  readonly kernelOrc: KernelOrc | null;
  readonly modules: ModuleSet;
  readonly problems: string[] = [];
  private readonly stext?: bigint;
  private readonly etext?: bigint;
  private readonly sinittext?: bigint;
  private readonly einittext?: bigint;

  constructor(private readonly input: UnwinderInput) {
    this.mem = input.memory instanceof PagedMemory ? input.memory : new PagedMemory(input.memory);
    const s = input.symbols;
    this.stext = s.lookup('_stext');
    this.etext = s.lookup('_etext');
    this.sinittext = s.lookup('_sinittext');
    this.einittext = s.lookup('_einittext');
    const fmt = this.detectOrcFormat(s, input.release);
    const version = fmt.version;
    this.version = version;
    this.formatEvidence = fmt.evidence;
    this.formatFallback = fmt.fallback;
    this.problems.push(...fmt.problems);
    this.hasOrcSymbols = s.lookup('__start_orc_unwind_ip') !== undefined;
    let korc: KernelOrc | null = null;
    if (version !== null) {
      const startIp = s.lookup('__start_orc_unwind_ip');
      const stopIp = s.lookup('__stop_orc_unwind_ip');
      const start = s.lookup('__start_orc_unwind');
      if (startIp !== undefined && stopIp !== undefined && start !== undefined) {
        try {
          korc = new KernelOrc(this.mem, {
            startOrcUnwindIp: startIp,
            stopOrcUnwindIp: stopIp,
            startOrcUnwind: start,
            stopOrcUnwind: s.lookup('__stop_orc_unwind'),
            orcLookup: s.lookup('orc_lookup'),
            orcLookupEnd: s.lookup('orc_lookup_end'),
            stext: this.stext,
            etext: this.etext,
            lookupNumBlocks: s.lookup('lookup_num_blocks'),
          }, version);
        } catch (e) {
          onlyDumpData(e);
          this.orcUnusable = e instanceof OrcFormatError ? e.message : `ORC tables unreadable: ${e.message}`;
        }
      } else {
        this.orcUnusable = 'no ORC tables (__start_orc_unwind_ip not in the symbols)';
      }
    } else {
      this.orcUnusable = fmt.why ?? 'ORC format unknown';
    }
    if (this.orcUnusable) this.problems.push(this.orcUnusable);
    this.kernelOrc = korc;
    const mods = readModules(this.mem, s, input.types, version);
    if (mods.problem) this.problems.push(mods.problem);
    this.modules = new ModuleSet(this.mem, mods.modules);
    const ptRegsSize = input.types?.sizeOf('pt_regs');
    if (ptRegsSize !== undefined && ptRegsSize !== PT_REGS_SIZE) this.problems.push(`BTF says struct pt_regs is ${ptRegsSize} bytes, not the x86_64 ${PT_REGS_SIZE}`);
    const kp = readKprobeSlots(this.mem, s, input.types);
    if (kp.problem) this.problems.push(kp.problem);
    this.kprobeSlots = kp.slots;
  }

  readonly kprobeSlots: KprobeSlot[];

  /**
   * The ORC format: the .orc_header hash when it is a known one; else the table's own entries when
   * they are conclusive (backports make the release lie: RHEL 9 carries v3 in 5.14); else the
   * release. Anything but a known hash is reported as a fallback.
   */
  private detectOrcFormat(s: UnwindSymbols, release: string): { version: OrcVersion | null; evidence: string | null; fallback: boolean; problems: string[]; why?: string } {
    const problems: string[] = [];
    const fromData = this.sampleOrcVersion(s);
    const headerAt = s.lookup('__start_orc_header') ?? s.lookup('orc_header');
    let unknownHash: string | null = null;
    if (headerAt !== undefined) {
      let header: Buffer | null = null;
      try {
        header = this.mem.read(headerAt, ORC_HEADER_SIZE);
      } catch (e) {
        onlyDumpData(e);
        problems.push(`.orc_header at 0x${headerAt.toString(16)} unreadable (${e.message})`);
      }
      if (header) {
        const h = orcVersionFromHeader(header);
        if (h.version !== null) {
          if (fromData !== null && fromData !== h.version) problems.push(`ORC entries look like v${fromData}, but .orc_header names v${h.version}: using v${h.version}`);
          return { version: h.version, evidence: `.orc_header hash ${h.hash} (${h.kernels})`, fallback: false, problems };
        }
        unknownHash = h.hash;
      }
    }
    const why = headerAt === undefined ? 'no .orc_header (kernel before 6.4, or a backport without it)' : unknownHash ? `.orc_header hash ${unknownHash} is not one ktriage knows` : '.orc_header unreadable';
    let fromRelease: OrcVersion | null = null;
    let releaseProblem: string | null = null;
    try {
      fromRelease = orcVersionForRelease(release);
    } catch (e) {
      onlyDumpData(e);
      releaseProblem = e.message;
    }
    // Before 6.4 no kernel has .orc_header and the release is the ordinary way to tell; from 6.4
    // on (or with a header we cannot read) any choice is a fallback, and reports say so.
    const fallbackFor = (v: OrcVersion) => headerAt !== undefined || v >= 3;
    if (fromData !== null) {
      if (fromRelease !== null && fromRelease !== fromData) problems.push(`ORC format: release ${release} suggests v${fromRelease}, the table's entries say v${fromData}: using v${fromData}`);
      return { version: fromData, evidence: `the ORC table's entries (${why}; release ${release || '?'})`, fallback: fallbackFor(fromData), problems };
    }
    if (fromRelease !== null) {
      return { version: fromRelease, evidence: `kernel release ${release} (${why})`, fallback: fallbackFor(fromRelease), problems };
    }
    const reason = releaseProblem ?? `cannot tell the ORC format (${why})`;
    return { version: null, evidence: null, fallback: true, problems, why: reason };
  }

  /** ORC flag words from two pages of .orc_unwind (see orcVersionFromEntries). */
  private sampleOrcVersion(s: UnwindSymbols): OrcVersion | null {
    const start = s.lookup('__start_orc_unwind');
    const ipStart = s.lookup('__start_orc_unwind_ip');
    const ipStop = s.lookup('__stop_orc_unwind_ip');
    if (start === undefined || ipStart === undefined || ipStop === undefined || ipStop <= ipStart) return null;
    const n = Number((ipStop - ipStart) / 4n);
    const flags: number[] = [];
    for (const first of [0, Math.max(600, Math.floor(n / 2))]) {
      const count = Math.min(600, n - first);
      if (count <= 0) continue;
      try {
        const buf = this.mem.read(start + BigInt(first * ORC_ENTRY_SIZE), count * ORC_ENTRY_SIZE);
        for (let i = 0; i < count; i++) flags.push(buf.readUInt16LE(i * ORC_ENTRY_SIZE + 4));
      } catch (e) {
        onlyDumpData(e);
        // unreadable: rely on the header or the release
      }
    }
    return orcVersionFromEntries(flags);
  }

  /** Which unwinder the traces come from, and why not ORC when it is not (for reports' first lines). */
  status(): UnwinderStatus {
    const method = this.kernelOrc ? 'orc' : this.hasOrcSymbols ? 'stack-scan' : 'frame-pointer';
    return {
      method,
      orcFormat: this.version !== null ? ORC_FORMATS[this.version] : null,
      formatEvidence: this.formatEvidence,
      formatFallback: this.formatFallback,
      orcUnusable: this.orcUnusable,
      problems: [...this.problems],
    };
  }

  /** An address in a kprobe single-step slot stands for the probed instruction. */
  resolveIp(ip: bigint): { ip: bigint; note?: string } {
    if (this.modules.find(ip) || this.input.symbols.symbolize(ip)) return { ip };
    const m = mapKprobeSlot(this.kprobeSlots, ip);
    if (!m) return { ip };
    return { ip: m.ip, note: `single-stepping kprobe ${this.describe(m.slot.addr)}: ${ip.toString(16)} is in its instruction slot` };
  }

  symbolize(addr: bigint): SymbolInfo | null {
    return this.modules.symbolize(addr) ?? this.input.symbols.symbolize(addr);
  }

  isKernelText(addr: bigint): boolean {
    if (this.stext !== undefined && this.etext !== undefined && addr >= this.stext && addr < this.etext) return true;
    if (this.sinittext !== undefined && this.einittext !== undefined && addr >= this.sinittext && addr < this.einittext) return true;
    const m = this.modules.find(addr);
    if (m) return addr < m.base + m.textSize;
    if (this.stext === undefined) return this.input.symbols.symbolize(addr) !== null;
    return false;
  }

  /** A direct call's target: kernel or module text (thunks and functions alike). */
  readonly isCallTarget = (a: bigint): boolean => this.isKernelText(a);

  /** orc_find() */
  orcFind(ip: bigint): OrcLookupResult | null {
    const m = this.modules.find(ip);
    if (m) return m.orc ? m.orc.find(ip) : null;
    return this.kernelOrc ? this.kernelOrc.find(ip) : null;
  }

  private perCpuAddress(cpu: number, symbol: string): bigint | undefined {
    const c = this.input.cpus.find((x) => x.cpu === cpu);
    const off = this.input.symbols.lookup(symbol);
    if (!c || c.perCpuOffset === undefined || off === undefined) return undefined;
    return c.perCpuOffset + off;
  }

  cpuStacks(cpu: number): CpuStacks {
    const c = this.input.cpus.find((x) => x.cpu === cpu);
    const ctx: StackContext = { mem: this.mem, syms: this.input.symbols, types: this.input.types, perCpuAddress: (n, s) => this.perCpuAddress(n, s) };
    const regions: StackRegion[] = [];
    const t = taskStackRegion(ctx, c?.task);
    if (t) {
      // THREAD_SIZE is 16 KiB, 32 KiB with KASAN: believe the saved sp when it is in the upper half.
      const sp = c ? normalizeRegs(c.regs).sp : 0n;
      if (sp >= t.end && sp < t.begin + 2n * (t.end - t.begin)) t.end = t.begin + 2n * (t.end - t.begin);
      regions.push(t);
    }
    const irq = irqStackRegion(ctx, cpu);
    if (irq) regions.push(irq);
    regions.push(...exceptionStackRegions(ctx, cpu));
    // No task_struct.stack (a kernel without BTF): task stacks are THREAD_SIZE-aligned
    // (alloc_thread_stack_node() asks for THREAD_ALIGN), so the first kernel address on none of
    // the per-CPU stacks, the saved sp or the one the IRQ stack's top points back to, names it.
    return new CpuStacks(regions, !t);
  }

  /** The raw ORC walk for one CPU, from its NT_PRSTATUS registers. */
  async walk(cpu: number, opts: UnwindOptions = {}): Promise<WalkResult> {
    const c = this.input.cpus.find((x) => x.cpu === cpu);
    if (!c) throw new Error(`no registers for CPU ${cpu}`);
    const regs = normalizeRegs(c.regs);
    if (regs.ip === 0n && regs.sp === 0n) return { steps: [], stopped: 'no registers were saved for this CPU', usedFallback: false, warnings: [] };
    const stacks = this.cpuStacks(cpu);
    const main = await this.walkFrom(regs, stacks, opts);
    if (opts.deeperStart === false) return main;
    return (await this.findDeeperStart(regs, main, stacks, opts)) ?? main;
  }

  /**
   * kdump saves a CPU's registers before the CPU stops: the panic CPU's in __crash_kexec
   * (crash_setup_regs) just before it calls machine_kexec, every other CPU's from the NMI's pt_regs
   * in crash_nmi_callback (the interrupted context, not the NMI handler). crash therefore starts
   * such traces at a stack word pointing into machine_kexec or crash_nmi_callback
   * (x86_64_get_dumpfile_stack_frame). We do the same, but accept a candidate only when the ORC
   * walk from it joins the walk from the saved registers (same ip and sp), so a stale word cannot
   * invent frames.
   */
  async findDeeperStart(regs: Record<PtRegName, bigint>, main: WalkResult, stacks: CpuStacks, opts: UnwindOptions): Promise<WalkResult | null> {
    if (main.steps.some((s) => STOP_FUNCTIONS.has(this.symbolize(s.ip)?.name ?? ''))) return null;
    const areas: { from: bigint; to: bigint }[] = [];
    const startRegion = stacks.find(regs.sp);
    const below = regs.sp - 4096n;
    areas.push({ from: startRegion && startRegion.begin > below ? startRegion.begin : below, to: regs.sp });
    for (const r of stacks.regions) if (r.kind === 'nmi' && r !== startRegion) areas.push({ from: r.begin, to: r.end });
    const key = (s: UnwindStep) => `${s.ip}:${s.sp}`;
    const mainIndex = new Map<string, number>();
    main.steps.forEach((s, i) => { if (!mainIndex.has(key(s))) mainIndex.set(key(s), i); });
    for (const area of areas) {
      // nearest the top first: the live frame is above any stale copy
      for (let slot = (area.to - 8n) & ~7n; slot >= area.from; slot -= 8n) {
        const v = this.mem.tryU64(slot);
        if (v === undefined) break;
        const sym = this.symbolize(v);
        if (!sym || !STOP_FUNCTIONS.has(sym.name) || sym.offset === 0n) continue;
        if (!(await precededByCall(this.mem, v, this.isCallTarget))) continue;
        const deeper = await this.walkFromSlot(slot, v, stacks, { ...opts, scan: false, maxFrames: 64 });
        for (let k = 1; k < deeper.steps.length; k++) {
          const m = mainIndex.get(key(deeper.steps[k]));
          if (m === undefined) continue;
          const steps = [...deeper.steps.slice(0, k + 1), ...main.steps.slice(m + 1)];
          return {
            steps,
            stopped: main.stopped,
            usedFallback: steps.some((s) => !s.reliable),
            warnings: steps.filter((s) => s.note).map((s) => s.note as string),
            deeperStart: `started at ${sym.name}+0x${sym.offset.toString(16)} found at ${slot.toString(16)} (joins the saved registers' walk at ${this.describe(deeper.steps[k].ip)})`,
          };
        }
      }
    }
    return null;
  }

  async walkFrom(startRegs: Record<PtRegName, bigint>, stacks: CpuStacks, opts: UnwindOptions = {}): Promise<WalkResult> {
    const region = stacks.find(startRegs.sp);
    const st: State = { ip: startRegs.ip, sp: startRegs.sp, bp: startRegs.bp, regs: { ...startRegs }, fullRegs: true, prevRegs: null, signal: true, region };
    const first: UnwindStep = { ip: st.ip, sp: st.sp, bp: st.bp, via: 'start', regs: { ...startRegs }, stack: region?.kind ?? 'unknown', reliable: true };
    return this.walkState(st, first, stacks, opts);
  }

  /** Walk from a return address found at `slot` (as if a callee had just returned to it). */
  async walkFromSlot(slot: bigint, ret: bigint, stacks: CpuStacks, opts: UnwindOptions = {}): Promise<WalkResult> {
    const region = stacks.find(slot);
    const st: State = { ip: ret, sp: slot + 8n, bp: 0n, regs: null, fullRegs: false, prevRegs: null, signal: false, region };
    const first: UnwindStep = { ip: ret, sp: slot + 8n, bp: 0n, via: 'call', slot, stack: region?.kind ?? 'unknown', reliable: true };
    return this.walkState(st, first, stacks, opts);
  }

  private async walkState(st: State, first: UnwindStep, stacks: CpuStacks, opts: UnwindOptions): Promise<WalkResult> {
    const maxFrames = opts.maxFrames ?? MAX_FRAMES;
    const scan = opts.scan ?? true;
    const warnings: string[] = [];
    let usedFallback = false;
    const steps: UnwindStep[] = [first];
    const visited = new Set<string>();
    let stopped = 'end';

    // deref_stack_reg(): read a word that must lie on a known stack (when stacks are known).
    const onStack = (addr: bigint, len: number): StackRegion | undefined | false => {
      if (!stacks.known) return undefined;
      const r = stacks.contains(addr, len);
      return r ?? false;
    };
    const derefWord = (addr: bigint): bigint | null => {
      if (onStack(addr, 8) === false) return null;
      return this.mem.tryU64(addr) ?? null;
    };
    const getReg = (name: PtRegName): bigint | null => {
      if (!st.regs) return null;
      if (st.fullRegs) return st.regs[name] ?? null;
      if (st.prevRegs) return st.prevRegs[name] ?? null;
      return null;
    };

    while (steps.length < maxFrames) {
      if (st.regs && st.regs.cs !== undefined && (st.regs.cs & 3n) !== 0n) break; // user mode: the end
      const key = `${st.ip}:${st.sp}`;
      if (visited.has(key)) {
        stopped = 'loop detected';
        break;
      }
      visited.add(key);

      const prevSp = st.sp;
      const prevKind = st.region?.kind;
      const err = (why: string): string => `${why} at ${this.describe(st.ip)}`;
      let failure: string | null = null;

      const lookupIp = this.resolveIp(st.ip).ip;
      const found = this.version !== null ? this.orcFind(st.signal ? lookupIp : lookupIp - 1n) : null;
      if (!found) {
        failure = err(st.ip === 0n ? 'ip is 0' : 'no ORC data');
      } else {
        const orc = found.entry;
        const term = isTerminal(orc, this.version as OrcVersion);
        if (term === 'end') break;
        if (term === 'error') {
          failure = err('ORC entry is undefined');
        } else {
          let sp: bigint | null;
          let indirect = false;
          switch (orc.spReg) {
            case ORC_REG_SP: sp = st.sp + BigInt(orc.spOffset); break;
            case ORC_REG_BP: sp = st.bp + BigInt(orc.spOffset); break;
            case ORC_REG_SP_INDIRECT: sp = st.sp; indirect = true; break;
            case ORC_REG_BP_INDIRECT: sp = st.bp + BigInt(orc.spOffset); indirect = true; break;
            case ORC_REG_R10: sp = getReg('r10'); break;
            case ORC_REG_R13: sp = getReg('r13'); break;
            case ORC_REG_DI: sp = getReg('di'); break;
            case ORC_REG_DX: sp = getReg('dx'); break;
            case ORC_REG_AX: sp = getReg('ax'); break;
            default: sp = null;
          }
          if (sp !== null && indirect) {
            sp = derefWord(sp);
            if (sp !== null && orc.spReg === ORC_REG_SP_INDIRECT) sp += BigInt(orc.spOffset);
          }
          if (sp === null) {
            failure = err(`cannot compute the previous sp (sp_reg ${orc.spReg})`);
          } else {
            sp = BigInt.asUintN(64, sp);
            let step: UnwindStep | null = null;
            if (orc.type === 'call') {
              const slot = sp - 8n;
              const ip = derefWord(slot);
              if (ip === null) failure = err('return address not on a known stack');
              else {
                st.ip = ip;
                st.sp = sp;
                st.regs = null;
                st.prevRegs = null;
                st.signal = false;
                step = { ip, sp, bp: 0n, via: 'call', slot, stack: 'unknown', reliable: true };
              }
            } else if (orc.type === 'regs') {
              const ok = onStack(sp, PT_REGS_SIZE);
              let buf: Buffer | null = null;
              if (ok !== false) {
                try {
                  buf = this.mem.read(sp, PT_REGS_SIZE);
                } catch (e) {
                  onlyDumpData(e);
                  buf = null;
                }
              }
              if (!buf) failure = err('pt_regs not on a known stack');
              else {
                const r = decodePtRegs(buf, false);
                st.ip = r.ip;
                st.sp = r.sp;
                st.regs = r;
                st.prevRegs = null;
                st.fullRegs = true;
                st.signal = this.version === 1 ? true : orc.signal;
                step = { ip: r.ip, sp: r.sp, bp: 0n, via: 'regs', regs: r, regsAddress: sp, stack: 'unknown', reliable: true };
              }
            } else if (orc.type === 'regs_partial') {
              const ok = onStack(sp, IRET_FRAME_SIZE);
              let buf: Buffer | null = null;
              if (ok !== false) {
                try {
                  buf = this.mem.read(sp, IRET_FRAME_SIZE);
                } catch (e) {
                  onlyDumpData(e);
                  buf = null;
                }
              }
              if (!buf) failure = err('iret frame not on a known stack');
              else {
                const r = decodePtRegs(buf, true);
                st.ip = r.ip;
                st.sp = r.sp;
                if (st.fullRegs && st.regs) st.prevRegs = st.regs;
                st.regs = r;
                st.fullRegs = false;
                st.signal = this.version === 1 ? true : orc.signal;
                step = { ip: r.ip, sp: r.sp, bp: 0n, via: 'regs_partial', regs: r, regsAddress: sp - BigInt(IRET_FRAME_OFFSET), stack: 'unknown', reliable: true };
              }
            } else {
              failure = err(`unexpected ORC type ${orc.type}`);
            }

            if (!failure && step) {
              // Find BP
              switch (orc.bpReg) {
                case ORC_REG_UNDEFINED: {
                  const v = getReg('bp');
                  if (v !== null) st.bp = v;
                  break;
                }
                case ORC_REG_PREV_SP: {
                  const v = derefWord(sp + BigInt(orc.bpOffset));
                  if (v === null) failure = err('saved bp not on a known stack');
                  else st.bp = v;
                  break;
                }
                case ORC_REG_BP: {
                  const v = derefWord(st.bp + BigInt(orc.bpOffset));
                  if (v === null) failure = err('saved bp not on a known stack');
                  else st.bp = v;
                  break;
                }
                default:
                  failure = err(`unknown bp_reg ${orc.bpReg}`);
              }
            }
            if (!failure && step) {
              const newRegion = stacks.find(st.sp);
              // Prevent a loop on bad ORC data: within one stack, sp must grow.
              const sameStack = newRegion ? prevKind === newRegion.kind : !stacks.known && prevSp - st.sp < 16384n;
              if (sameStack && st.sp <= prevSp) {
                failure = err('stack going in the wrong direction');
              } else {
                st.region = newRegion ?? st.region;
                step.bp = st.bp;
                step.stack = newRegion?.kind ?? 'unknown';
                if (step.via === 'call') step.stack = (stacks.find(step.slot as bigint) ?? newRegion)?.kind ?? 'unknown';
                steps.push(step);
                continue;
              }
            }
          }
        }
      }

      // No ORC data for this ip (a kernel built with frame pointers, JIT code, ...): like the
      // kernel's orc_fp_entry, try the frame-pointer rule (caller's sp = bp + 16, return address
      // at bp + 8, caller's bp at bp), accepting it only for a return address that follows a call.
      if (!found && st.bp > st.sp - 8n && onStack(st.bp, 16) !== false) {
        const ret = this.mem.tryU64(st.bp + 8n);
        const nextBp = this.mem.tryU64(st.bp);
        if (ret !== undefined && nextBp !== undefined && this.isKernelText(ret) && (await precededByCall(this.mem, ret, this.isCallTarget))) {
          const slot = st.bp + 8n;
          // The designated unwinder only on a kernel built without ORC; on one built with it
          // (even when its tables are unusable) bp holds whatever the code left there.
          const designated = !this.hasOrcSymbols;
          const note = designated ? undefined : `ORC: ${failure}; frame-pointer guess`;
          st.ip = ret;
          st.sp = slot + 8n;
          st.bp = nextBp;
          st.regs = null;
          st.prevRegs = null;
          st.signal = false;
          const r = stacks.find(slot);
          st.region = r ?? st.region;
          steps.push({ ip: ret, sp: st.sp, bp: st.bp, via: 'fp', slot, stack: r?.kind ?? 'unknown', reliable: designated, note });
          if (!designated) usedFallback = true;
          continue;
        }
      }

      // ORC could not continue. Code objtool skipped (STACK_FRAME_NON_STANDARD, e.g. __crash_kexec)
      // has "undefined" ORC: size the frame from its prologue, as crash does, and accept it only if
      // the slot holds a return address that follows a call.
      const fn = this.symbolize(st.ip);
      if (fn && this.isKernelText(st.ip)) {
        const size = await prologueFrameSize(this.mem, fn.address, st.signal ? st.ip : st.ip - 1n);
        if (size !== null) {
          const slot = st.sp + size;
          const ret = onStack(slot, 8) === false ? undefined : this.mem.tryU64(slot);
          if (ret !== undefined && this.isKernelText(ret) && (await precededByCall(this.mem, ret, this.isCallTarget))) {
            const note = `ORC: ${failure}; frame sized from the prologue of ${fn.name}`;
            st.ip = ret;
            st.sp = slot + 8n;
            st.regs = null;
            st.prevRegs = null;
            st.signal = false;
            const r = stacks.find(slot);
            st.region = r ?? st.region;
            // Trusted only as ORC's complement for code objtool skipped: with no usable ORC every
            // frame would be sized this way, and a wrong size lands on a stale return address.
            const trusted = this.kernelOrc !== null;
            steps.push({ ip: ret, sp: st.sp, bp: st.bp, via: 'prologue', slot, stack: r?.kind ?? 'unknown', reliable: trusted, note });
            if (!trusted) usedFallback = true;
            continue;
          }
        }
      }
      const region = st.region ?? stacks.find(st.sp);
      const end = region ? region.end : st.sp + 16384n;
      const hit = scan ? await scanForReturn(this.mem, st.sp, end, (a) => this.isKernelText(a), 2048, this.isCallTarget) : null;
      if (!hit) {
        // Nothing left between sp and the top of the task stack but the user-mode pt_regs a
        // syscall or user-mode exception saved there: the normal end of the stack, not a stop.
        const user = this.userRegsAtTop(stacks, st.sp);
        if (user) {
          if (!steps.some((x) => x.via === 'regs' && x.regsAddress === user.address)) {
            steps.push({ ip: user.regs.ip, sp: user.regs.sp, bp: user.regs.bp, via: 'regs', regs: user.regs, regsAddress: user.address, stack: 'task', reliable: !usedFallback });
          }
          break;
        }
        stopped = failure ?? 'stopped';
        break;
      }
      usedFallback = true;
      st.ip = hit.ret;
      st.sp = hit.slot + 8n;
      st.regs = null;
      st.prevRegs = null;
      st.signal = false;
      steps.push({ ip: hit.ret, sp: st.sp, bp: st.bp, via: 'scan', slot: hit.slot, stack: region?.kind ?? 'unknown', reliable: false, note: `ORC: ${failure}; found by scanning the stack` });
    }
    if (steps.length >= maxFrames) stopped = `stopped after ${maxFrames} frames`;
    for (const x of steps) if (x.note) warnings.push(x.note);
    return { steps, stopped, usedFallback, warnings };
  }

  /**
   * The user-mode pt_regs at the top of the task stack (task_pt_regs(): the stack's end less
   * TOP_OF_KERNEL_STACK_PADDING, 0 on x86_64 or 16 with FRED), when it lies at or above sp.
   */
  private userRegsAtTop(stacks: CpuStacks, sp: bigint): { address: bigint; regs: Record<string, bigint> } | null {
    const task = stacks.regions.find((r) => r.kind === 'task');
    if (!task || sp < task.begin || sp > task.end) return null;
    for (const pad of [0n, 16n]) {
      const address = task.end - pad - BigInt(PT_REGS_SIZE);
      if (address < sp) continue;
      let buf: Buffer;
      try {
        buf = this.mem.read(address, PT_REGS_SIZE);
      } catch (e) {
        onlyDumpData(e);
        continue;
      }
      const regs = decodePtRegs(buf, false);
      const userAddr = (v: bigint) => v < 0x0000800000000000n;
      if ((regs.cs & 3n) === 3n && (regs.ss & 3n) === 3n && userAddr(regs.ip) && userAddr(regs.sp)) return { address, regs };
    }
    return null;
  }

  describe(addr: bigint): string {
    const s = this.symbolize(addr);
    if (!s) return `0x${addr.toString(16)}`;
    return `${s.name}+0x${s.offset.toString(16)}${s.module ? ` [${s.module}]` : ''}`;
  }

  /** Frames as crash's `bt` shows them. */
  async backtrace(cpu: number, opts: UnwindOptions = {}): Promise<Backtrace> {
    const c = this.input.cpus.find((x) => x.cpu === cpu);
    const w = await this.walk(cpu, opts);
    const frames = this.toFrames(w.steps);
    const who = c?.task !== undefined ? this.input.describeTask?.(c.task) : undefined;
    const warnings = [...w.warnings];
    if (w.deeperStart) warnings.push(w.deeperStart);
    return { unwinder: this.status(), cpu, task: c?.task, pid: who?.pid, comm: who?.comm, frames, stopped: w.stopped, usedFallback: w.usedFallback, warnings };
  }

  async backtraceAll(opts: UnwindOptions = {}): Promise<Backtrace[]> {
    const out: Backtrace[] = [];
    for (const c of [...this.input.cpus].sort((a, b) => a.cpu - b.cpu)) {
      try {
        out.push(await this.backtrace(c.cpu, opts));
      } catch (e) {
        onlyDumpData(e);
        out.push({ unwinder: this.status(), cpu: c.cpu, task: c.task, frames: [], stopped: `error: ${e.message}`, usedFallback: false, warnings: [] });
      }
    }
    return out;
  }

  /**
   * crash's presentation of the walk: one numbered line per function with the stack slot of its
   * return address; an exception frame (pt_regs) is printed under the entry-code line that
   * pushed it, and the interrupted function gets its own line only when the exception switched
   * stacks (crash prints `--- <X stack> ---` there).
   */
  toFrames(steps: UnwindStep[]): Frame[] {
    const frames: Frame[] = [];
    const mk = (s: UnwindStep, sp: bigint): Frame => {
      const r = this.resolveIp(s.ip);
      const sym = this.symbolize(r.ip);
      const f: Frame = {
        index: frames.length,
        sp,
        pc: s.ip,
        function: sym?.name ?? `0x${s.ip.toString(16)}`,
        offset: sym?.offset ?? 0n,
        size: sym?.size ?? 0n,
        module: sym?.module,
        stack: s.stack,
        reliable: s.reliable,
      };
      const note = [r.note, s.via === 'regs' || s.via === 'regs_partial' ? undefined : s.note].filter(Boolean).join('; ');
      if (note) f.note = note;
      return f;
    };
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      if (s.via === 'start') {
        frames.push(mk(s, s.sp));
        continue;
      }
      if (s.via === 'call' || s.via === 'scan' || s.via === 'prologue' || s.via === 'fp') {
        frames.push(mk(s, s.slot as bigint));
        continue;
      }
      // regs / regs_partial: attach to the previous line.
      const prev = frames[frames.length - 1];
      const r = s.regs as Record<string, bigint>;
      const user = r.cs !== undefined && (r.cs & 3n) !== 0n;
      const rr = this.resolveIp(s.ip);
      const ex: ExceptionInfo = {
        rip: user ? `0x${s.ip.toString(16)}` : this.crashSymbol(rr.ip),
        ripAddress: s.ip,
        registers: r,
        regsAddress: s.regsAddress as bigint,
        userMode: user,
        partial: s.via === 'regs_partial',
      };
      if (rr.note) ex.note = rr.note;
      if (prev && !prev.exception) prev.exception = ex;
      if (user) continue;
      const regsStack = this.stackOfAddress(steps, s.regsAddress as bigint);
      if (regsStack !== s.stack) {
        // Stack switch: crash shows the interrupted function on the new stack at the saved sp.
        frames.push({ ...mk(s, s.sp), interrupted: true });
      } else if (prev && prev.function.startsWith('asm_exc_') && !CRASH_EXCEPTION_FUNCTIONS.has(prev.function)) {
        // crash decodes pt_regs under the exception entries of its exception_functions list
        // (x86_64.c) and under interrupt entries (asm_sysvec_*, asm_common_interrupt). Under the
        // other exception entries (asm_exc_int3) it finds pt_regs->ip while scanning and prints
        // the interrupted function as a frame at that stack slot: so do we (keeping the regs).
        // (Also for a bare iret frame, e.g. an NMI that hit asm_exc_int3's first instruction.)
        frames.push({ ...mk(s, (s.regsAddress as bigint) + BigInt(IRET_FRAME_OFFSET)), interrupted: true });
      }
    }
    return frames;
  }

  private stackOfAddress(steps: UnwindStep[], addr: bigint): StackKind {
    // The pt_regs sits on the stack of the frame that pushed it (the previous step's stack).
    const i = steps.findIndex((s) => s.regsAddress === addr);
    if (i > 0) return steps[i - 1].stack;
    return 'unknown';
  }

  /** `func+off` with a decimal offset, as crash prints `[exception RIP: irq_fpu_usable+57]`. */
  crashSymbol(addr: bigint): string {
    const s = this.symbolize(addr);
    if (!s) return `unknown or invalid address`;
    return s.offset === 0n ? s.name : `${s.name}+${s.offset.toString(10)}`;
  }
}

// Text output in the shape of crash's `bt`:
//
//  #7 [ffffb6fe00907630] asm_exc_invalid_op at ffffffffa1e00af6
//     [exception RIP: irq_fpu_usable+57]
//     RIP: ffffffffa1232d29  RSP: ffffb6fe009076e8  RFLAGS: 00010006
//     ...
//     ORIG_RAX: ffffffffffffffff  CS: 0010  SS: 0018
//  #8 [ffffb6fe009076e8] blake2s_compress at ffffffffa12e5ae0
// #18 [ffffb6fe00907a48] post at ffffffffc054b028 [hazard]

import type { Backtrace, ExceptionInfo, Frame, StackKind, UnwinderStatus } from './types.js';

const hex16 = (v: bigint | undefined): string => BigInt.asUintN(64, v ?? 0n).toString(16).padStart(16, '0');
const hex = (v: bigint): string => BigInt.asUintN(64, v).toString(16);

const STACK_NAMES: Partial<Record<StackKind, string>> = {
  irq: 'IRQ stack',
  nmi: 'NMI exception stack',
  'exception:#DF': 'DOUBLEFAULT exception stack',
  'exception:#DB': 'DEBUG exception stack',
  'exception:#MC': 'MCE exception stack',
  'exception:#VC': 'VC exception stack',
  'exception:#VC2': 'VC2 exception stack',
  entry: 'ENTRY TRAMPOLINE stack',
  'exception:overflow': 'OVERFLOW stack',
  'exception:sdei-normal': 'SDEI (normal) stack',
  'exception:sdei-critical': 'SDEI (critical) stack',
};

export function crashFrameLine(f: Frame): string {
  const idx = f.index < 10 ? ` #${f.index}` : `#${f.index}`;
  const q = f.reliable ? '' : '? ';
  return `${idx} [${hex(f.sp)}] ${q}${f.function} at ${hex(f.pc)}${f.module ? ` [${f.module}]` : ''}`;
}

export function crashExceptionLines(e: ExceptionInfo): string[] {
  const r = e.registers;
  const g = (n: string) => hex16(r[n]);
  const lines: string[] = [];
  // arm64's pt_regs (x0-x30, sp, pc, pstate), in crash's arm64 layout: three registers a line from x29 down.
  if (r.pstate !== undefined) {
    if (!e.userMode) lines.push(`    [exception PC: ${e.rip}]`);
    lines.push(`     PC: ${g('pc')}   LR: ${g('x30')}   SP: ${g('sp')}`);
    for (let i = 29; i >= 0; i -= 3) {
      const row = [i, i - 1, i - 2].filter((n) => n >= 0).map((n) => `${`X${n}`.padStart(3)}: ${g(`x${n}`)}`);
      lines.push(`    ${row.join('  ')}`);
    }
    lines.push(`    PSTATE: ${hex(r.pstate).padStart(8, '0')}`);
    return lines;
  }
  if (!e.userMode) lines.push(`    [exception RIP: ${e.rip}]`);
  lines.push(`    RIP: ${g('ip')}  RSP: ${g('sp')}  RFLAGS: ${hex(r.flags ?? 0n).padStart(8, '0')}`);
  if (!e.partial) {
    lines.push(`    RAX: ${g('ax')}  RBX: ${g('bx')}  RCX: ${g('cx')}`);
    lines.push(`    RDX: ${g('dx')}  RSI: ${g('si')}  RDI: ${g('di')}`);
    lines.push(`    RBP: ${g('bp')}   R8: ${g('r8')}   R9: ${g('r9')}`);
    lines.push(`    R10: ${g('r10')}  R11: ${g('r11')}  R12: ${g('r12')}`);
    lines.push(`    R13: ${g('r13')}  R14: ${g('r14')}  R15: ${g('r15')}`);
    lines.push(`    ORIG_RAX: ${g('orig_ax')}  CS: ${hex(r.cs ?? 0n).padStart(4, '0')}  SS: ${hex(r.ss ?? 0n).padStart(4, '0')}`);
  } else {
    lines.push(`    CS: ${hex(r.cs ?? 0n).padStart(4, '0')}  SS: ${hex(r.ss ?? 0n).padStart(4, '0')}`);
  }
  return lines;
}

const METHOD_TEXT: Record<UnwinderStatus['method'], string> = {
  orc: 'ORC',
  'frame-pointer': 'frame pointers (kernel built without ORC)',
  'stack-scan': 'stack scanning and frame-pointer guesses, no frame marked reliable',
  'frame-record': 'frame records (x29/x30; PAC stripped), as arm64 itself unwinds',
};

/** One line naming the unwinder and the ORC format it applied. */
export function unwinderSummary(u: UnwinderStatus): string {
  if (u.method === 'orc') return `unwinder: ORC, format ${u.orcFormat ?? '?'}, from ${u.formatEvidence ?? '?'}`;
  return `unwinder: ${METHOD_TEXT[u.method]}`;
}

/**
 * What a report must say before any frame: the unwinder could not be used (and why), the ORC
 * format was a fallback choice, or the unwinder had other problems. Empty when ORC ran as it should.
 */
export function unwinderNotice(u: UnwinderStatus): string[] {
  const out: string[] = [];
  if (u.orcUnusable) out.push(`ORC unwinder not used: ${u.orcUnusable}; frames from ${METHOD_TEXT[u.method]}`);
  else if (u.method === 'orc' && u.formatFallback) out.push(`${unwinderSummary(u)}: a fallback, no known .orc_header hash named the format`);
  for (const p of u.problems) if (p !== u.orcUnusable && !out.some((o) => o.includes(p))) out.push(p);
  return out;
}

/** crash-style text of one backtrace (header line, frames, exception blocks, stack switches). */
export function crashStyle(bt: Backtrace): string {
  const out: string[] = [];
  const task = bt.task !== undefined ? hex(bt.task) : '?';
  out.push(`PID: ${String(bt.pid ?? '?').padEnd(7)}  TASK: ${task}  CPU: ${String(bt.cpu).padEnd(3)}  COMMAND: "${bt.comm ?? '?'}"`);
  bt.frames.forEach((f, i) => {
    out.push(crashFrameLine(f));
    if (f.exception) out.push(...crashExceptionLines(f.exception));
    const next = bt.frames[i + 1];
    if (next && next.stack !== f.stack && STACK_NAMES[f.stack]) out.push(`--- <${STACK_NAMES[f.stack]}> ---`);
  });
  if (bt.stopped !== 'end') out.push(`    (backtrace stopped: ${bt.stopped})`);
  return out.join('\n');
}

export function crashStyleAll(bts: Backtrace[]): string {
  return bts.map(crashStyle).join('\n\n');
}

const hx = (v: bigint | undefined) => (v === undefined ? undefined : `0x${BigInt.asUintN(64, v).toString(16)}`);

/** JSON-ready form (addresses as 0x strings). */
export function backtraceToJson(bt: Backtrace): Record<string, unknown> {
  return {
    unwinder: bt.unwinder,
    cpu: bt.cpu,
    task: hx(bt.task),
    pid: bt.pid,
    comm: bt.comm,
    stopped: bt.stopped,
    usedFallback: bt.usedFallback,
    warnings: bt.warnings,
    frames: bt.frames.map((f) => ({
      index: f.index,
      sp: hx(f.sp),
      pc: hx(f.pc),
      function: f.function,
      offset: Number(f.offset),
      size: Number(f.size),
      module: f.module,
      stack: f.stack,
      reliable: f.reliable,
      note: f.note,
      interrupted: f.interrupted,
      exception: f.exception && {
        rip: f.exception.rip,
        ripAddress: hx(f.exception.ripAddress),
        regsAddress: hx(f.exception.regsAddress),
        userMode: f.exception.userMode,
        partial: f.exception.partial,
        note: f.exception.note,
        registers: Object.fromEntries(Object.entries(f.exception.registers).map(([k, v]) => [k, hx(v)])),
      },
    })),
  };
}

// Parse crash's `bt` / `bt -a` output and compare it with our frames. Differences are allowed only
// in three mechanically checked categories where crash's own heuristics (x86_64.c) differ from an
// exact ORC walk; everything else is a mismatch.
//
//  crash-start   crash does not start from the NT_PRSTATUS registers of a QEMU/netdump dump's active
//                task: x86_64_get_dumpfile_stack_frame() scans the stack for a word pointing into
//                panic / crash_kexec / stop_this_cpu... and starts there. Our leading frames below
//                crash's #0 (e.g. delay_tsc under panic's mdelay loop) are live frames crash skips.
//  match-name    same function at the same place in the chain, but crash printed a stale stack
//                word for it (stop_this_cpu+0x4d below the live sp; copy_page_to_iter under an
//                int3 whose pt_regs crash does not decode), so its slot/pc differ from ours.
//  crash-scan    crash sizes frames with ORC only when the CFA is sp-based; for a bp-based frame
//                (do_syscall_64: add_random_kstack_offset()'s alloca) it scans the stack and prints
//                stale return addresses as frames (the kernel's own trace prints them with `?`).
//  crash-bogus   crash itself prints "WARNING: possibly bogus exception frame" and stops.
import type { Frame, Backtrace } from '../../src/kernel/unwind/types.js';
import { CRASH_EXCEPTION_FUNCTIONS } from '../../src/kernel/unwind/unwinder.js';

export interface CrashFrame {
  index: number;
  sp: bigint;
  name: string;
  pc: bigint;
  module?: string;
  exceptionRip?: string;
  userRegs?: boolean;
  bogus?: boolean;
}

export interface CrashBt {
  pid: number;
  task: bigint;
  cpu: number;
  comm: string;
  frames: CrashFrame[];
}

export function parseCrashBt(text: string): CrashBt[] {
  const out: CrashBt[] = [];
  let cur: CrashBt | null = null;
  for (const line of text.split('\n')) {
    const h = /^PID:\s+(\d+)\s+TASK:\s+([0-9a-f]+)\s+CPU:\s+(\d+)\s+COMMAND:\s+"(.*)"/.exec(line);
    if (h) {
      cur = { pid: Number(h[1]), task: BigInt(`0x${h[2]}`), cpu: Number(h[3]), comm: h[4], frames: [] };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const f = /^\s*#(\d+) \[([0-9a-f]+)\] (\S+) at ([0-9a-f]+)(?: \[(\S+)\])?/.exec(line);
    if (f) {
      cur.frames.push({ index: Number(f[1]), sp: BigInt(`0x${f[2]}`), name: f[3], pc: BigInt(`0x${f[4]}`), module: f[5] });
      continue;
    }
    const last = cur.frames[cur.frames.length - 1];
    const e = /^\s+\[exception RIP: (.*)\]/.exec(line);
    if (e && last) last.exceptionRip = e[1];
    if (/^\s+ORIG_RAX: .* CS: 0033/.test(line) && last && !last.exceptionRip) last.userRegs = true;
    if (/possibly bogus exception frame/.test(line) && last) last.bogus = true;
  }
  return out;
}

/**
 * A referee file: crash's `bt` and `bt -a`. When the file has `crash> ` prompts (a whole session
 * with other commands), the outputs of the `bt` and `bt -a` commands are taken; otherwise the
 * first PID block is `bt` and the rest (after a `bt -a` line, if any) `bt -a`.
 */
export function splitReferee(text: string): { bt: CrashBt; all: CrashBt[] } {
  const sections = new Map<string, string>();
  let cmd: string | null = null;
  let buf: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^crash> (.*)$/.exec(line);
    if (m) {
      if (cmd !== null && !sections.has(cmd)) sections.set(cmd, buf.join('\n'));
      cmd = m[1].trim();
      buf = [];
    } else buf.push(line);
  }
  if (cmd !== null && !sections.has(cmd)) sections.set(cmd, buf.join('\n'));
  if (sections.has('bt')) {
    return { bt: parseCrashBt(sections.get('bt') as string)[0], all: parseCrashBt(sections.get('bt -a') ?? '') };
  }
  const m = /^bt -a\s*$/m.exec(text);
  if (m) return { bt: parseCrashBt(text.slice(0, m.index))[0], all: parseCrashBt(text.slice(m.index)) };
  const blocks = parseCrashBt(text);
  return { bt: blocks[0], all: blocks.slice(1) };
}

export interface CompareResult {
  ok: boolean;
  /** One line per row: ours | crash | verdict. */
  table: string[];
  categories: Record<string, number>;
  matched: number;
}

const hex = (v: bigint) => v.toString(16);

/**
 * @param bpBasedAt tells whether our frame at index i has a bp-based CFA (ORC sp_reg BP), i.e.
 *   crash cannot size it.
 */
export function compareWithCrash(ours: Backtrace, crash: CrashBt, bpBasedAt: (f: Frame) => boolean): CompareResult {
  const table: string[] = [];
  const cats: Record<string, number> = { match: 0, 'match-name': 0, 'crash-start': 0, 'crash-scan': 0, 'crash-bogus': 0, mismatch: 0 };
  const fmtO = (f?: Frame) => (f ? `#${f.index} [${hex(f.sp)}] ${f.function}${f.module ? ` [${f.module}]` : ''}${f.exception && !f.exception.userMode ? ` {${f.exception.rip}}` : ''}` : '');
  const fmtC = (f?: CrashFrame) => (f ? `#${f.index} [${hex(f.sp)}] ${f.name}${f.module ? ` [${f.module}]` : ''}${f.exceptionRip ? ` {${f.exceptionRip}}` : ''}` : '');
  const row = (o: Frame | undefined, c: CrashFrame | undefined, v: string) => {
    table.push(`${fmtO(o).padEnd(64)} | ${fmtC(c).padEnd(64)} | ${v}`);
    cats[v] = (cats[v] ?? 0) + 1;
  };
  const O = ours.frames;
  const C = crash.frames;
  let i = 0;
  let j = 0;
  let matched = 0;
  // Where does crash start?
  if (C.length > 0) {
    const k = O.findIndex((f) => f.sp === C[0].sp && f.pc === C[0].pc && f.function === C[0].name);
    if (k > 0 && O.slice(0, k).every((f) => f.sp <= C[0].sp)) {
      for (; i < k; i++) row(O[i], undefined, 'crash-start');
    }
  }
  while (i < O.length || j < C.length) {
    const o = O[i];
    const c = C[j];
    if (c && c.bogus) {
      for (; j < C.length; j++) row(undefined, C[j], 'crash-bogus');
      for (; i < O.length; i++) row(O[i], undefined, 'crash-bogus');
      break;
    }
    // Exception blocks: equal where crash prints one; where crash does not decode pt_regs (entry
    // points outside its exception_functions list, e.g. asm_exc_int3) ours is extra information.
    const ourRip = o?.exception && !o.exception.userMode ? o.exception.rip : undefined;
    const ripOk = c?.exceptionRip !== undefined ? ourRip === c.exceptionRip : ourRip === undefined || !CRASH_EXCEPTION_FUNCTIONS.has(o.function);
    if (o && c && o.function === c.name && (o.module ?? '') === (c.module ?? '') && ripOk) {
      // Same function in the same place of the chain. `match` when crash's stack slot and pc agree
      // too; `match-name` when crash took a stale word for it (e.g. copy_page_to_iter under an
      // int3 whose pt_regs crash does not decode).
      const exact = o.sp === c.sp && o.pc === c.pc;
      row(o, c, exact ? 'match' : 'match-name');
      matched++;
      i++;
      j++;
      continue;
    }
    const prev = O[i - 1];
    if (c && prev && o && c.sp > prev.sp && c.sp < o.sp && bpBasedAt(prev)) {
      row(undefined, c, 'crash-scan');
      j++;
      continue;
    }
    row(o, c, 'mismatch');
    i++;
    j++;
  }
  return { ok: cats.mismatch === 0 && matched > 0, table, categories: cats, matched };
}

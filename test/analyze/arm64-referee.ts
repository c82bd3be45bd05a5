// What the arm64 fixture tests share: running the CLI on a committed dump, and the comparison of
// `analyze --json` with a drgn referee.json (make-arm64-dump.sh writes both fields the same way
// for every arm64 fixture).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FIXTURES, REPO } from '../paths.js';

export interface Arm64Referee {
  panic_cpu: { value: number };
  panic_message: { value: string };
  crashed_thread: { cpu: number; pid: number };
  backtrace: { functions_not_inline: string[]; frames: { pc: string; inline: boolean }[] };
  cpus: { cpu: number; preempt_count: string; thread_info_flags: string; current: { task: string; pid: number; comm: string }; functions: string[] }[];
  [k: string]: unknown;
}

export function arm64Fixture(name: string): { dump: string; referee: Arm64Referee } {
  const dir = join(FIXTURES, name);
  return { dump: join(dir, 'vmcore.trimmed.kdump-zlib'), referee: JSON.parse(readFileSync(join(dir, 'referee.json'), 'utf8')) as Arm64Referee };
}

export const runKtriage = (args: string[]) =>
  spawnSync('node', [join(REPO, 'bin/ktriage.js'), ...args, '--no-cache'], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });

export const baseName = (f: string) => f.replace(/\.constprop\.\d+$/, '');

/** analyze --json against drgn: panic CPU and message, every CPU's preempt_count and current task. */
export function expectAnalysisAsDrgn(d: { panicCpu: number; panicMessage: string; cpus: { cpu: number; preemptCount: string; task: unknown }[] }, referee: Arm64Referee): void {
  expect(d.panicCpu).toBe(referee.panic_cpu.value);
  expect(d.panicMessage).toContain(referee.panic_message.value);
  for (const c of referee.cpus) {
    const got = d.cpus.find((x) => x.cpu === c.cpu);
    expect(got?.preemptCount).toBe(c.preempt_count);
    expect(got?.task).toEqual({ address: c.current.task, pid: c.current.pid, comm: c.current.comm });
  }
}

/** The panicking thread's frames: drgn's non-inline functions, and its pcs (inline frames share one). */
export function expectBacktraceAsDrgn(frames: { function: string; pc: string }[], referee: Arm64Referee): void {
  expect(frames.map((f) => baseName(f.function))).toEqual(referee.backtrace.functions_not_inline);
  const pcs = [...new Set(referee.backtrace.frames.filter((f) => !f.inline).map((f) => f.pc))].map((p) => BigInt(p));
  expect(frames.map((f) => BigInt(f.pc))).toEqual(pcs);
}

/** Every frame ktriage shows for a CPU is one of drgn's (which adds inline frames), in drgn's order. */
export function expectFramesWithinDrgn(fns: string[], drgn: string[]): void {
  let i = 0;
  for (const f of drgn) if (i < fns.length && f === baseName(fns[i] ?? "")) i++;
  expect(i).toBe(fns.length);
}

/**
 * 6.8+: kernel-mode NEON is the current task's TIF_KERNEL_FPSTATE, whose bit ktriage reads from
 * kernel_neon_begin()/kernel_neon_end(); each CPU's flag must be that bit of drgn's thread_info.flags.
 */
export function expectKernelFpstateAsDrgn(d: { cpus: { cpu: number; inKernelFpu: boolean | null; fpuSource: string | null }[] }, referee: Arm64Referee, bit: number): void {
  for (const c of referee.cpus) {
    const got = d.cpus.find((x) => x.cpu === c.cpu);
    expect(got?.fpuSource).toContain(`TIF_KERNEL_FPSTATE (bit ${bit}`);
    expect(got?.inKernelFpu).toBe(((BigInt(c.thread_info_flags) >> BigInt(bit)) & 1n) === 1n);
  }
}

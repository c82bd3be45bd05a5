// Debian unstable's arm64 kernel 7.2.13 (linux-image-7.2.13+deb14-arm64, sysrq-c in
// qemu-system-aarch64, fixtures/vmcore-debian-7.2.13-arm64-sysrq-2cpu/README.md) against drgn
// 0.3.0 with the -dbg vmlinux (referee.json; crash 9.0.2 cannot read this kernel). 7.x differs
// from 6.1 where ktriage must follow it: metadata frame records at exception boundaries (6.13+:
// fp = lr = 0 plus a type in pt_regs), PAC-signed return addresses on the stack, panic() through
// vpanic(), a counted preempt_count (PREEMPT_LAZY), the kernel in /usr/lib/modules.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from '../paths.js';

const DIR = join(FIXTURES, 'vmcore-debian-7.2.13-arm64-sysrq-2cpu');
const DUMP = join(DIR, 'vmcore.trimmed.kdump-zlib');
const referee = JSON.parse(readFileSync(join(DIR, 'referee.json'), 'utf8'));
const run = (args: string[]) => spawnSync('node', [join(REPO, 'bin/ktriage.js'), ...args, '--no-cache'], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });
const base = (f: string) => f.replace(/\.constprop\.\d+$/, '');

describe('arm64 vmcore of Debian unstable\'s 7.2.13 (sysrq)', () => {
  it('analyze: panic CPU and its state, every CPU\'s preempt_count and task, the backtrace as drgn', () => {
    const r = run(['analyze', DUMP, '--json']);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.panicCpu).toBe(referee.panic_cpu.value);
    expect(d.panicMessage).toContain(referee.panic_message.value);
    for (const c of referee.cpus) {
      const got = d.cpus.find((x: { cpu: number }) => x.cpu === c.cpu);
      expect(got.preemptCount).toBe(c.preempt_count);
      expect(got.task).toEqual({ address: c.current.task, pid: c.current.pid, comm: c.current.comm });
    }
    // The panicking CPU's stack holds PAC-signed return addresses into vpanic/panic.
    expect(d.cpus.find((c: { cpu: number }) => c.cpu === referee.panic_cpu.value).state).toBe('called panic() (vpanic, panic)');
    expect(d.backtrace.frames.map((f: { function: string }) => base(f.function))).toEqual(referee.backtrace.functions_not_inline);
    // drgn's pcs, frame for frame (its inline frames share the pc of the frame they sit in)
    const pcs = [...new Set(referee.backtrace.frames.map((f: { pc: string }) => f.pc))].map((p) => BigInt(p as string));
    expect(d.backtrace.frames.map((f: { pc: string }) => BigInt(f.pc))).toEqual(pcs);
    expect(d.backtrace.stopped ?? 'end').not.toMatch(/aligned|unknown type/);
  });

  it('bt --all: the stopped CPU from its IPI on the IRQ stack through the PT_REGS metadata record into the idle loop', () => {
    const r = run(['bt', DUMP, '--all', '--json']);
    expect(r.status).toBe(0);
    const other = referee.cpus.find((c: { cpu: number }) => c.cpu !== referee.panic_cpu.value);
    const t = JSON.parse(r.stdout).items.find((x: { cpu: number }) => x.cpu === other.cpu);
    const fns: string[] = t.frames.map((f: { function: string }) => base(f.function));
    const want: string[] = other.functions;
    let i = 0;
    for (const f of want) if (i < fns.length && f === fns[i]) i++;
    expect(i).toBe(fns.length); // each of ktriage's frames is drgn's, in drgn's order
    expect(fns.at(-1)).toBe(want.at(-1)); // to the end of the stack (the FINAL record)
    const entry = t.frames.find((f: { function: string }) => f.function === 'el1h_64_irq');
    expect(entry.exception.rip).toMatch(/^default_idle_call\+/);
    const after = t.frames[t.frames.indexOf(entry) + 1];
    expect(base(after.function)).toBe('default_idle_call');
  });
});

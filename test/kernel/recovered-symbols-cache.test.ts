// Debian's arm64 kernels have no CONFIG_KALLSYMS_ALL: __per_cpu_offset, the per-CPU variables and
// the `modules` list head are recovered from code and BTF (src/kernel/arch/arm64/). The per-CPU
// part and the place of .BTF are kept per build in the cache; the module list is found per dump.
// Two real dumps of the same build (fixtures: sysrq, and a module oops) must give the same answers
// whatever the cache holds: cold, warm, and warmed by the other dump. The sysrq fixture was trimmed
// before module-list recovery existed, so it lacks print_modules()'s code: if the module list were
// cached from it, the oops dump's module frame would lose its name.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from '../paths.js';

const SYSRQ = join(FIXTURES, 'vmcore-debian-6.1.192-arm64-sysrq-2cpu', 'vmcore.trimmed.kdump-zlib');
const OOPS = join(FIXTURES, 'vmcore-debian-6.1.192-arm64-softirq-oops-2cpu', 'vmcore.trimmed.kdump-zlib');
const cache = mkdtempSync(join(tmpdir(), 'ktriage-cache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

function analyze(dump: string, extra: string[] = []) {
  const r = spawnSync('node', [join(REPO, 'bin/ktriage.js'), 'analyze', dump, '--json', ...extra], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, KTRIAGE_NO_CACHE: '0', KTRIAGE_CACHE_DIR: cache } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { symbolSource: string; cpus: { preemptCount: string; task: unknown }[]; backtrace: { frames: { function: string; module?: string }[] } };
}
const moduleFrame = (d: ReturnType<typeof analyze>) => d.backtrace.frames.find((f) => f.module === 'softirq_oops')?.function;

describe('symbols recovered on arm64 without KALLSYMS_ALL, with the build cache', () => {
  it('the same per-CPU values and frames cold, warm, and after the other dump of the build', () => {
    const reference = analyze(OOPS, ['--no-cache']);
    expect(moduleFrame(reference)).toBe('softirq_oops_store.constprop.0');
    const sysrqCold = analyze(SYSRQ);
    expect(readdirSync(join(cache, readdirSync(cache)[0])).sort()).toEqual(['btf.bin', 'btfplace.bin', 'facts.bin', 'kallsyms.bin']);
    for (const d of [analyze(OOPS), analyze(OOPS)]) {
      expect(moduleFrame(d)).toBe('softirq_oops_store.constprop.0');
      expect(d.cpus).toEqual(reference.cpus);
      expect(d.backtrace.frames).toEqual(reference.backtrace.frames);
    }
    const sysrqWarm = analyze(SYSRQ);
    expect(sysrqWarm.cpus).toEqual(sysrqCold.cpus);
    expect(sysrqWarm.backtrace.frames).toEqual(sysrqCold.backtrace.frames);
  });
});

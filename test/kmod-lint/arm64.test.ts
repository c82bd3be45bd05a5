// lint-kmod on AArch64 modules: kmod-reference's hazard.ko built for Debian 12's 6.1 arm64 kernel
// (with and without DWARF) and kprobe_mutex.ko from test/kmod-lint/modules/, committed in
// test/kmod-lint/arm64/ (README.md there says how they were built). The offsets asserted below are
// those `aarch64-linux-gnu-objdump -dr` shows: post at .text+0x120, its `bl kmem_cache_alloc`
// (R_AARCH64_CALL26) at .text+0x368 after `mov w1, #0xa20`; register_kprobe(&kp) at
// hazard_init+0x238.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintExitCode, lintKmod, renderLintSarif, renderLintText, type LintResult } from '../../src/analyzers/kmod/index.js';
import { InputError } from '../../src/util/errors.js';

const dir = join(import.meta.dirname, 'arm64');
const HAZARD = join(dir, 'hazard.ko');
const STRIPPED = join(dir, 'hazard.stripped.ko');
const MUTEX = join(dir, 'kprobe_mutex.stripped.ko');
const bin = new URL('../../bin/ktriage.js', import.meta.url).pathname;

const tmp = mkdtempSync(join(tmpdir(), 'ktriage-kmod-arm64-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Nothing of the x86 incident's claims: no int3/NMI context, no x86 rule id, no x86 layout. */
function expectNoX86Claims(r: LintResult): void {
  const json = JSON.stringify(r);
  for (const x86 of ['kprobe-int3-nmi-slab-fpu', 'fpu-in-nmi-warn', 'exc_int3', 'irqentry_nmi_enter', 'x86_64 Linux 6.1', 'NMI context (int3)']) expect(json, x86).not.toContain(x86);
  expect(r.handlers.every((h) => h.context !== 'nmi' && h.mechanism === 'BRK')).toBe(true);
}

// The release the committed module was built for, from its own .modinfo bytes (test/kmod-lint/arm64/README.md).
const KO_RELEASE = /vermagic=(\S+)/.exec(readFileSync(HAZARD).toString('latin1'))?.[1];

describe('lint-kmod on arm64 hazard.ko (kmod-reference, Debian 12 arm64 6.1)', () => {
  for (const [what, ko] of [['with DWARF', HAZARD], ['--strip-debug', STRIPPED]] as const) {
    it(`${what}: arch, the BRK kprobe handler, post -> kmem_cache_alloc(GFP_ATOMIC) at post+0x248, the arm64 rule`, async () => {
      const r = await lintKmod(ko);
      expect(KO_RELEASE).toMatch(/-arm64$/);
      expect(r.module).toMatchObject({ name: 'hazard', kernel: KO_RELEASE, arch: 'arm64' });
      expect(r.layoutNote).toMatch(/arm64 Linux 6\.1/);
      expect(r.handlers).toHaveLength(1);
      expect(r.handlers[0]).toMatchObject({ function: 'post', kind: 'kprobe-post', context: 'debug-exception', mechanism: 'BRK' });
      expect(r.handlers[0].registration).toEqual({ call: 'register_kprobe', site: 'hazard_init+0x238', object: 'kp', target: 'copy_page_to_iter+?' });
      expect(r.handlers[0].why).toMatch(/in_nmi\(\) is false/);
      expect(r.handlers[0].why).toMatch(/never fires on arm64/); // its KPROBE_FLAG_FTRACE check

      const hazards = r.findings.filter((f) => f.status !== 'note');
      expect(hazards).toHaveLength(1);
      const f = hazards[0];
      expect(f).toMatchObject({ ruleId: 'arm64-kprobe-brk-alloc', category: 'allocation', severity: 'warning', status: 'hazard', callee: 'kmem_cache_alloc', path: ['post', 'kmem_cache_alloc'] });
      expect(f.gfp).toEqual({ value: 0xa20, name: 'GFP_ATOMIC (0xa20)', maySleep: false });
      expect(f.callSite).toMatchObject({ function: 'post', offset: 0x248, section: '.text', sectionOffset: 0x368, length: 4 });
      // The call site is a `bl` (imm26 0: the relocation fills it in) in the file.
      expect(readFileSync(ko).readUInt32LE(f.callSite.fileOffset)).toBe(0x94000000);
      expect(f.conditions).toEqual(['in post: hmode != 2']);
      expect(f.why).toMatch(/no SIMD BLAKE2s/);
      expect(f.why).toMatch(/What remains wrong/);
      // The seed-fix mitigation exists but depends on the mode: not applied without an assumption.
      expect(f.mitigation?.summary).toMatch(/cache_random_seq_destroy.*lookup_name\.constprop\.0\+0x80, only when hmode == 1/);
      expect(r.mitigations).toHaveLength(1);
      expect(r.mitigations[0]).toMatchObject({ site: 'lookup_name.constprop.0+0x80', conditions: ['hmode == 1'] });
      if (ko === HAZARD) expect(f.sourcePath).toEqual(['post', 'account_in_handler (inlined)', 'kmem_cache_alloc']);
      else expect(f.sourcePath).toEqual(['post', 'kmem_cache_alloc']);

      expect(r.variants.map((v) => [v.assume, v.verdict, v.hazards])).toEqual([
        [{ hmode: 0 }, 'hazard', ['post -> kmem_cache_alloc [arm64-kprobe-brk-alloc]']],
        [{ hmode: 1 }, 'mitigated', ['post -> kmem_cache_alloc [arm64-kprobe-brk-alloc] (mitigated, not fixed)']],
        [{ hmode: 2 }, 'clean', []],
      ]);
      expect(lintExitCode(r)).toBe(1);
      expectNoX86Claims(r);

      const text = renderLintText(r);
      expect(text).toContain('WARNING arm64-kprobe-brk-alloc');
      expect(text).toContain('path: post -> kmem_cache_alloc   (call at post+0x248, GFP_ATOMIC (0xa20))');
      expect(text).toContain('  post: kprobe-post on copy_page_to_iter+?, debug exception (IRQs masked, not NMI) (BRK)');
      const sarif = JSON.parse(JSON.stringify(renderLintSarif(r)));
      expect(sarif.runs[0].results[0].ruleId).toBe('arm64-kprobe-brk-alloc');
      expect(sarif.runs[0].results[0].level).toBe('warning');
    });
  }

  it('each mode assumed: buggy a hazard, seed-fix mitigated (no FPU WARN to remove on arm64), deferred clean', async () => {
    const buggy = await lintKmod(HAZARD, { assume: { hmode: 0 } });
    expect(buggy.findings.map((f) => [f.ruleId, f.status, f.mitigation])).toEqual([['arm64-kprobe-brk-alloc', 'hazard', null]]);
    expect(buggy.mitigations).toEqual([]);

    const seed = await lintKmod(HAZARD, { assume: { hmode: 1 } });
    expect(seed.findings).toHaveLength(1);
    const s = seed.findings[0];
    expect(s.status).toBe('mitigated');
    expect(s.mitigation!.mitigates).toMatch(/get_random_u32/);
    expect(s.mitigation!.mitigates).toMatch(/no FPU WARN path/);
    expect(s.mitigation!.doesNotMitigate).toMatch(/BRK debug exception/);
    expect(seed.mitigations[0]).toMatchObject({ site: 'lookup_name.constprop.0+0x80', conditions: [] });
    expect(lintExitCode(seed)).toBe(1);
    expectNoX86Claims(seed);

    const deferred = await lintKmod(HAZARD, { assume: { hmode: 2 } });
    expect(deferred.findings).toEqual([]);
    expect(deferred.mitigations).toEqual([]);
    expect(lintExitCode(deferred)).toBe(0);
  });
});

describe('lint-kmod on arm64 kprobe_mutex.ko', () => {
  it('a BRK kprobe pre handler taking a mutex: the sleeping rule, in the debug-exception context', async () => {
    const r = await lintKmod(MUTEX);
    expect(r.module.arch).toBe('arm64');
    expect(r.handlers).toHaveLength(1);
    expect(r.handlers[0]).toMatchObject({ function: 'pre', kind: 'kprobe-pre', context: 'debug-exception', mechanism: 'BRK' });
    expect(r.handlers[0].registration.target).toBe('do_sys_openat2+0x10');
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ ruleId: 'atomic-sleep-in-kprobe-or-nmi', severity: 'error', status: 'hazard', path: ['pre', 'note_open', 'mutex_lock'] });
    expect(r.findings[0].callSite).toMatchObject({ function: 'note_open', offset: 0x28 });
    expect(lintExitCode(r)).toBe(1);
  });
});

describe('lint-kmod refuses other architectures in one line', () => {
  const patched = (machine: number): string => {
    const b = Buffer.from(readFileSync(STRIPPED));
    b.writeUInt16LE(machine, 18);
    const p = join(tmp, `machine${machine}.ko`);
    writeFileSync(p, b);
    return p;
  };

  it('library: InputError naming the machine', async () => {
    for (const [machine, name] of [[40, 'ARM \\(32-bit\\)'], [243, 'RISC-V'], [999, 'unknown']] as const) {
      const err = await lintKmod(patched(machine)).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).not.toContain('\n');
      expect((err as Error).message).toMatch(new RegExp(`ELF machine ${machine} \\(${name}\\) is not supported; only x86_64 \\(62\\) and AArch64 \\(183\\)`));
    }
  });

  it('CLI: exit 2 and one line on stderr', () => {
    const r = spawnSync('node', [bin, 'lint-kmod', patched(40)], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/ELF machine 40 \(ARM \(32-bit\)\) is not supported/);
  });
});

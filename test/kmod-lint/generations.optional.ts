// Optional, not part of `npm test` or CI (which must not depend on /tmp): lint-kmod on
// kmod-reference/hazard.c built against every kernel header tree that
// scripts/fixtures/fetch-kernel.sh --headers unpacked, <root>/<release>/usr/src/linux-headers-<release>.
// Each mode must get its verdict on each generation (allocator names changed in 6.10, gfp bits in
// 6.3). Run with
//   KTRIAGE_KERNEL_TREES=/tmp/ktriage-kernels npx vitest run test/kmod-lint/generations.optional.ts
// A tree configured for a newer compiler than the host's can be built with
// KTRIAGE_KERNEL_CC=$PWD/scripts/fixtures/gcc-compat.sh (maps or drops the options the host gcc
// lacks). When the tree's own modpost cannot run here (built against a newer glibc), the object
// before modpost is linted (no vermagic).
// The tree's Makefile must include its -common tree by its real path (fetch-kernel.sh rewrites it).
//
// Outcome on 2026-12-01 (Debian 12 host, gcc 12; trees from fetch-kernel.sh):
//   5.10.262 (bullseye)         hazard.ko   buggy: post -> kmem_cache_alloc, GFP_ATOMIC 0xa20; seed-fix
//                               mitigated; deferred clean (hazard.c needed page_folio() for < 5.16)
//   6.1.192 (bookworm)          hazard.ko   the same
//   7.2.13+deb14-amd64 (sid)    hazard.o    buggy: post -> kmem_cache_alloc_noprof, 0x820 (GFP_ATOMIC
//                               without __GFP_ATOMIC); seed-fix mitigated; deferred clean. Before the
//                               _noprof names were known: "0 hazards". Needs KTRIAGE_KERNEL_CC (the
//                               tree wants gcc 16 options) and the sid modpost/objtool need glibc
//                               2.38; hazard.c needed FOLIO_MAPPING_FLAGS for PAGE_MAPPING_FLAGS.
//   *-rt-amd64                  not built: their Makefile still includes /usr/src/...-common-rt.
//   6.12.117+deb12-amd64        hazard.o (modpost failed: the tree's own tools) with the host gcc-12:
//     (bookworm-security)       buggy: post -> kmem_cache_alloc_noprof, GFP_ATOMIC 0x820; seed-fix
//                               mitigated; deferred clean.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintExitCode, lintKmod } from '../../src/analyzers/kmod/index.js';
import { REPO } from '../paths.js';

const ROOT = process.env.KTRIAGE_KERNEL_TREES ?? '';
const trees = ROOT && fs.existsSync(ROOT)
  ? fs.readdirSync(ROOT).sort().map((release) => ({ release, kdir: path.join(ROOT, release, 'usr/src', `linux-headers-${release}`) })).filter((t) => fs.existsSync(path.join(t.kdir, 'Makefile')))
  : [];

describe(`kmod-reference against every header tree under ${ROOT || '(KTRIAGE_KERNEL_TREES unset)'}`, () => {
  it('finds header trees', () => {
    expect(trees.length, `no <release>/usr/src/linux-headers-<release> under ${ROOT}`).toBeGreaterThan(0);
  });
  for (const t of trees) {
    it(`${t.release}: buggy flagged, seed-fix mitigated, deferred clean`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ktriage-gen-${t.release}-`));
      for (const f of ['Makefile', 'hazard.c']) fs.copyFileSync(path.join(REPO, 'kmod-reference', f), path.join(dir, f));
      // the host's gcc: the tree names the compiler Debian built it with (gcc-10 for 5.10, gcc-16 for 7.2)
      const cc = process.env.KTRIAGE_KERNEL_CC ? [`CC=${process.env.KTRIAGE_KERNEL_CC}`, 'KCFLAGS=-Wno-error=attributes -Wno-attributes', 'objtool=/bin/true'] : ['CC=gcc'];
      const r = spawnSync('make', ['-C', dir, `KDIR=${t.kdir}`, ...cc], { encoding: 'utf8' });
      const ko = path.join(dir, 'hazard.ko');
      const obj = fs.existsSync(ko) ? ko : path.join(dir, 'hazard.o');
      expect(fs.existsSync(obj), `build against ${t.kdir} failed:\n${r.stdout.slice(-2000)}${r.stderr.slice(-3000)}`).toBe(true);
      if (obj !== ko) console.log(`[generations] ${t.release}: no hazard.ko (${/GLIBC_[\d.]+/.exec(r.stderr)?.[0] ?? 'modpost failed'}); linting hazard.o`);
      const first = await lintKmod(obj);
      const modeVar = Object.keys(first.variants[0]?.assume ?? {})[0];
      expect(modeVar, 'the mode global the paths test').toBeDefined();
      const value = (verdict: string) => first.variants.find((v) => v.verdict === verdict)?.assume[modeVar];
      const buggy = await lintKmod(obj, { assume: { [modeVar]: value('hazard')! } });
      const alloc = buggy.findings.find((f) => f.ruleId === 'kprobe-int3-nmi-slab-fpu' && f.status === 'hazard');
      expect(alloc, 'the slab allocation in the handler').toBeDefined();
      expect(lintExitCode(buggy)).toBe(1);
      const seed = await lintKmod(obj, { assume: { [modeVar]: value('mitigated')! } });
      expect(seed.findings.find((f) => f.ruleId === 'kprobe-int3-nmi-slab-fpu')?.status).toBe('mitigated');
      const deferred = await lintKmod(obj, { assume: { [modeVar]: value('clean')! } });
      expect(deferred.findings.filter((f) => f.status !== 'note')).toEqual([]);
      console.log(`[generations] ${t.release}: ${path.basename(obj)}: buggy -> ${alloc!.path.join(' -> ')} (${alloc!.gfp?.name ?? 'gfp not read'}); seed-fix mitigated; deferred clean`);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 300_000);
  }
});

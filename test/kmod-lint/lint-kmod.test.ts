// lint-kmod on real modules built against the headers of the kernel linux-headers-amd64 depends on
// (headers.ts; test/kmod-lint/modules/ and kmod-reference/), plus malformed input. Module tests are
// skipped, with a message, when those headers are not installed; CI installs them and fails on any
// skipped test.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintExitCode, lintKmod, renderLintSarif, renderLintText, type LintResult } from '../../src/analyzers/kmod/index.js';
import { matchUnsafeCall, UNSAFE_CALLS } from '../../src/analyzers/unsafe-calls.js';
import { InputError } from '../../src/util/errors.js';
import { BUILD_MODULES, pinnedHeaders } from './headers.js';

const headers = pinnedHeaders();
if (!headers) console.warn('lint-kmod: linux-headers-amd64 is not installed: module tests skipped (apt-get install linux-headers-amd64)');

const out = mkdtempSync(join(tmpdir(), 'ktriage-kmod-lint-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(!headers)('lint-kmod on built modules', () => {
  const ko: Record<string, string> = {};
  beforeAll(() => {
    const list = execFileSync('bash', [BUILD_MODULES, out], { encoding: 'utf8', env: { ...process.env, KDIR: headers! } });
    for (const line of list.split('\n').filter(Boolean)) ko[line.split('/').at(-1)!.replace(/\.ko$/, '')] = line;
  }, 300_000);

  it('kmod-reference (hazard.ko, all three modes in one module): per-mode verdicts and the exact path', async () => {
    const r = await lintKmod(ko.hazard);
    const h = r.handlers.find((x) => x.kind === 'kprobe-post' || x.kind === 'kprobe-pre');
    expect(h).toBeDefined();
    expect(h!.context).toBe('nmi');
    expect(h!.mechanism).toBe('int3');
    expect(h!.registration.call).toBe('register_kprobe');
    const alloc = r.findings.find((f) => f.callee === 'kmem_cache_alloc');
    expect(alloc).toBeDefined();
    expect(alloc!.ruleId).toBe('kprobe-int3-nmi-slab-fpu');
    expect(alloc!.path[0]).toBe(h!.function);
    expect(alloc!.path.at(-1)).toBe('kmem_cache_alloc');
    expect(alloc!.gfp?.name).toMatch(/^GFP_ATOMIC/);
    // account_in_handler() is inlined into post(); the module's DWARF names it.
    expect(alloc!.sourcePath).toEqual([h!.function, 'account_in_handler (inlined)', 'kmem_cache_alloc']);
    // The call site really is a call instruction in the file.
    const bytes = readFileSync(ko.hazard);
    expect(bytes[alloc!.callSite.fileOffset]).toBe(0xe8);
    expect(lintExitCode(r)).toBe(1);
    // The mode is a run-time parameter: the verdict for each value of the global the paths test.
    const byVerdict = (v: string) => r.variants.filter((x) => x.verdict === v);
    expect(byVerdict('clean').length).toBeGreaterThan(0); // deferred
    expect(byVerdict('mitigated').length).toBeGreaterThan(0); // seed-fix
    expect(byVerdict('hazard').length).toBeGreaterThan(0); // buggy
    expect(byVerdict('hazard')[0].hazards[0]).toBe(`${h!.function} -> kmem_cache_alloc [kprobe-int3-nmi-slab-fpu]`);
  });

  it('kmod-reference with each mode assumed: buggy flagged, seed-fix mitigated-not-fixed, deferred clean', async () => {
    const first = await lintKmod(ko.hazard);
    const modeVar = Object.keys(first.variants[0]?.assume ?? {})[0];
    expect(modeVar).toBeDefined();
    const value = (verdict: string) => first.variants.find((v) => v.verdict === verdict)!.assume[modeVar];

    const buggy = await lintKmod(ko.hazard, { assume: { [modeVar]: value('hazard') } });
    const b = buggy.findings.filter((f) => f.status !== 'note');
    expect(b.map((f) => f.path.join(' -> '))).toContain(`${b[0].path[0]} -> kmem_cache_alloc`);
    expect(b.every((f) => f.status === 'hazard' && f.mitigation === null)).toBe(true);
    expect(lintExitCode(buggy)).toBe(1);

    const seed = await lintKmod(ko.hazard, { assume: { [modeVar]: value('mitigated') } });
    const s = seed.findings.find((f) => f.callee === 'kmem_cache_alloc')!;
    expect(s.status).toBe('mitigated');
    expect(s.severity).toBe('error');
    expect(s.mitigation!.mitigates).toMatch(/shuffle_freelist/);
    expect(s.mitigation!.doesNotMitigate).toMatch(/NMI context/);
    expect(s.mitigation!.doesNotMitigate).toMatch(/kmalloc/);
    expect(seed.mitigations[0].evidence).toMatch(/cache_random_seq_destroy/);
    expect(lintExitCode(seed)).toBe(1);

    const deferred = await lintKmod(ko.hazard, { assume: { [modeVar]: value('clean') } });
    expect(deferred.findings.filter((f) => f.status !== 'note')).toEqual([]);
    expect(deferred.mitigations).toEqual([]);
    expect(lintExitCode(deferred)).toBe(0);
  });

  it('kprobe pre handler taking a mutex: atomic-sleep-in-kprobe-or-nmi through a helper', async () => {
    const r = await lintKmod(ko.kprobe_mutex);
    expect(r.handlers).toHaveLength(1);
    expect(r.handlers[0]).toMatchObject({ function: 'pre', kind: 'kprobe-pre', context: 'nmi', mechanism: 'int3' });
    expect(r.handlers[0].registration.target).toBe('do_sys_openat2+0x10');
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ ruleId: 'atomic-sleep-in-kprobe-or-nmi', severity: 'error', status: 'hazard', path: ['pre', 'note_open', 'mutex_lock'] });
    expect(lintExitCode(r)).toBe(1);
  });

  it('ftrace callback allocating with GFP_ATOMIC: a note, not a hazard (caller context, not NMI)', async () => {
    const r = await lintKmod(ko.ftrace_atomic);
    expect(r.handlers).toHaveLength(1);
    expect(r.handlers[0]).toMatchObject({ function: 'callback', kind: 'ftrace', context: 'atomic' });
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0];
    expect(f.status).toBe('note');
    expect(f.severity).toBe('note');
    expect(f.path).toEqual(['callback', 'record_hit', 'kmalloc_trace']);
    expect(f.sourcePath).toEqual(['callback', 'record_hit', 'kmalloc (inlined)', 'kmalloc_trace']);
    expect(f.gfp).toMatchObject({ value: 0xa20, maySleep: false });
    expect(f.why).toMatch(/Not NMI context/);
    expect(lintExitCode(r)).toBe(0);
  });

  it('kretprobe return handler with GFP_KERNEL (may sleep, not NMI) and a perf overflow handler freeing (NMI)', async () => {
    const r = await lintKmod(ko.kretprobe_perf);
    expect(r.handlers.map((h) => `${h.function}:${h.kind}:${h.context}`).sort()).toEqual(['overflow:perf-overflow:nmi', 'ret_handler:kretprobe-return:atomic']);
    expect(r.handlers.find((h) => h.kind === 'kretprobe-return')!.registration.target).toBe('do_sys_openat2');
    const ret = r.findings.find((f) => f.handler.function === 'ret_handler')!;
    expect(ret).toMatchObject({ ruleId: 'atomic-sleep-in-kprobe-or-nmi', severity: 'error', status: 'hazard', callee: 'kmalloc_trace' });
    expect(ret.gfp).toMatchObject({ value: 0xcc0, maySleep: true });
    const ovf = r.findings.find((f) => f.handler.function === 'overflow')!;
    expect(ovf).toMatchObject({ ruleId: 'slab-free-from-nmi', severity: 'error', path: ['overflow', 'kfree'] });
    expect(lintExitCode(r)).toBe(1);
  });

  it('clean module (int3 kprobe + NMI handler, allocation and mutex only in init): no findings', async () => {
    const r = await lintKmod(ko.clean_probe);
    expect(r.handlers.map((h) => `${h.function}:${h.kind}:${h.context}`).sort()).toEqual(['on_nmi:nmi:nmi', 'pre:kprobe-pre:nmi']);
    expect(r.findings).toEqual([]);
    expect(lintExitCode(r)).toBe(0);
    expect(renderLintText(r)).toMatch(/Findings \(0 hazards, 0 notes\)/);
  });

  it('renders text and SARIF 2.1.0 with the module as artifact and functions as logical locations', async () => {
    const r: LintResult = await lintKmod(ko.kprobe_mutex);
    const text = renderLintText(r);
    expect(text).toContain('path: pre -> note_open -> mutex_lock');
    expect(text).toContain('ERROR atomic-sleep-in-kprobe-or-nmi');
    const sarif = renderLintSarif(r);
    const json = JSON.parse(JSON.stringify(sarif));
    expect(json.version).toBe('2.1.0');
    const run = json.runs[0];
    expect(run.artifacts[0].location.uri).toMatch(/^file:\/\/.*kprobe_mutex\.ko$/);
    const res = run.results[0];
    expect(run.tool.driver.rules[res.ruleIndex].id).toBe(res.ruleId);
    expect(res.level).toBe('error');
    expect(res.locations[0].logicalLocations[0].name).toBe('note_open');
    expect(run.logicalLocations.map((l: { name: string }) => l.name)).toContain('pre');
    expect(res.codeFlows[0].threadFlows[0].locations.map((l: { location: { logicalLocations: { name: string }[] } }) => l.location.logicalLocations[0].name)).toEqual(['pre', 'note_open', 'mutex_lock']);
    expect(res.locations[0].physicalLocation.region.byteOffset).toBe(r.findings[0].callSite.fileOffset);
  });
});

describe('lint-kmod input errors are one-line InputErrors', () => {
  const file = (name: string, bytes: Uint8Array) => {
    const p = join(out, name);
    writeFileSync(p, bytes);
    return p;
  };
  const elfHeader = (over: { cls?: number; type?: number; machine?: number; shoff?: bigint }) => {
    const b = new Uint8Array(64);
    b.set([0x7f, 0x45, 0x4c, 0x46, over.cls ?? 2, 1, 1]);
    const dv = new DataView(b.buffer);
    dv.setUint16(16, over.type ?? 1, true);
    dv.setUint16(18, over.machine ?? 62, true);
    dv.setBigUint64(40, over.shoff ?? 0x1000n, true);
    dv.setUint16(58, 64, true);
    dv.setUint16(60, 10, true);
    return b;
  };
  const expectOneLine = async (p: string, re: RegExp) => {
    const err = await lintKmod(p).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(re);
  };

  it('empty file', () => expectOneLine(file('empty.ko', new Uint8Array(0)), /empty file/));
  it('random bytes', () => expectOneLine(file('random.ko', Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff)), /not an ELF file/));
  it('missing file', () => expectOneLine(join(out, 'nope.ko'), /cannot read \(no such file\)/));
  it('ELF that is not relocatable (executable)', () => expectOneLine(file('exec.ko', elfHeader({ type: 2 })), /not a relocatable kernel module/));
  it('a shared object on this system', async () => {
    const so = ['/bin/ls', '/usr/bin/ls'].find((x) => existsSync(x));
    if (so) await expectOneLine(so, /not a relocatable kernel module \(ET_REL\)/);
  });
  it('32-bit ELF, and a machine other than x86_64 and AArch64', async () => {
    await expectOneLine(file('elf32.ko', elfHeader({ cls: 1 })), /32-bit ELF/);
    await expectOneLine(file('ppc64.ko', elfHeader({ machine: 21 })), /ELF machine 21 \(PowerPC64\) is not supported/);
    // AArch64 is read (test/kmod-lint/arm64.test.ts): this header's section table is past the end.
    await expectOneLine(file('arm64.ko', elfHeader({ machine: 183 })), /truncated/);
  });
  it('truncated header and truncated section table', async () => {
    await expectOneLine(file('short.ko', elfHeader({}).subarray(0, 40)), /truncated ELF header/);
    await expectOneLine(file('trunc.ko', elfHeader({ shoff: 0x1000n })), /truncated/);
  });
  it.skipIf(!headers)('a real module cut short', async () => {
    // Reuse the module built above when that suite ran; build it otherwise.
    let ko = join(out, 'kprobe_mutex', 'kprobe_mutex.ko');
    if (!existsSync(ko)) {
      const list = execFileSync('bash', [BUILD_MODULES, join(out, 'trunc-build')], { encoding: 'utf8', env: { ...process.env, KDIR: headers!, WITH_REFERENCE: '0' } });
      ko = list.split('\n')[0];
    }
    const real = readFileSync(ko);
    for (const n of [100, 5000, real.length - 100]) await expectOneLine(file(`cut${n}.ko`, real.subarray(0, n)), /truncated|past end|do not fit/);
  }, 300_000);
});

describe('unsafe-call table', () => {
  it('matches names as object code calls them', () => {
    expect(matchUnsafeCall('kmem_cache_alloc')?.entry.id).toBe('kprobe-int3-nmi-slab-fpu');
    expect(matchUnsafeCall('kmalloc_trace')?.pattern.gfpArg).toBe(1);
    expect(matchUnsafeCall('kmem_cache_alloc_lru')?.pattern.gfpArg).toBe(2);
    expect(matchUnsafeCall('__SCT__cond_resched')?.entry.id).toBe('atomic-sleep-in-kprobe-or-nmi');
    expect(matchUnsafeCall('mutex_lock_interruptible')?.entry.category).toBe('sleeping');
    expect(matchUnsafeCall('_raw_spin_lock_irqsave')?.entry.id).toBe('lock-inconsistent-in-nmi');
    expect(matchUnsafeCall('_raw_spin_trylock')).toBeNull();
    expect(matchUnsafeCall('_raw_spin_unlock')).toBeNull();
    expect(matchUnsafeCall('irq_work_queue')).toBeNull();
    expect(matchUnsafeCall('vfree')?.entry.id).toBe('vmalloc-vfree-atomic');
    expect(matchUnsafeCall('kfree')?.entry.id).toBe('slab-free-from-nmi');
    expect(matchUnsafeCall('_printk')?.entry.severity.nmi).toBe('note');
    expect(matchUnsafeCall('kernel_fpu_begin_mask')?.entry.category).toBe('fpu');
    expect(matchUnsafeCall('get_random_u32')?.entry.category).toBe('random');
  });
  it('knows the allocators as 6.10+ kernels export them (`_noprof`, memory allocation profiling)', () => {
    // name as a module built against 6.10 .. 7.2 headers calls it -> rule, gfp argument (null: not read)
    const cases: [string, string, number | null | undefined][] = [
      ['kmem_cache_alloc_noprof', 'kprobe-int3-nmi-slab-fpu', 1],
      ['kmem_cache_alloc_node_noprof', 'kprobe-int3-nmi-slab-fpu', 1],
      ['kmem_cache_alloc_lru_noprof', 'kprobe-int3-nmi-slab-fpu', 2],
      ['kmem_cache_alloc_bulk_noprof', 'kprobe-int3-nmi-slab-fpu', 1],
      ['kmalloc_trace_noprof', 'kprobe-int3-nmi-slab-fpu', 1], // 6.10
      ['kmalloc_node_trace_noprof', 'kprobe-int3-nmi-slab-fpu', 1],
      ['kmalloc_large_noprof', 'kprobe-int3-nmi-slab-fpu', 1],
      ['__kmalloc_cache_noprof', 'kprobe-int3-nmi-slab-fpu', 1], // 6.11+
      ['__kmalloc_cache_node_noprof', 'kprobe-int3-nmi-slab-fpu', 1],
      ['__kmalloc_large_noprof', 'kprobe-int3-nmi-slab-fpu', 1],
      ['__kmalloc_large_node_noprof', 'kprobe-int3-nmi-slab-fpu', 1],
      ['__kmalloc_noprof', 'kprobe-int3-nmi-slab-fpu', null],
      ['__kmalloc_node_noprof', 'kprobe-int3-nmi-slab-fpu', null],
      ['__kmalloc_node_track_caller_noprof', 'kprobe-int3-nmi-slab-fpu', null],
      ['krealloc_noprof', 'kprobe-int3-nmi-slab-fpu', 2],
      ['krealloc_node_align_noprof', 'kprobe-int3-nmi-slab-fpu', null],
      ['kvmalloc_node_noprof', 'kprobe-int3-nmi-slab-fpu', 1],
      ['__kvmalloc_node_noprof', 'kprobe-int3-nmi-slab-fpu', null],
      ['kvrealloc_noprof', 'kprobe-int3-nmi-slab-fpu', null],
      ['kmemdup_noprof', 'kprobe-int3-nmi-slab-fpu', 2],
      ['pcpu_alloc_noprof', 'kprobe-handler-unsafe-call', 3],
      ['alloc_pages_noprof', 'kprobe-handler-unsafe-call', 0],
      ['__alloc_pages_noprof', 'kprobe-handler-unsafe-call', 0],
      ['alloc_pages_exact_noprof', 'kprobe-handler-unsafe-call', 1],
      ['alloc_pages_exact_nid_noprof', 'kprobe-handler-unsafe-call', 2],
      ['__folio_alloc_noprof', 'kprobe-handler-unsafe-call', 0],
      ['get_free_pages_noprof', 'kprobe-handler-unsafe-call', 0],
      ['get_zeroed_page_noprof', 'kprobe-handler-unsafe-call', 0],
      ['vmalloc_noprof', 'vmalloc-vfree-atomic', undefined],
      ['__vmalloc_noprof', 'vmalloc-vfree-atomic', undefined],
      ['vzalloc_noprof', 'vmalloc-vfree-atomic', undefined],
      ['vmalloc_huge_node_noprof', 'vmalloc-vfree-atomic', undefined],
    ];
    for (const [name, id, gfp] of cases) {
      const m = matchUnsafeCall(name);
      expect(m?.entry.id, name).toBe(id);
      expect(m?.pattern.gfpArg, name).toBe(gfp === null ? undefined : gfp);
    }
    // 6.15+: made for any context, NMI included
    for (const safe of ['_kmalloc_nolock_noprof', 'kfree_nolock', 'alloc_pages_nolock_noprof']) expect(matchUnsafeCall(safe), safe).toBeNull();
    // a name that is only the suffix, or a function that merely ends like one, is not an allocator
    expect(matchUnsafeCall('_noprof')).toBeNull();
    expect(matchUnsafeCall('my_noprof')).toBeNull();
    // the unsuffixed names keep their pre-6.10 gfp positions
    expect(matchUnsafeCall('kvrealloc')?.pattern.gfpArg).toBe(3);
    expect(matchUnsafeCall('__kmalloc')?.pattern.gfpArg).toBe(1);
  });

  it('every entry has an id, patterns, why and fix', () => {
    for (const e of UNSAFE_CALLS) {
      expect(e.id).toMatch(/^[a-z0-9-]+$/);
      expect(e.patterns.length).toBeGreaterThan(0);
      expect(e.why.length).toBeGreaterThan(20);
      expect(e.fix.length).toBeGreaterThan(20);
    }
  });
});

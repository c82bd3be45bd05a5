import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeLog, decodeCodeLine, parseLog } from '../../src/analyzers/log/index.js';

// The committed copies of shared/seed/original-report.zh.txt and shared/logs/debian-6.1.192-*.log
// (fixtures/README.md), so the test runs in any clone.
const FIX = new URL('../../fixtures/', import.meta.url);
const SEED = new URL('log-rhel9-seed/report.zh.txt', FIX);
const DEBIAN = new URL('log-debian-6.1.192-serial/console.log', FIX);

function names(frames: { function: string | null }[]): string[] {
  return frames.map((f) => f.function ?? '');
}

describe('seed log (pasted, mangled)', () => {
  const a = parseLog(readFileSync(SEED, 'utf8'));
  const warns = a.reports.filter((r) => r.kind === 'WARNING');

  it('has exactly one WARNING with the syzkaller-style title', () => {
    expect(warns).toHaveLength(1);
    expect(a.reports).toHaveLength(1);
    expect(warns[0].title).toBe('WARNING in irq_fpu_usable');
    expect(warns[0].guiltyFrame).toBe('irq_fpu_usable');
  });

  it('reads CPU, PID, Comm, kernel, location, RIP (lost `+` repaired)', () => {
    const r = warns[0];
    expect(r.cpu).toBe(3);
    expect(r.pid).toBe(3347);
    expect(r.comm).toBe('bash');
    expect(r.kernelRelease).toBe('5.14.0-284.11.1.el9_2.x86_64');
    expect(r.tainted).toBe('G OE');
    expect(r.location).toBe('arch/x86/kernel/fpu/core.c:60');
    expect(r.rip).toMatchObject({ function: 'irq_fpu_usable', offset: 0x39, size: 0x50 });
    expect(r.hardware).toMatch(/^VMware, Inc\./);
  });

  it('has the frames in order, with the module and digit-suffixed names split right', () => {
    const r = warns[0];
    const reliable = r.frames.filter((f) => !f.unreliable);
    const n = names(reliable);
    expect(n[0]).toBe('blake2s_compress');
    expect(n[n.length - 1]).toBe('filemap_read');
    const order = ['blake2s_compress', 'blake2s_final', 'extract_entropy.constprop.0', 'crng_make_state', '_get_random_bytes.part.0',
      'get_random_u32', 'allocate_slab', '___slab_alloc', 'kmem_cache_alloc', 'hot_file_update_file_status', 'kprobe_post_process',
      'kprobe_int3_handler', 'do_int3', 'exc_int3', 'filemap_read'];
    expect(n).toEqual(order);
    const ee = reliable.find((f) => f.function === 'extract_entropy.constprop.0');
    expect(ee).toMatchObject({ offset: 0x94, size: 0x250 });
    const hot = reliable.find((f) => f.function === 'hot_file_update_file_status');
    expect(hot).toMatchObject({ module: 'async_memory_reclaim_for_cold_file_area', offset: 0x164, size: 0xa60 });
    expect(r.frames.some((f) => f.function === null && f.address === '0xffffffffc0572011' && f.unreliable)).toBe(true);
  });

  it('recognises the crash-utility backtrace and attaches it', () => {
    const bt = warns[0].crashBacktrace;
    expect(bt).toBeDefined();
    expect(bt?.pid).toBe(33);
    expect(bt?.cpu).toBe(3);
    const n = names(bt!.frames);
    expect(n.slice(0, 3)).toEqual(['machine_kexec', '__crash_kexec', 'panic']);
    expect(n).toContain('crng_reseed.constprop.0');
    expect(n[n.length - 1]).toBe('filemap_read');
    expect(bt!.exceptions[0].rip).toMatchObject({ function: 'irq_fpu_usable', offset: 57 });
    const hot = bt!.frames.find((f) => f.function === 'hot_file_update_file_status');
    expect(hot?.module).toBe('async_memory_reclaim_for_cold_file_area');
  });

  it('notes the repair', () => {
    expect(a.notes.join(' ')).toMatch(/glued/);
  });
});

describe('Debian 6.1 serial log (WARN then panic_on_warn)', () => {
  const text = readFileSync(DEBIAN, 'utf8');

  it('reports one WARNING with the panic attached, not a second report', async () => {
    const a = await analyzeLog(text);
    expect(a.reports).toHaveLength(1);
    const r = a.reports[0];
    expect(r.kind).toBe('WARNING');
    expect(r.title).toBe('WARNING in irq_fpu_usable');
    expect(r.panic).toBe('Kernel panic - not syncing: kernel: panic_on_warn set ...');
    expect(r.panicOnWarn).toBe(true);
    expect(a.panics).toEqual(['Kernel panic - not syncing: kernel: panic_on_warn set ...']);
    expect(r.ripRaw).toBe('0010:irq_fpu_usable+0x39/0x50');
    expect(r.rip).toMatchObject({ function: 'irq_fpu_usable', offset: 0x39, size: 0x50 });
    expect(r.cpu).toBe(0);
    expect(r.pid).toBe(1585);
    expect(r.comm).toBe('cat');
    // the release the boot banner of the same log names, not one Debian ABI
    expect(r.kernelRelease).toBe(/Linux version (\S+)/.exec(text)![1]);
    expect(r.modules).toEqual(['hazard', 'qemu_fw_cfg']);
    expect(r.registers.RDX).toBe('0000000080110001');
    // Code: decoded, ud2 at the marked byte
    expect(r.code?.isUd2).toBe(true);
    expect(r.code?.faultingInstruction).toBe('ud2');
    const fi = r.code!.instructions.find((i) => i.faulting);
    expect(fi).toMatchObject({ text: 'ud2', bytes: '0f 0b' });
    // instructions before the mark end exactly at it
    const before = r.code!.instructions.filter((i) => !i.faulting && i.address < fi!.address);
    const last = before[before.length - 1];
    expect(last.address + last.bytes.split(' ').length).toBe(fi!.address);
  });

  it('has structured frames with context, module, unreliable, address-only and the exception RIP block', () => {
    const r = parseLog(text).reports[0];
    const n = names(r.frames);
    expect(n).toContain('exc_int3');
    expect(n).toContain('asm_exc_int3');
    const post = r.frames.find((f) => f.function === 'post' && !f.unreliable);
    expect(post).toMatchObject({ module: 'hazard', offset: 0x28, size: 0xa0, context: 'TASK' });
    expect(r.frames.some((f) => f.function === 'post' && f.unreliable)).toBe(true);
    expect(r.frames.some((f) => f.function === null && f.address === '0xffffffffc054b002')).toBe(true);
    const exc = r.exceptions.find((e) => e.rip?.function === 'copy_page_to_iter');
    expect(exc).toBeDefined();
    expect(exc!.rip).toMatchObject({ offset: 7, size: 0x1e0 });
    const ef = r.frames[exc!.frameIndex];
    expect(ef).toMatchObject({ function: 'copy_page_to_iter', offset: 7, size: 0x1e0, exceptionRip: true });
    expect(names(r.frames.slice(0, exc!.frameIndex)).at(-1)).toBe('asm_exc_int3');
    expect(exc!.registers.RDI).toBe('fff80ede40219a40');
    // the panic re-print did not add frames: blake2s_compress appears once
    expect(n.filter((x) => x === 'blake2s_compress')).toHaveLength(1);
    expect(n).not.toContain('dump_stack_lvl');
  });

  it('decodes a Code: line on its own', async () => {
    const d = await decodeCodeLine('Code: 00 f0 00 75 25 65 8a 0d 2d f4 5d 71 31 c0 84 c9 75 13 b8 01 00 00 00 f7 c2 00 00 0f 00 74 06 80 e6 ff 0f 94 c0 c3 cc cc cc cc <0f> 0b 31 c0 c3 cc cc cc cc');
    expect(d.isUd2).toBe(true);
    expect(d.faultingInstruction).toBe('ud2');
    const after = d.instructions.filter((i) => i.address > 42).map((i) => i.text);
    expect(after.slice(0, 2)).toEqual(['xor eax, eax', 'ret']);
  });
});

// Symbol files are checked against the dump they are given with: a System.map or vmlinux of
// another kernel build is refused with one line naming both kernels, even when the dump's own
// kallsyms would have been used (a wrong file silently accepted once gave garbage per-CPU values
// for "CPUs" up to 8190 and a 20,000-line report). Real fixture dump; the symbol files are written
// from its own kallsyms, then moved the way another build of the same release moves them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openKernel } from '../../src/kernel/kernel.js';
import { SymbolFileMismatchError, symbolFileMismatch } from '../../src/kernel/symfiles.js';
import { openDump } from '../../src/vmcore/index.js';
import { FIXTURES } from '../paths.js';
import { DEBIAN12_AMD64 } from '../fixture-kernels.js';

/** A release of another build than the fixture's (an ABI Debian has not reached). */
const OTHER = DEBIAN12_AMD64.replace(/-(\d+)-/, '-999-');

const DUMP = path.join(FIXTURES, 'vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ktriage-symcheck-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('symbol files checked against the dump', () => {
  const dump = openDump(DUMP);
  const k = openKernel(dump);
  const release = k.vmcoreinfo.osrelease!;
  const shift = k.kaslrOffset!;
  /** System.map at link-time addresses; `move` shifts the data symbols of a "different build". */
  const writeMap = (name: string, move: (n: string) => bigint) => {
    const lines = k.symbols
      .all()
      .filter((s) => /^[TtDdBbRr]$/.test(s.type))
      .map((s) => `${(s.address - shift + move(s.name)).toString(16).padStart(16, '0')} ${s.type} ${s.name}`);
    const f = path.join(tmp, name);
    fs.writeFileSync(f, lines.join('\n') + '\n');
    return f;
  };

  it('accepts the right System.map even though the dump has kallsyms', () => {
    const f = writeMap(`System.map-${release}`, () => 0n);
    const k2 = openKernel(dump, { systemMap: f });
    expect(k2.symbols.source).toBe('kallsyms');
    expect(k2.symbols.lookup('init_uts_ns')).toBe(k.symbols.lookup('init_uts_ns'));
  });

  it('refuses a System.map of another build: one line naming both kernels', () => {
    // Another build of the same release: text identical up to _stext, data laid out 0x2000 further on.
    const f = writeMap(`System.map-${OTHER}`, (n) => (n === '_stext' || n === '_text' ? 0n : 0x2000n));
    let err: unknown;
    try {
      openKernel(dump, { systemMap: f });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SymbolFileMismatchError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toContain(`for ${OTHER}`);
    expect(msg).toContain(`the dump is ${release}`);
    expect(msg).toMatch(/init_uts_ns|swapper_pg_dir|node_online_map/);
  });

  it('refuses a vmlinux whose build ID is not the dump\'s', () => {
    const vi = k.vmcoreinfo;
    expect(vi.buildId).toMatch(/^[0-9a-f]{40}$/);
    const other = 'ab'.repeat(20);
    const msg = symbolFileMismatch('vmlinux-x', k.symbols, vi, { buildId: other, banner: `Linux version ${OTHER} (debian-kernel@lists.debian.org) #1 SMP` });
    expect(msg).toContain(`for ${OTHER}`);
    expect(msg).toContain('build ID abababababab');
    expect(symbolFileMismatch('vmlinux-x', k.symbols, vi, { buildId: vi.buildId })).toBeUndefined();
  });
});

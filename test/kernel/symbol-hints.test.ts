// Debian's /boot/System.map is a one-line stub: the messages must point at the -dbg package's
// files and never back at the stub.
import { describe, expect, it } from 'vitest';
import { debianStubPackage, stubSystemMapMessage, symbolFileHint } from '../../src/kernel/symbol-hints.js';
import { parseSystemMap } from '../../src/kernel/symfiles.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';

// The stub as Debian 12's linux-image-6.1.0-57-amd64 installs it (/boot/System.map-6.1.0-57-amd64).
const STUB = 'ffffffffffffffff B The real System.map is in the linux-image-6.1.0-57-amd64-dbg package\n';

describe('Debian stub System.map', () => {
  it('is recognised, with the package it names', () => {
    expect(debianStubPackage(STUB)).toBe('linux-image-6.1.0-57-amd64-dbg');
    expect(debianStubPackage('ffffffff81000000 T _stext\n')).toBeUndefined();
  });

  it('--system-map <stub>: the error names the -dbg files for the dump\'s release, not the stub', () => {
    const vi = parseVmcoreinfo('OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\n');
    expect(() => parseSystemMap(STUB, vi, '/boot/System.map-6.1.0-56-amd64')).toThrow(
      /is Debian's stub.*\/usr\/lib\/debug\/boot\/System\.map-6\.1\.0-56-amd64 from the linux-image-6\.1\.0-56-amd64-dbg package.*--vmlinux \/usr\/lib\/debug\/boot\/vmlinux-6\.1\.0-56-amd64/,
    );
    // without a release from the dump, the stub's own package name gives it
    expect(stubSystemMapMessage('x', STUB, undefined)).toMatch(/System\.map-6\.1\.0-57-amd64/);
  });

  it('the no-symbols hint skips /boot/System.map when it is the stub, names it when it is real', () => {
    const stubFs = { exists: (p: string) => p.startsWith('/boot/'), isStub: () => true };
    const h = symbolFileHint('6.1.0-56-amd64', stubFs);
    expect(h).not.toMatch(/--system-map \/boot\//);
    expect(h).toMatch(/--system-map \/usr\/lib\/debug\/boot\/System\.map-6\.1\.0-56-amd64 or --vmlinux \/usr\/lib\/debug\/boot\/vmlinux-6\.1\.0-56-amd64 \(from the linux-image-6\.1\.0-56-amd64-dbg package/);
    const realFs = { exists: (p: string) => p.startsWith('/boot/'), isStub: () => false };
    expect(symbolFileHint('6.1.0-56-amd64', realFs)).toMatch(/^Give --system-map \/boot\/System\.map-6\.1\.0-56-amd64 or /);
    const installed = { exists: () => true, isStub: () => true };
    expect(symbolFileHint('6.1.0-56-amd64', installed)).not.toMatch(/from the linux-image/);
  });
});

// Debian's /boot/System.map is a one-line stub: the messages must point at the -dbg package's
// files and never back at the stub.
import { describe, expect, it } from 'vitest';
import { debianStubPackage, stubSystemMapMessage, symbolFileHint } from '../../src/kernel/symbol-hints.js';
import { parseSystemMap } from '../../src/kernel/symfiles.js';
import { parseVmcoreinfo } from '../../src/kernel/vmcoreinfo.js';
import { DEBIAN12_AMD64 } from '../fixture-kernels.js';

// The dump's release is the incident fixture's (REL; R as a regular expression). The stub is the one
// Debian 12's linux-image of the next ABI installs (/boot/System.map-<release>): a machine whose
// installed kernel is not the dump's, so the messages must follow the dump, not the stub.
const esc = (v: string) => v.replace(/[.+]/g, '\\$&');
const REL = DEBIAN12_AMD64;
const R = esc(REL);
const STUB_REL = REL.replace(/-(\d+)-/, (_m, n: string) => `-${Number(n) + 1}-`);
const STUB = `ffffffffffffffff B The real System.map is in the linux-image-${STUB_REL}-dbg package\n`;

describe('Debian stub System.map', () => {
  it('is recognised, with the package it names', () => {
    expect(debianStubPackage(STUB)).toBe(`linux-image-${STUB_REL}-dbg`);
    expect(debianStubPackage('ffffffff81000000 T _stext\n')).toBeUndefined();
  });

  it('--system-map <stub>: the error names the -dbg files for the dump\'s release, not the stub', () => {
    const vi = parseVmcoreinfo(`OSRELEASE=${REL}\nPAGESIZE=4096\n`);
    expect(() => parseSystemMap(STUB, vi, `/boot/System.map-${REL}`)).toThrow(
      new RegExp(`is Debian's stub.*/usr/lib/debug/boot/System\\.map-${R} from the linux-image-${R}-dbg package.*--vmlinux /usr/lib/debug/boot/vmlinux-${R}`),
    );
    // without a release from the dump, the stub's own package name gives it
    expect(stubSystemMapMessage('x', STUB, undefined)).toMatch(new RegExp(`System\\.map-${esc(STUB_REL)}`));
  });

  it('the no-symbols hint skips /boot/System.map when it is the stub, names it when it is real', () => {
    const stubFs = { exists: (p: string) => p.startsWith('/boot/'), isStub: () => true };
    const h = symbolFileHint(REL, stubFs);
    expect(h).not.toMatch(/--system-map \/boot\//);
    expect(h).toMatch(new RegExp(`--system-map /usr/lib/debug/boot/System\\.map-${R} or --vmlinux /usr/lib/debug/boot/vmlinux-${R} \\(from the linux-image-${R}-dbg package`));
    const realFs = { exists: (p: string) => p.startsWith('/boot/'), isStub: () => false };
    expect(symbolFileHint(REL, realFs)).toMatch(new RegExp(`^Give --system-map /boot/System\\.map-${R} or `));
    const installed = { exists: () => true, isStub: () => true };
    expect(symbolFileHint(REL, installed)).not.toMatch(/from the linux-image/);
  });
});

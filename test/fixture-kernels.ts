// Kernel release strings that tests use as ordinary inputs (a release to decode against, a header
// line of a generated log), read from the committed fixtures' own metadata instead of written into
// the tests: Debian moves the ABI (6.1.0-56 became -57), and the fixtures record what they ran.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './paths.js';

/**
 * The release a fixture's QEMU run booted: `kver` in its result.json (run.py), else `RELEASE=` in
 * its kernel.txt (the arm64 and other-kernel scripts).
 */
export function fixtureRelease(fixture: string): string {
  const r = JSON.parse(readFileSync(join(FIXTURES, fixture, 'result.json'), 'utf8')) as { kver?: unknown };
  if (typeof r.kver === 'string' && r.kver) return r.kver;
  const k = /^RELEASE=(\S+)$/m.exec(readFileSync(join(FIXTURES, fixture, 'kernel.txt'), 'utf8'))?.[1];
  if (!k) throw new Error(`${fixture} names no kernel release (result.json kver, kernel.txt RELEASE)`);
  return k;
}

/** Debian 12's amd64 kernel of the incident's fixture, e.g. 6.1.0-<abi>-amd64. */
export const DEBIAN12_AMD64 = fixtureRelease('vmcore-debian-6.1.192-buggy-2cpu');
/** Debian 11's amd64 kernel of the 5.10 fixtures, e.g. 5.10.0-<abi>-amd64. */
export const DEBIAN11_AMD64 = fixtureRelease('vmcore-debian-5.10.262-sysrq-2cpu');
/** Debian 12's arm64 kernel of the arm64 fixtures, e.g. 6.1.0-<abi>-arm64. */
export const DEBIAN12_ARM64 = fixtureRelease('vmcore-debian-6.1.192-arm64-sysrq-2cpu');

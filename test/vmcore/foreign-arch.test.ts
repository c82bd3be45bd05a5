// Dumps of another architecture are recognised and refused, never read as x86_64 memory. The
// inputs are a real arm64 dump (Debian 12's 6.1.0-57-arm64 in qemu-system-aarch64, sysrq-c):
// its ELF core, whose e_machine says so, and the first MiB of QEMU's kdump-zlib file of the same
// crash, whose header says machine "Unknown": there VMCOREINFO and the notes must decide.
import { execSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectArch } from '../../src/vmcore/arch-detect.js';
import { openDump } from '../../src/vmcore/index.js';
import { InputError } from '../../src/util/errors.js';
import { FIXTURES, REPO } from '../paths.js';

const ARM64 = join(FIXTURES, 'vmcore-debian-6.1.192-arm64-sysrq-2cpu');
const KDUMP_HEAD = join(ARM64, 'qemu-dump.kdump-zlib.head-1MiB');
const tmp = mkdtempSync(join(tmpdir(), 'ktriage-arch-'));
const ELF_HEAD = join(tmp, 'arm64-head.elf');
// The ELF header and notes are in the first MiB; the 512 MiB of memory after them are not needed.
writeFileSync(ELF_HEAD, execSync(`xz -dc '${join(ARM64, 'qemu-dump.elf.xz')}' | head -c 1048576`, { maxBuffer: 2 << 20 }));
const bin = join(REPO, 'bin/ktriage.js');
const run = (args: string[]) => spawnSync('node', [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('a dump of another architecture', () => {
  for (const [what, file, evidence] of [
    ['ELF core (e_machine 183)', ELF_HEAD, /ELF e_machine 183/],
    ['kdump-compressed, machine "Unknown" in its header', KDUMP_HEAD, /NUMBER\(kimage_voffset\).*OSRELEASE 6\.1\.0-\d+-arm64.*392-byte NT_PRSTATUS/],
  ] as const) {
    it(`${what}: refused as aarch64 by openDump, with the evidence`, () => {
      let err: unknown;
      try {
        openDump(file).close();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/aarch64/);
      expect((err as Error).message).toMatch(evidence);
    });

    for (const cmd of ['analyze', 'info', 'bt']) {
      it(`${what}: \`ktriage ${cmd}\` exits 2 with one line`, () => {
        const r = run([cmd, file]);
        expect(r.status).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/a dump taken on aarch64 .*reads x86_64 dumps only/);
      });
    }
  }
});

describe('detectArch', () => {
  it('an x86_64 VMCOREINFO, with a blank machine field, is x86_64', () => {
    const vi = readFileSync(join(FIXTURES, 'vmcore-debian-5.10.262-sysrq-2cpu/vmcoreinfo.txt'), 'utf8');
    expect(detectArch({ machine: '', vmcoreinfo: vi, prstatusSizes: [336, 336] }).arch).toBe('x86_64');
  });

  it('the arm64 VMCOREINFO outranks a header that claims x86_64', () => {
    const vi = readFileSync(join(ARM64, 'vmcoreinfo.txt'), 'utf8');
    const v = detectArch({ machine: 'x86_64', vmcoreinfo: vi, prstatusSizes: [] });
    expect(v.arch).toBe('aarch64');
    expect(v.evidence).toContain('VMCOREINFO NUMBER(kimage_voffset)');
  });

  it('nothing that names an architecture gives no verdict', () => {
    expect(detectArch({ machine: 'Unknown', vmcoreinfo: null, prstatusSizes: [100] })).toEqual({ arch: null, evidence: [] });
  });
});

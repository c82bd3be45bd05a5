// A dump's architecture comes from what the dump says, never assumed x86_64. The inputs are a
// real arm64 dump (Debian 12's arm64 6.1.192 in qemu-system-aarch64, sysrq-c): its ELF core,
// whose e_machine says so, and the first MiB of QEMU's kdump-zlib file of the same crash, whose
// header says machine "Unknown": there VMCOREINFO and the notes must decide.
import { execSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectArch } from '../../src/vmcore/arch-detect.js';
import { openDump } from '../../src/vmcore/index.js';
import { FIXTURES, REPO } from '../paths.js';

const ARM64 = join(FIXTURES, 'vmcore-debian-6.1.192-arm64-sysrq-2cpu');
const KDUMP_HEAD = join(ARM64, 'vmcore.kdump-zlib.head-1MiB');
const tmp = mkdtempSync(join(tmpdir(), 'ktriage-arch-'));
const ELF_HEAD = join(tmp, 'arm64-head.elf');
// The ELF header and notes are in the first MiB; the 512 MiB of memory after them are not needed.
writeFileSync(ELF_HEAD, execSync(`xz -dc '${join(ARM64, 'vmcore.elf.xz')}' | head -c 1048576`, { maxBuffer: 2 << 20 }));
const bin = join(REPO, 'bin/ktriage.js');
const run = (args: string[]) => spawnSync('node', [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('an arm64 dump', () => {
  it('ELF core (e_machine 183): opened as aarch64, NT_PRSTATUS decoded as user_pt_regs', () => {
    const d = openDump(ELF_HEAD);
    try {
      expect(d.arch).toBe('aarch64');
      // dump-facts.txt: CPU 0 stopped at vectors+0x280 with PAC bits in x30; CPU 1 in local_cpu_stop.
      expect(d.prstatus.map((p) => [p.pid, p.regs.pc, p.regs.sp, p.regs.x29, p.regs.x30])).toEqual([
        [1, 0xffffdec384210a80n, 0xffff80000802b900n, 0xffff80000802b900n, 0x3eb6dec384e98e84n],
        [2, 0xffffdec384226ae8n, expect.any(BigInt), expect.any(BigInt), expect.any(BigInt)],
      ]);
    } finally {
      d.close();
    }
  });

  it('kdump-compressed whose header says machine "Unknown": aarch64 from VMCOREINFO and the notes, 64 KiB blocks', () => {
    const d = openDump(KDUMP_HEAD);
    try {
      expect(d.arch).toBe('aarch64');
      expect(d.info.details).toMatchObject({ blockSize: 65536, maxMapnr: 24576, machine: 'Unknown' });
      expect(d.prstatus.map((p) => p.regs.pc)).toEqual([0xffffdec384210a80n, 0xffffdec384226ae8n]);
    } finally {
      d.close();
    }
  });

  it('the first MiB of the kdump file (no page data): `ktriage info` says what is missing, never exits 3', () => {
    const r = run(['info', KDUMP_HEAD]);
    expect(r.status === 0 || r.status === 2 || r.status === 4).toBe(true);
    expect(r.stderr).not.toMatch(/internal error/);
  });
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

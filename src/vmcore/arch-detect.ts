// Which architecture a dump was taken on, from every place a dump says it. A kdump-compressed
// header's utsname.machine is often blank or "Unknown" (QEMU's dump-guest-memory writes no
// machine name for arm64), so a missing machine field must not mean "x86_64": VMCOREINFO, which
// each architecture's kernel fills with its own keys, and the size of the NT_PRSTATUS notes decide.
//
// Sources of the keys (each kernel's arch/<arch>/kernel/{crash_core,vmcore_info}*.c):
//   x86_64   SYMBOL(init_top_pgt), NUMBER(phys_base), NUMBER(pgtable_l5_enabled)
//   arm64    NUMBER(kimage_voffset), NUMBER(TCR_EL1_T1SZ), NUMBER(KERNELPACMASK)
//   riscv64  NUMBER(phys_ram_base)
//   s390x    SYMBOL(lowcore_ptr)
//   ppc64    SYMBOL(mmu_psize_defs), SYMBOL(vmemmap_list)
// NT_PRSTATUS descriptor sizes: struct elf_prstatus is 336 bytes on x86_64 (27 registers) and 392
// on arm64 (34).

export type DumpArch = 'x86_64' | 'aarch64' | 'riscv64' | 's390x' | 'ppc64' | 'i386' | 'arm';

export interface ArchVerdict {
  /** null when nothing in the dump names an architecture. */
  arch: DumpArch | null;
  /** Where each vote came from, for the error message. */
  evidence: string[];
}

const VMCOREINFO_KEYS: [RegExp, DumpArch, string][] = [
  [/^SYMBOL\(init_top_pgt\)=/m, 'x86_64', 'SYMBOL(init_top_pgt)'],
  [/^NUMBER\(kimage_voffset\)=/m, 'aarch64', 'NUMBER(kimage_voffset)'],
  [/^NUMBER\(TCR_EL1_T1SZ\)=/m, 'aarch64', 'NUMBER(TCR_EL1_T1SZ)'],
  [/^NUMBER\(KERNELPACMASK\)=/m, 'aarch64', 'NUMBER(KERNELPACMASK)'],
  [/^NUMBER\(phys_ram_base\)=/m, 'riscv64', 'NUMBER(phys_ram_base)'],
  [/^SYMBOL\(lowcore_ptr\)=/m, 's390x', 'SYMBOL(lowcore_ptr)'],
  [/^SYMBOL\(mmu_psize_defs\)=/m, 'ppc64', 'SYMBOL(mmu_psize_defs)'],
];

/** Distribution release suffixes: Debian's -amd64/-arm64, Fedora/RHEL's .x86_64/.aarch64. */
const RELEASE_SUFFIX: [RegExp, DumpArch][] = [
  [/[-.](amd64|x86_64)$/, 'x86_64'],
  [/[-.](arm64|aarch64)$/, 'aarch64'],
  [/[-.](ppc64el|ppc64le|ppc64)$/, 'ppc64'],
  [/[-.]s390x$/, 's390x'],
  [/[-.]riscv64$/, 'riscv64'],
  [/[-.](i686|686|686-pae|i386)$/, 'i386'],
  [/[-.](armmp|armmp-lpae|armv7hl)$/, 'arm'],
];

const MACHINE_NAMES: Record<string, DumpArch> = {
  x86_64: 'x86_64', aarch64: 'aarch64', arm64: 'aarch64', ppc64: 'ppc64', ppc64le: 'ppc64',
  s390x: 's390x', riscv64: 'riscv64', i386: 'i386', i486: 'i386', i586: 'i386', i686: 'i386',
};

const PRSTATUS_SIZES: Record<number, DumpArch> = { 336: 'x86_64', 392: 'aarch64' };

/** ELF e_machine numbers of the architectures Linux dumps come from (elf.h). */
export const ELF_MACHINES: Record<number, DumpArch> = { 62: 'x86_64', 183: 'aarch64', 243: 'riscv64', 22: 's390x', 21: 'ppc64', 3: 'i386', 40: 'arm' };

export function detectArch(input: { machine?: string; vmcoreinfo: string | null; prstatusSizes: number[] }): ArchVerdict {
  const votes: [DumpArch, string][] = [];
  const machine = input.machine?.trim() ?? '';
  const named = MACHINE_NAMES[machine];
  if (named) votes.push([named, `utsname.machine ${machine}`]);
  const vi = input.vmcoreinfo ?? '';
  for (const [re, arch, key] of VMCOREINFO_KEYS) if (re.test(vi)) votes.push([arch, `VMCOREINFO ${key}`]);
  const release = /^OSRELEASE=(.*)$/m.exec(vi)?.[1]?.trim();
  if (release) {
    const hit = RELEASE_SUFFIX.find(([re]) => re.test(release));
    if (hit) votes.push([hit[1], `OSRELEASE ${release}`]);
  }
  for (const size of new Set(input.prstatusSizes)) {
    const arch = PRSTATUS_SIZES[size];
    if (arch) votes.push([arch, `${size}-byte NT_PRSTATUS notes`]);
  }
  if (!votes.length) return { arch: null, evidence: [] };
  // The kernel's own words (VMCOREINFO keys) outrank a header field a dump tool filled in.
  const strongest = votes.find(([, why]) => why.startsWith('VMCOREINFO SYMBOL') || why.startsWith('VMCOREINFO NUMBER')) ?? votes[0]!;
  const arch = strongest[0];
  return { arch, evidence: votes.filter(([a]) => a === arch).map(([, why]) => why) };
}

/** The architectures whose dumps the readers open (the kernel layer has a record for each). */
export const READABLE_ARCHES: ReadonlySet<DumpArch> = new Set<DumpArch>(['x86_64', 'aarch64']);

/** One line for a dump of an architecture ktriage cannot read. */
export function foreignArchMessage(v: ArchVerdict): string {
  return `a dump taken on ${v.arch} (${v.evidence.join('; ')}): this version of ktriage reads ${[...READABLE_ARCHES].join(' and ')} dumps only`;
}

// ELF notes (Elf64_Nhdr: namesz, descsz, type, then name and desc each padded to 4 bytes), as
// found in a core's PT_NOTE segments and in the kdump-compressed sub-header's note area.
import { InputError } from '../util/errors.js';
import type { DumpArch } from './arch-detect.js';
import type { DumpNote, PrStatus } from './types.js';

export const NT_PRSTATUS = 1;
/** More notes than this is not a real dump (8192 CPUs give 8192 NT_PRSTATUS notes). */
const MAX_NOTES = 100_000;

/** x86_64 `struct user_regs_struct` (arch/x86/include/asm/user_64.h), in memory order. */
export const X86_64_REGS = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi',
  'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs',
] as const;

/** arm64 `struct user_pt_regs` (arch/arm64/include/uapi/asm/ptrace.h): regs[31], sp, pc, pstate. */
export const AARCH64_REGS = [
  ...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'pstate',
] as const;

/** Each ELF ABI's elf_gregset_t, named as the ABI names it: the one register vocabulary. */
export const PRSTATUS_REGISTERS: Partial<Record<DumpArch, readonly string[]>> = { x86_64: X86_64_REGS, aarch64: AARCH64_REGS };

// struct elf_prstatus on 64-bit Linux (include/linux/elfcore.h): elf_siginfo (12) + pr_cursig (2) + pad
// (2) + pr_sigpend (8) + pr_sighold (8) = 32, then pr_pid/ppid/pgrp/sid (4 each) = 48, four
// timevals (64) = 112, then pr_reg (x86_64: 27 x 8 = 216, 336 bytes in all; arm64: 34 x 8 = 272,
// 392 bytes), pr_fpvalid.
const PRSTATUS_PID = 32;
const PRSTATUS_REGS = 112;

/** Parse a note area. Stops at a zero-filled tail (padding); a note running past the end is an error. */
export function parseNotes(buf: Buffer, what: string): DumpNote[] {
  const notes: DumpNote[] = [];
  let p = 0;
  while (p + 12 <= buf.length) {
    const namesz = buf.readUInt32LE(p);
    const descsz = buf.readUInt32LE(p + 4);
    const type = buf.readUInt32LE(p + 8);
    if (namesz === 0 && descsz === 0 && type === 0) break; // padding
    const nameOff = p + 12;
    const descOff = nameOff + align4(namesz);
    const end = descOff + align4(descsz);
    if (namesz > buf.length || descsz > buf.length || descOff + descsz > buf.length) {
      throw new InputError(`${what}: note ${notes.length} (namesz ${namesz}, descsz ${descsz}) runs past the note area (${buf.length} bytes)`);
    }
    let name = buf.toString('latin1', nameOff, nameOff + namesz);
    const nul = name.indexOf('\0');
    if (nul >= 0) name = name.slice(0, nul);
    if (notes.length >= MAX_NOTES) throw new InputError(`${what}: more than ${MAX_NOTES} notes`);
    notes.push({ name, type, desc: Buffer.from(buf.subarray(descOff, descOff + descsz)) });
    p = Math.min(end, buf.length);
  }
  return notes;
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** NT_PRSTATUS notes ("CORE", type 1) in file order, decoded with the dump's ABI register names. */
export function decodePrStatus(notes: DumpNote[], arch: DumpArch = 'x86_64'): PrStatus[] {
  const out: PrStatus[] = [];
  const names = PRSTATUS_REGISTERS[arch] ?? X86_64_REGS;
  const min = PRSTATUS_REGS + names.length * 8;
  for (const n of notes) {
    if (n.type !== NT_PRSTATUS || (n.name !== 'CORE' && n.name !== '')) continue;
    if (n.desc.length < min) continue;
    const regs: Record<string, bigint> = {};
    names.forEach((r, i) => {
      regs[r] = n.desc.readBigUInt64LE(PRSTATUS_REGS + i * 8);
    });
    out.push({ index: out.length, pid: n.desc.readInt32LE(PRSTATUS_PID), regs });
  }
  return out;
}

/** The VMCOREINFO note's text (trailing NULs dropped), or null. */
export function findVmcoreinfo(notes: DumpNote[]): string | null {
  const n = notes.find((x) => x.name === 'VMCOREINFO');
  if (!n) return null;
  return n.desc.toString('latin1').replace(/\0+$/, '');
}

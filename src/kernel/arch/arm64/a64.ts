// The few A64 instructions the arm64 locators read to find data addresses in kernel code (Arm
// ARM, "A64 base instructions"): ADRP (page of a PC-relative address) and ADD (immediate, 64-bit)
// as the compiler pairs them to materialise a symbol's address. Decoded by hand: two fixed
// encodings are cheaper and surer than a disassembler's text.

const sext = (v: number, bits: number): number => (v & (1 << (bits - 1)) ? v - (1 << bits) : v);

/** Sign-extend the low `bits` of `v`. */
export { sext };

/** ADRP Xd, label: { rd, page } (the 4 KiB page address), else undefined. */
export function adrp(insn: number, pc: bigint): { rd: number; page: bigint } | undefined {
  if ((insn & 0x9f000000) >>> 0 !== 0x90000000) return undefined;
  const imm = sext((((insn >>> 5) & 0x7ffff) << 2) | ((insn >>> 29) & 3), 21);
  return { rd: insn & 0x1f, page: (pc & ~0xfffn) + (BigInt(imm) << 12n) };
}

/** ADD Xd, Xn, #imm{, lsl #12} (64-bit): { rd, rn, imm }, else undefined. */
export function addImm(insn: number): { rd: number; rn: number; imm: bigint } | undefined {
  if ((insn & 0xff800000) >>> 0 !== 0x91000000) return undefined;
  return { rd: insn & 0x1f, rn: (insn >>> 5) & 0x1f, imm: BigInt((insn >>> 10) & 0xfff) << ((insn >>> 22) & 1 ? 12n : 0n) };
}

export const RET = 0xd65f03c0;

/** MRS Xt, SP_EL0 (the kernel keeps `current` there): Xt, else undefined. */
export function mrsSpEl0(insn: number): number | undefined {
  return (insn & 0xffffffe0) >>> 0 === 0xd5384100 ? insn & 0x1f : undefined;
}

/** LDR Xt, [Xn, #imm] (64-bit, unsigned offset): { rt, rn, offset }, else undefined. */
export function ldrX(insn: number): { rt: number; rn: number; offset: number } | undefined {
  if ((insn & 0xffc00000) >>> 0 !== 0xf9400000) return undefined;
  return { rt: insn & 0x1f, rn: (insn >>> 5) & 0x1f, offset: ((insn >>> 10) & 0xfff) * 8 };
}

/**
 * A test of one bit of a register: TST (ANDS with the zero register) with a logical immediate
 * that is a single bit (imms = 0: one set bit, rotated right by immr), or TBZ/TBNZ.
 * { rn, bit }, else undefined.
 */
export function singleBitTest(insn: number): { rn: number; bit: number } | undefined {
  const rn = (insn >>> 5) & 0x1f;
  if ((insn & 0x7e000000) >>> 0 === 0x36000000) return { rn: insn & 0x1f, bit: (((insn >>> 31) & 1) << 5) | ((insn >>> 19) & 0x1f) };
  // ANDS (immediate): sf opc=11 100100 N immr imms Rn Rd, Rd = 31 (TST)
  if ((insn & 0x7f800000) >>> 0 !== 0x72000000 || (insn & 0x1f) !== 31) return undefined;
  const sf = insn >>> 31;
  const n = (insn >>> 22) & 1;
  const immr = (insn >>> 16) & 0x3f;
  const imms = (insn >>> 10) & 0x3f;
  if (imms !== 0 || n !== sf) return undefined;
  const size = sf ? 64 : 32;
  if (immr >= size) return undefined;
  return { rn, bit: (size - immr) % size };
}

/**
 * The register an instruction writes in bits 0-4, when it writes one there: data processing
 * (immediate or register), loads, MRS. Branches, stores and the rest of the system class read the
 * register field (or hold a condition there) and write nothing a tracker follows (BL's x30 aside).
 */
export function writtenRegister(insn: number): number | undefined {
  const op0 = (insn >>> 25) & 0xf;
  if ((op0 & 0xe) === 0x8 || (op0 & 0x7) === 0x5) return insn & 0x1f; // data processing
  if ((op0 & 0x5) === 0x4) return (insn >>> 22) & 1 ? insn & 0x1f : undefined; // loads (L = 1) and stores
  if ((insn & 0xfff00000) >>> 0 === 0xd5300000) return insn & 0x1f; // MRS
  return undefined;
}

/** A forward conditional branch (B.cond, CBZ/CBNZ, TBZ/TBNZ): its target offset in bytes, else undefined. */
export function condBranchOffset(insn: number): number | undefined {
  if ((insn & 0xff000010) >>> 0 === 0x54000000) return sext((insn >>> 5) & 0x7ffff, 19) * 4;
  if ((insn & 0x7e000000) >>> 0 === 0x34000000) return sext((insn >>> 5) & 0x7ffff, 19) * 4;
  if ((insn & 0x7e000000) >>> 0 === 0x36000000) return sext((insn >>> 5) & 0x3fff, 14) * 4;
  return undefined;
}

/** B imm26 (unconditional, not BL): its target offset in bytes, else undefined. */
export function branchOffset(insn: number): number | undefined {
  return (insn & 0xfc000000) >>> 0 === 0x14000000 ? sext(insn & 0x3ffffff, 26) * 4 : undefined;
}

/**
 * One step of the address tracker the locators share: ADRP sets a register to a page, ADD
 * (immediate) adds to a tracked register (or forgets the destination). Returns whether `insn` was
 * one of the two and, for an ADD on a tracked register, the address it formed.
 */
export function trackAddress(regs: Map<number, bigint>, insn: number, pc: bigint): { handled: boolean; formed?: bigint } {
  const page = adrp(insn, pc);
  if (page) {
    regs.set(page.rd, page.page);
    return { handled: true };
  }
  const add = addImm(insn);
  if (!add) return { handled: false };
  const base = regs.get(add.rn);
  if (base === undefined) {
    regs.delete(add.rd);
    return { handled: true };
  }
  regs.set(add.rd, base + add.imm);
  return { handled: true, formed: base + add.imm };
}

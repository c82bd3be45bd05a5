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

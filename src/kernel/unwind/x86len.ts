// A small x86-64 instruction length decoder for the instructions found in function prologues,
// so the unwinder does not pay capstone's start-up (~0.3-0.45 s here) on every kdump dump (the
// panic CPU always passes through __crash_kexec, which has no ORC data). It returns null for any
// opcode outside its tables; the caller then falls back to capstone. Checked against capstone
// over real kernel text in test/unwind/x86len.test.ts.

export interface DecodedInsn {
  length: number;
  /** Opcode byte (second byte for 0f xx, as 0x0f00 | b). */
  opcode: number;
  /** ModRM fields, when present. */
  mod?: number;
  reg?: number;
  rm?: number;
  rexW: boolean;
  rexB: boolean;
  rexR: boolean;
  /** Sign-extended immediate, when present (imm8/imm32). */
  imm?: bigint;
}

const PREFIXES = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65]);

function modrmLength(code: Uint8Array, at: number): number | null {
  if (at >= code.length) return null;
  const m = code[at];
  const mod = m >> 6;
  const rm = m & 7;
  let len = 1;
  if (mod === 3) return len;
  if (rm === 4) {
    if (at + 1 >= code.length) return null;
    const sib = code[at + 1];
    len += 1;
    if (mod === 0 && (sib & 7) === 5) len += 4;
  } else if (mod === 0 && rm === 5) {
    len += 4;
  }
  if (mod === 1) len += 1;
  else if (mod === 2) len += 4;
  return len;
}

function readImm(code: Uint8Array, at: number, size: number): bigint | undefined {
  if (at + size > code.length) return undefined;
  const b = Buffer.from(code.buffer, code.byteOffset + at, size);
  if (size === 1) return BigInt(b.readInt8(0));
  if (size === 2) return BigInt(b.readInt16LE(0));
  if (size === 4) return BigInt(b.readInt32LE(0));
  return b.readBigInt64LE(0);
}

/** Decode the instruction at `at`, or null when it is not in the tables. */
export function decodeLength(code: Uint8Array, at: number): DecodedInsn | null {
  let p = at;
  let opsize16 = false;
  while (p < code.length && PREFIXES.has(code[p])) {
    if (code[p] === 0x66) opsize16 = true;
    p++;
    if (p - at > 4) return null;
  }
  let rex = 0;
  if (p < code.length && (code[p] & 0xf0) === 0x40) rex = code[p++];
  if (p >= code.length) return null;
  const rexW = (rex & 8) !== 0;
  const rexR = (rex & 4) !== 0;
  const rexB = (rex & 1) !== 0;
  const immZ = opsize16 ? 2 : 4;
  const op = code[p++];
  let modrm = false;
  let imm = 0;
  let opcode = op;

  if (op === 0x0f) {
    if (p >= code.length) return null;
    const op2 = code[p++];
    opcode = 0x0f00 | op2;
    if (op2 === 0x38) {
      p++;
      modrm = true;
    } else if (op2 === 0x3a) {
      p++;
      modrm = true;
      imm = 1;
    } else if ((op2 >= 0x80 && op2 <= 0x8f)) imm = 4;
    else if (op2 === 0x05 || op2 === 0x0b || op2 === 0xa2 || op2 === 0x31 || (op2 >= 0xc8 && op2 <= 0xcf) || op2 === 0xa0 || op2 === 0xa1 || op2 === 0xa8 || op2 === 0xa9) modrm = false;
    else if (op2 === 0xa4 || op2 === 0xac || op2 === 0xba || op2 === 0x70 || op2 === 0xc2 || op2 === 0xc4 || op2 === 0xc5 || op2 === 0xc6 || (op2 >= 0x71 && op2 <= 0x73)) {
      modrm = true;
      imm = 1;
    } else if (
      op2 === 0x01 || op2 === 0x0d || (op2 >= 0x10 && op2 <= 0x17) || (op2 >= 0x18 && op2 <= 0x1f) || (op2 >= 0x28 && op2 <= 0x2f) ||
      (op2 >= 0x40 && op2 <= 0x6f) || (op2 >= 0x74 && op2 <= 0x76) || (op2 >= 0x7e && op2 <= 0x7f) || (op2 >= 0x90 && op2 <= 0x9f) ||
      op2 === 0xa3 || op2 === 0xa5 || op2 === 0xab || op2 === 0xad || op2 === 0xae || op2 === 0xaf || (op2 >= 0xb0 && op2 <= 0xb1) ||
      op2 === 0xb3 || (op2 >= 0xb6 && op2 <= 0xb7) || op2 === 0xbb || (op2 >= 0xbc && op2 <= 0xbf) || (op2 >= 0xc0 && op2 <= 0xc1) ||
      op2 === 0xc7 || (op2 >= 0xd0 && op2 <= 0xfe)
    ) modrm = true;
    else return null;
  } else if (op < 0x40) {
    const lo = op & 7;
    if (op === 0x0f || op === 0x26 || op === 0x2e || op === 0x36 || op === 0x3e) return null;
    if (lo <= 3) modrm = true;
    else if (lo === 4) imm = 1;
    else if (lo === 5) imm = immZ;
    else return null; // push/pop seg, daa...: invalid in 64-bit mode
  } else if (op >= 0x50 && op <= 0x5f) {
    // push/pop r64
  } else if (op === 0x63) modrm = true;
  else if (op === 0x68) imm = immZ;
  else if (op === 0x69) {
    modrm = true;
    imm = immZ;
  } else if (op === 0x6a) imm = 1;
  else if (op === 0x6b) {
    modrm = true;
    imm = 1;
  } else if (op >= 0x70 && op <= 0x7f) imm = 1;
  else if (op === 0x80 || op === 0x82 || op === 0x83) {
    modrm = true;
    imm = 1;
  } else if (op === 0x81) {
    modrm = true;
    imm = immZ;
  } else if (op >= 0x84 && op <= 0x8f) modrm = true;
  else if ((op >= 0x90 && op <= 0x99) || op === 0x9b || op === 0x9c || op === 0x9d || op === 0x9e || op === 0x9f) {
    // xchg/nop, cbw/cdq, fwait, pushf/popf, sahf/lahf
  } else if (op === 0xa8) imm = 1;
  else if (op === 0xa9) imm = immZ;
  else if (op >= 0xa4 && op <= 0xa7) {
    // movs/cmps
  } else if (op >= 0xaa && op <= 0xaf) {
    // stos/lods/scas
  } else if (op >= 0xb0 && op <= 0xb7) imm = 1;
  else if (op >= 0xb8 && op <= 0xbf) imm = rexW ? 8 : immZ;
  else if (op === 0xc0 || op === 0xc1 || op === 0xc6) {
    modrm = true;
    imm = 1;
  } else if (op === 0xc7) {
    modrm = true;
    imm = immZ;
  } else if (op === 0xc2) imm = 2;
  else if (op === 0xc3 || op === 0xc9 || op === 0xcc || op === 0xf4 || op === 0xfa || op === 0xfb || op === 0xfc || op === 0xfd || op === 0xf5) {
    // ret, leave, int3, hlt, cli, sti, cld, std, cmc
  } else if (op === 0xcd) imm = 1;
  else if (op >= 0xd0 && op <= 0xd3) modrm = true;
  else if (op === 0xe8 || op === 0xe9) imm = 4;
  else if (op === 0xeb) imm = 1;
  else if (op === 0xf6 || op === 0xf7) {
    modrm = true;
    if (p >= code.length) return null;
    const reg = (code[p] >> 3) & 7;
    if (reg === 0 || reg === 1) imm = op === 0xf6 ? 1 : immZ;
  } else if (op === 0xfe || op === 0xff) modrm = true;
  else return null;

  let mod: number | undefined;
  let reg: number | undefined;
  let rm: number | undefined;
  if (modrm) {
    if (p >= code.length) return null;
    mod = code[p] >> 6;
    reg = (code[p] >> 3) & 7;
    rm = code[p] & 7;
    const l = modrmLength(code, p);
    if (l === null) return null;
    p += l;
  }
  let immValue: bigint | undefined;
  if (imm > 0) {
    immValue = readImm(code, p, imm);
    if (immValue === undefined) return null;
    p += imm;
  }
  if (p > code.length || p - at > 15) return null;
  return { length: p - at, opcode, mod, reg, rm, rexW, rexB, rexR, imm: immValue };
}

export type PrologueEffect =
  | { kind: 'push' }
  | { kind: 'pop' }
  | { kind: 'adjust'; delta: bigint }
  | { kind: 'writes-sp' }
  | { kind: 'branch' }
  | { kind: 'call' }
  | { kind: 'other' };

/** What an instruction does to rsp, for prologue frame sizing. */
export function prologueEffect(d: DecodedInsn): PrologueEffect {
  const op = d.opcode;
  const rmIsSp = d.mod === 3 && d.rm === 4 && !d.rexB;
  const regIsSp = d.reg === 4 && !d.rexR;
  if (op >= 0x50 && op <= 0x57) return { kind: 'push' };
  if (op >= 0x58 && op <= 0x5f) return op === 0x5c && !d.rexB ? { kind: 'writes-sp' } : { kind: 'pop' };
  if (op === 0x68 || op === 0x6a || op === 0x9c) return { kind: 'push' };
  if (op === 0x9d) return { kind: 'pop' };
  if (op === 0x8f && d.reg === 0) return rmIsSp ? { kind: 'writes-sp' } : { kind: 'pop' };
  if (op === 0xff) {
    if (d.reg === 6) return { kind: 'push' };
    if (d.reg === 2 || d.reg === 3) return { kind: 'call' };
    if (d.reg === 4 || d.reg === 5) return { kind: 'branch' };
    return rmIsSp ? { kind: 'writes-sp' } : { kind: 'other' };
  }
  if ((op === 0x81 || op === 0x83) && rmIsSp && d.rexW && d.imm !== undefined) {
    if (d.reg === 5) return { kind: 'adjust', delta: d.imm }; // sub rsp, imm
    if (d.reg === 0) return { kind: 'adjust', delta: -d.imm }; // add rsp, imm
    if (d.reg === 7) return { kind: 'other' }; // cmp
    return { kind: 'writes-sp' };
  }
  if (op === 0xe8) return { kind: 'call' };
  if ((op >= 0x70 && op <= 0x7f) || op === 0xe9 || op === 0xeb || op === 0xc2 || op === 0xc3 || op === 0xcc || op === 0x0f0b || (op >= 0x0f80 && op <= 0x0f8f)) return { kind: 'branch' };
  // ALU/mov forms that write their r/m operand (add/or/adc/sbb/and/sub/xor, mov r/m, imm/reg, shifts)
  const writesRm = (op < 0x40 && (op & 7) <= 1 && (op & 0x38) !== 0x38) || op === 0x80 || op === 0x81 || op === 0x83 || op === 0x89 || op === 0x88 || op === 0xc7 || op === 0xc6 || (op >= 0xc0 && op <= 0xc1) || (op >= 0xd0 && op <= 0xd3) || op === 0x87 || op === 0x86 || op === 0xf7 || op === 0xfe;
  if (writesRm && rmIsSp) return { kind: 'writes-sp' };
  // forms that write their reg operand (op r, r/m; mov; lea; movzx; cmov; imul)
  const writesReg = (op < 0x40 && (op & 7) >= 2 && (op & 7) <= 3 && (op & 0x38) !== 0x38) || op === 0x8b || op === 0x8a || op === 0x8d || op === 0x63 || op === 0x69 || op === 0x6b || (op >= 0x0f40 && op <= 0x0f4f) || op === 0x0faf || (op >= 0x0fb6 && op <= 0x0fbf);
  if (writesReg && regIsSp) return { kind: 'writes-sp' };
  if (op === 0xc9) return { kind: 'writes-sp' }; // leave
  return { kind: 'other' };
}

// One place that talks to capstone (@alexaltea/capstone-js: Capstone 5 compiled to WebAssembly).
// It initialises in ~75 ms, so load it lazily and once. Its addresses are signed 64-bit, so we
// always disassemble at base 0 and add the real address as a BigInt ourselves.
import { createRequire } from 'node:module';

export interface Insn {
  /** Byte offset of the instruction inside the input buffer. */
  offset: number;
  /** Absolute address (base + offset). */
  address: bigint;
  size: number;
  mnemonic: string;
  opStr: string;
  bytes: Uint8Array;
  /** Capstone could not decode these bytes; `mnemonic` is `(bad)`. */
  bad: boolean;
}

interface CsInsn { address: bigint | number; size: number; mnemonic: string; op_str: string; bytes: number[] }
interface CsHandle { disasm(code: number[] | Uint8Array, address: number, count?: number): CsInsn[]; option(opt: number, value: number): void; close(): void }
interface CsModule { Capstone: new (arch: number, mode: number) => CsHandle; ARCH_X86: number; ARCH_ARM64: number; MODE_64: number; MODE_ARM: number; OPT_SYNTAX: number; OPT_SYNTAX_INTEL: number }

/** The instruction sets ktriage disassembles (an Arch record's disasmMode). */
export type DisasmMode = 'x86_64' | 'arm64';

let module: Promise<CsModule> | undefined;
const handles = new Map<DisasmMode, Promise<CsHandle>>();

function loadCapstone(mode: DisasmMode = 'x86_64'): Promise<CsHandle> {
  let handle = handles.get(mode);
  if (!handle) {
    module ??= (() => {
      const require = createRequire(import.meta.url);
      const factory = require('@alexaltea/capstone-js') as () => Promise<CsModule>;
      return factory();
    })();
    handle = (async () => {
      const cs = await module;
      if (mode === 'arm64') return new cs.Capstone(cs.ARCH_ARM64, cs.MODE_ARM);
      const h = new cs.Capstone(cs.ARCH_X86, cs.MODE_64);
      h.option(cs.OPT_SYNTAX, cs.OPT_SYNTAX_INTEL);
      return h;
    })();
    handles.set(mode, handle);
  }
  return handle;
}

/** capstone.js throws ("cs_disasm failed with code 0") when not even one instruction decodes. */
function safeDisasm(cs: CsHandle, bytes: Uint8Array, count: number): CsInsn[] {
  if (bytes.length === 0) return [];
  try {
    return cs.disasm(Array.from(bytes), 0, count);
  } catch {
    // Broad on purpose: capstone reports every decode failure as a plain Error with a code.
    return [];
  }
}

/**
 * Disassemble code linearly (x86_64 unless told). Undecodable bytes become `(bad)` entries (one
 * byte on x86_64, one 4-byte word on arm64) so a corrupted `Code:` line still yields a full
 * listing instead of stopping at the first bad byte. `maxInsns` bounds the work for untrusted input.
 */
export async function disassemble(code: Uint8Array, base = 0n, maxInsns = 100_000, mode: DisasmMode = 'x86_64'): Promise<Insn[]> {
  const cs = await loadCapstone(mode);
  const out: Insn[] = [];
  const CHUNK = 4096;
  const MAX_INSN = mode === 'arm64' ? 4 : 15;
  const BAD = mode === 'arm64' ? 4 : 1;
  let pos = 0;
  while (pos < code.length && out.length < maxInsns) {
    const end = Math.min(code.length, pos + CHUNK);
    const got = safeDisasm(cs, code.subarray(pos, end), Math.min(maxInsns - out.length, CHUNK));
    // Keep only instructions that cannot have been cut by the chunk's end (an instruction near
    // the end may be a prefix of a longer one); the next chunk starts where they stop.
    const limit = end === code.length ? end : end - MAX_INSN;
    let next = pos;
    let cut = false;
    for (const i of got) {
      const offset = pos + Number(i.address);
      if (offset + i.size > limit) {
        cut = true;
        break;
      }
      let opStr = i.op_str;
      if (mode === 'arm64' && i.size === 4) {
        const target = arm64PcRelTarget(Buffer.from(i.bytes).readUInt32LE(0), base + BigInt(offset));
        if (target !== undefined) opStr = opStr.replace(/#-?0x[0-9a-f]+$/, '0x' + BigInt.asUintN(64, target).toString(16));
      }
      out.push({ offset, address: base + BigInt(offset), size: i.size, mnemonic: i.mnemonic, opStr, bytes: Uint8Array.from(i.bytes), bad: false });
      next = offset + i.size;
      if (out.length >= maxInsns) return out;
    }
    if (!cut && next < limit) {
      // Capstone stopped at an undecodable byte: record it and resume after it.
      const n = Math.min(BAD, code.length - next);
      out.push({ offset: next, address: base + BigInt(next), size: n, mnemonic: '(bad)', opStr: '', bytes: code.subarray(next, next + n), bad: true });
      next += n;
    }
    pos = next;
  }
  return out;
}

const sext = (v: number, bits: number): bigint => BigInt(v & (1 << (bits - 1)) ? v - 2 ** bits : v);

/**
 * The absolute target of an A64 pc-relative instruction (B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, LDR
 * literal, ADR, ADRP; Arm ARM C4.1 encodings), from its word: capstone decodes at base 0 (its
 * addresses are signed), so its `#imm` would be relative to the buffer, not the kernel address.
 */
export function arm64PcRelTarget(word: number, pc: bigint): bigint | undefined {
  const w = word >>> 0;
  const imm19 = () => sext((w >>> 5) & 0x7ffff, 19) << 2n;
  if ((w & 0x7c000000) >>> 0 === 0x14000000) return pc + (sext(w & 0x3ffffff, 26) << 2n);
  if ((w & 0xff000010) >>> 0 === 0x54000000 || (w & 0x7e000000) >>> 0 === 0x34000000 || (w & 0x3b000000) >>> 0 === 0x18000000) return pc + imm19();
  if ((w & 0x7e000000) >>> 0 === 0x36000000) return pc + (sext((w >>> 5) & 0x3fff, 14) << 2n);
  const adrImm = () => sext((((w >>> 5) & 0x7ffff) << 2) | ((w >>> 29) & 3), 21);
  if ((w & 0x9f000000) >>> 0 === 0x10000000) return pc + adrImm();
  if ((w & 0x9f000000) >>> 0 === 0x90000000) return (pc & ~0xfffn) + (adrImm() << 12n);
  return undefined;
}

/** Decode exactly one instruction at `offset` (for checking that a return address follows a call). */
export async function decodeAt(code: Uint8Array, offset: number, base = 0n): Promise<Insn | null> {
  const cs = await loadCapstone();
  const got = safeDisasm(cs, code.subarray(offset, offset + 16), 1);
  if (got.length === 0) return null;
  const i = got[0];
  return { offset, address: base + BigInt(offset), size: i.size, mnemonic: i.mnemonic, opStr: i.op_str, bytes: Uint8Array.from(i.bytes), bad: false };
}

export function formatInsn(i: Insn): string {
  return i.opStr ? `${i.mnemonic} ${i.opStr}` : i.mnemonic;
}

// Frame scanning, the fallback when ORC cannot continue: walk the stack upward one word at a time
// and accept a word as a return address when it is a kernel text address and the bytes just
// before it decode (capstone) to a `call` that ends exactly there. Frames found this way are
// marked unreliable: a stale return address left on the stack passes the same test.

import { decodeAt } from '../../util/disasm.js';
import type { PagedMemory } from './memory.js';

/** Lengths of the x86_64 call encodings: e8 rel32 (5), ff /2 with or without REX, SIB, disp. */
const CALL_LENGTHS = [5, 2, 3, 6, 7, 4, 8];

export async function precededByCall(mem: PagedMemory, ret: bigint): Promise<boolean> {
  let bytes: Buffer;
  try {
    bytes = mem.read(ret - 16n, 16);
  } catch {
    return false;
  }
  for (const len of CALL_LENGTHS) {
    const off = 16 - len;
    const b0 = bytes[off];
    // Cheap filter before capstone: e8, ff, or a REX/segment prefix followed by ff.
    if (!(b0 === 0xe8 || b0 === 0xff || ((b0 & 0xf0) === 0x40 && bytes[off + 1] === 0xff) || b0 === 0x2e || b0 === 0x3e)) continue;
    const insn = await decodeAt(bytes, off, ret - BigInt(len));
    if (insn && insn.size === len && insn.mnemonic.startsWith('call')) return true;
  }
  return false;
}

export interface ScanHit {
  /** Stack slot holding the return address. */
  slot: bigint;
  ret: bigint;
}

/**
 * First plausible return address at or above `from` (inclusive) and below `end`, reading at most
 * `maxWords` words.
 */
export async function scanForReturn(
  mem: PagedMemory,
  from: bigint,
  end: bigint,
  isText: (a: bigint) => boolean,
  maxWords = 2048,
): Promise<ScanHit | null> {
  let slot = (from + 7n) & ~7n;
  for (let n = 0; n < maxWords && slot + 8n <= end; n++, slot += 8n) {
    const v = mem.tryU64(slot);
    if (v === undefined) return null;
    if (!isText(v)) continue;
    if (await precededByCall(mem, v)) return { slot, ret: v };
  }
  return null;
}

// Frame scanning, the fallback when ORC cannot continue: walk the stack upward one word at a time
// and accept a word as a return address when it is a kernel text address and the bytes just
// before it decode (capstone) to a `call` that ends exactly there. Frames found this way are
// marked unreliable: a stale return address left on the stack passes the same test.

import { decodeAt } from '../../util/disasm.js';
import type { PagedMemory } from './memory.js';
import { onlyDumpData } from '../../util/errors.js';

/** Lengths of the x86_64 call encodings: e8 rel32 (5), ff /2 with or without REX, SIB, disp. */
const CALL_LENGTHS = [5, 2, 3, 6, 7, 4, 8];

/**
 * Do the bytes before `ret` end with a call instruction? The common encodings are checked
 * directly (e8 rel32 whose target is kernel text, `call reg` as ff d0-d7 / 41 ff d0-d7), so
 * capstone (~0.1-0.3 s to initialise) is loaded only for the rarer forms.
 */
export async function precededByCall(mem: PagedMemory, ret: bigint, isCallTarget?: (a: bigint) => boolean): Promise<boolean> {
  let bytes: Buffer;
  try {
    bytes = mem.read(ret - 16n, 16);
  } catch (e) {
    onlyDumpData(e);
    return false;
  }
  if (bytes[11] === 0xe8) {
    const target = BigInt.asUintN(64, ret + BigInt(bytes.readInt32LE(12)));
    if (!isCallTarget || isCallTarget(target)) return true;
  }
  if (bytes[14] === 0xff && bytes[15] >= 0xd0 && bytes[15] <= 0xd7) return true;
  if (bytes[13] === 0x41 && bytes[14] === 0xff && bytes[15] >= 0xd0 && bytes[15] <= 0xd7) return true;
  for (const len of CALL_LENGTHS) {
    if (len === 5) continue; // e8 handled above (a 5-byte ff /2 form is covered by the capstone pass below only if not e8)
    const off = 16 - len;
    const b0 = bytes[off];
    // Cheap filter before capstone: ff, or a REX/segment prefix followed by ff.
    if (!(b0 === 0xff || ((b0 & 0xf0) === 0x40 && bytes[off + 1] === 0xff) || ((b0 === 0x2e || b0 === 0x3e) && bytes[off + 1] === 0xff))) continue;
    const insn = await decodeAt(bytes, off, ret - BigInt(len));
    if (insn && insn.size === len && insn.mnemonic.startsWith('call')) return true;
  }
  if (bytes[11] === 0xff) {
    const insn = await decodeAt(bytes, 11, ret - 5n);
    if (insn && insn.size === 5 && insn.mnemonic.startsWith('call')) return true;
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
  isCallTarget?: (a: bigint) => boolean,
): Promise<ScanHit | null> {
  let slot = (from + 7n) & ~7n;
  for (let n = 0; n < maxWords && slot + 8n <= end; n++, slot += 8n) {
    const v = mem.tryU64(slot);
    if (v === undefined) return null;
    if (!isText(v)) continue;
    if (await precededByCall(mem, v, isCallTarget)) return { slot, ret: v };
  }
  return null;
}

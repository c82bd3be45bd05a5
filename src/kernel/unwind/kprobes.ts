// Kprobe instruction slots. While a kprobe single-steps, the CPU executes a copy of the probed
// instruction in an "insn slot" page (struct kprobe.ainsn.insn), which has no symbol and no ORC
// data. Mapping slot + k back to kprobe.addr + k gives the function being probed, and its ORC
// entry describes the stack (the copied instruction has not changed it yet, or has changed it
// exactly as the original would). The registered probes are in kprobe_table[KPROBE_TABLE_SIZE]
// (hlist of struct kprobe.hlist); aggregated probes carry their own ainsn.

import type { PagedMemory } from './memory.js';
import type { UnwindSymbols, UnwindTypes } from './types.js';
import { onlyDumpData } from '../../util/errors.js';

const KPROBE_TABLE_SIZE = 64; // 1 << KPROBE_HASH_BITS (6), unchanged since 2.6
const MAX_PER_BUCKET = 4096;
/** The copied instruction (<= 15 bytes) plus the int3 placed after it for single-stepping. */
const MAX_SLOT_SPAN = 16n + 1n;

export interface KprobeSlot {
  /** Address of the probed instruction. */
  addr: bigint;
  /** Start of the out-of-line copy. */
  insn: bigint;
  /** Length of the copied instruction (0 when unknown). */
  size: number;
  kprobe: bigint;
}

export function readKprobeSlots(mem: PagedMemory, syms: UnwindSymbols, types: UnwindTypes | undefined): { slots: KprobeSlot[]; problem?: string } {
  const table = syms.lookup('kprobe_table');
  if (table === undefined) return { slots: [] };
  if (!types) return { slots: [], problem: 'no BTF: struct kprobe layout unknown' };
  const hlist = types.offsetOf('kprobe', 'hlist');
  const addrOff = types.offsetOf('kprobe', 'addr');
  const ainsn = types.offsetOf('kprobe', 'ainsn');
  const insnOff = types.offsetOf('arch_specific_insn', 'insn') ?? (ainsn !== undefined ? 0 : undefined);
  const sizeOff = types.offsetOf('arch_specific_insn', 'size');
  if (hlist === undefined || addrOff === undefined || ainsn === undefined || insnOff === undefined) return { slots: [], problem: 'BTF lacks struct kprobe hlist/addr/ainsn' };
  const slots: KprobeSlot[] = [];
  try {
    const heads = mem.read(table, KPROBE_TABLE_SIZE * 8);
    for (let b = 0; b < KPROBE_TABLE_SIZE; b++) {
      let node = heads.readBigUInt64LE(b * 8);
      for (let n = 0; node !== 0n && n < MAX_PER_BUCKET; n++) {
        const kp = node - BigInt(hlist);
        const addr = mem.readU64(kp + BigInt(addrOff));
        const insn = mem.readU64(kp + BigInt(ainsn + insnOff));
        const size = sizeOff !== undefined ? mem.read(kp + BigInt(ainsn + sizeOff), 1)[0] : 0;
        if (insn !== 0n) slots.push({ addr, insn, size, kprobe: kp });
        node = mem.readU64(node);
      }
    }
  } catch (e) {
    onlyDumpData(e);
    return { slots, problem: `kprobe_table unreadable: ${e.message}` };
  }
  return { slots };
}

/** The probed address that `ip` stands for when it lies in a kprobe's instruction slot. */
export function mapKprobeSlot(slots: KprobeSlot[], ip: bigint): { ip: bigint; slot: KprobeSlot } | null {
  for (const s of slots) {
    const span = s.size > 0 ? BigInt(s.size) + 1n : MAX_SLOT_SPAN;
    if (ip >= s.insn && ip < s.insn + span) return { ip: s.addr + (ip - s.insn), slot: s };
  }
  return null;
}

// Writes a small ELF64 core holding chosen physical pages of a dump plus its notes (for
// `ktriage trim`). Layout as QEMU's dump-guest-memory with paging off writes it: PT_NOTE first,
// then one PT_LOAD per run of contiguous pages, physical addresses only (p_vaddr 0).
import { closeSync, openSync, writeSync } from 'node:fs';
import type { DumpFile, DumpNote } from './types.js';

const EHDR = 64;
const PHDR = 56;

function align4(n: number): number {
  return (n + 3) & ~3;
}

export function encodeNotes(notes: DumpNote[]): Buffer {
  const parts: Buffer[] = [];
  for (const n of notes) {
    const name = Buffer.from(n.name + '\0', 'latin1');
    const h = Buffer.alloc(12);
    h.writeUInt32LE(name.length, 0);
    h.writeUInt32LE(n.desc.length, 4);
    h.writeUInt32LE(n.type >>> 0, 8);
    parts.push(h, name, Buffer.alloc(align4(name.length) - name.length), n.desc, Buffer.alloc(align4(n.desc.length) - n.desc.length));
  }
  return Buffer.concat(parts);
}

/** Runs of consecutive page frame numbers: [firstPfn, count][]. */
function pageRuns(pfns: Iterable<bigint>): [bigint, number][] {
  const sorted = [...pfns].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const runs: [bigint, number][] = [];
  for (const p of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[0] + BigInt(last[1]) === p) last[1]++;
    else runs.push([p, 1]);
  }
  return runs;
}

/**
 * Write `pfns` of `src` (pages the dump can deliver; others are skipped and counted) to `outPath`.
 * Returns the number of pages written and skipped.
 */
export function writeTrimmedElf(src: DumpFile, pfns: Iterable<bigint>, outPath: string, pageSize = 4096): { pages: number; skipped: number; bytes: number } {
  const ps = BigInt(pageSize);
  const usable: bigint[] = [];
  let skipped = 0;
  for (const p of pfns) {
    if (src.pageState(p * ps) === 'present') usable.push(p);
    else skipped++;
  }
  const runs = pageRuns(usable);
  const notes = encodeNotes(src.notes);
  const phnum = runs.length + 1;
  if (phnum >= 0xffff) throw new Error('too many page runs for a simple ELF (PN_XNUM not written)');
  const notesOff = EHDR + PHDR * phnum;
  let dataOff = Math.ceil((notesOff + notes.length) / pageSize) * pageSize;

  const eh = Buffer.alloc(EHDR);
  eh.write('\x7fELF', 0, 'latin1');
  eh[4] = 2; // ELFCLASS64
  eh[5] = 1; // little endian
  eh[6] = 1; // EV_CURRENT
  eh.writeUInt16LE(4, 16); // ET_CORE
  eh.writeUInt16LE(62, 18); // EM_X86_64
  eh.writeUInt32LE(1, 20);
  eh.writeBigUInt64LE(BigInt(EHDR), 32); // e_phoff
  eh.writeUInt16LE(EHDR, 52);
  eh.writeUInt16LE(PHDR, 54);
  eh.writeUInt16LE(phnum, 56);

  const ph = Buffer.alloc(PHDR * phnum);
  ph.writeUInt32LE(4, 0); // PT_NOTE
  ph.writeBigUInt64LE(BigInt(notesOff), 8);
  ph.writeBigUInt64LE(BigInt(notes.length), 32);
  ph.writeBigUInt64LE(BigInt(notes.length), 40);
  const layout: { off: number; pfn: bigint; count: number }[] = [];
  runs.forEach(([pfn, count], i) => {
    const o = PHDR * (i + 1);
    ph.writeUInt32LE(1, o); // PT_LOAD
    ph.writeUInt32LE(7, o + 4); // RWX
    ph.writeBigUInt64LE(BigInt(dataOff), o + 8);
    ph.writeBigUInt64LE(0n, o + 16);
    ph.writeBigUInt64LE(pfn * ps, o + 24);
    ph.writeBigUInt64LE(BigInt(count) * ps, o + 32);
    ph.writeBigUInt64LE(BigInt(count) * ps, o + 40);
    ph.writeBigUInt64LE(BigInt(pageSize), o + 48);
    layout.push({ off: dataOff, pfn, count });
    dataOff += count * pageSize;
  });

  const fd = openSync(outPath, 'wx');
  try {
    writeSync(fd, eh, 0, EHDR, 0);
    writeSync(fd, ph, 0, ph.length, EHDR);
    writeSync(fd, notes, 0, notes.length, notesOff);
    for (const r of layout) {
      for (let i = 0; i < r.count; i++) {
        const page = src.readPhysical((r.pfn + BigInt(i)) * ps, pageSize);
        writeSync(fd, page, 0, pageSize, r.off + i * pageSize);
      }
    }
  } finally {
    closeSync(fd);
  }
  return { pages: usable.length, skipped, bytes: dataOff };
}

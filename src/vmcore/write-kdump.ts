// Writes chosen physical pages of a dump as makedumpfile's kdump-compressed format (header
// version 6, zlib pages), for `ktriage trim --format kdump-zlib`: the format most vmcores arrive
// in, so a trimmed fixture exercises the same reader as a user's dump. Layout (makedumpfile's
// diskdump_mod.h, as src/vmcore/kdump.ts reads it):
//
//   block 0             disk_dump_header (464 bytes used)
//   block 1..           kdump_sub_header (104 bytes), then the ELF notes, VMCOREINFO inside them
//   bitmap blocks       bitmap1 then bitmap2 (here identical: a page not written is absent)
//   page descriptors    24 bytes per written page, pfn order: offset, size, flags, page_flags
//   page data           zlib streams, or the raw page when compression does not make it smaller
import { closeSync, openSync, writeSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { DUMP_DH_COMPRESSED_ZLIB } from './decompress.js';
import { KDUMP_SIGNATURE } from './kdump.js';
import type { DumpFile } from './types.js';
import { encodeNotes } from './write-elf.js';

const HEADER_VERSION = 6;
const SUB_HEADER = 104;
const PAGE_DESC = 24;

function utsField(b: Buffer, off: number, s: string): void {
  b.write(s.slice(0, 64), off, 'latin1');
}

export interface KdumpWriteOptions {
  /** utsname release/machine and the other header fields worth keeping from the source. */
  release?: string;
  nodename?: string;
  version?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
  physBase?: bigint;
}

/**
 * Write `pfns` of `src` (pages it can deliver; the rest are skipped and counted) to `outPath`,
 * which must not exist. Returns pages written, skipped and the file size.
 */
export function writeTrimmedKdump(src: DumpFile, pfns: Iterable<bigint>, outPath: string, pageSize = 4096, opts: KdumpWriteOptions = {}): { pages: number; skipped: number; bytes: number } {
  const ps = BigInt(pageSize);
  const kept: bigint[] = [];
  let skipped = 0;
  for (const p of pfns) {
    if (src.pageState(p * ps) === 'present') kept.push(p);
    else skipped++;
  }
  kept.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const maxPfn = kept.length ? kept[kept.length - 1]! + 1n : 0n;

  const notes = encodeNotes(src.notes);
  const subBlocks = Math.ceil((SUB_HEADER + notes.length) / pageSize);
  const bitmapBytes = Math.ceil(Number(maxPfn) / 8);
  const bitmapBlocksHalf = Math.max(1, Math.ceil(bitmapBytes / pageSize));
  const bitmapOff = (1 + subBlocks) * pageSize;
  const pdOff = bitmapOff + 2 * bitmapBlocksHalf * pageSize;
  let dataOff = pdOff + kept.length * PAGE_DESC;

  const h = Buffer.alloc(pageSize);
  h.write(KDUMP_SIGNATURE, 0, 'latin1');
  h.writeInt32LE(HEADER_VERSION, 8);
  utsField(h, 12, 'Linux');
  utsField(h, 77, opts.nodename ?? '');
  utsField(h, 142, opts.release ?? '');
  utsField(h, 207, opts.version ?? '');
  utsField(h, 272, src.arch ?? 'x86_64');
  h.writeBigInt64LE(BigInt(opts.timestamp ?? 0), 408);
  h.writeUInt32LE(DUMP_DH_COMPRESSED_ZLIB, 424);
  h.writeInt32LE(pageSize, 428);
  h.writeInt32LE(subBlocks, 432);
  h.writeUInt32LE(2 * bitmapBlocksHalf, 436);
  h.writeUInt32LE(Number(maxPfn > 0xffffffffn ? 0xffffffffn : maxPfn), 440);
  h.writeUInt32LE(Number(maxPfn > 0xffffffffn ? 0xffffffffn : maxPfn), 444);
  h.writeUInt32LE(kept.length, 452);
  h.writeUInt32LE(0, 456);
  h.writeInt32LE(src.prstatus.length, 460);

  const sub = Buffer.alloc(subBlocks * pageSize);
  sub.writeBigInt64LE(opts.physBase ?? 0n, 0);
  sub.writeInt32LE(0, 8); // dump_level: what was kept was chosen by page, not by level
  sub.writeBigUInt64LE(0n, 16);
  sub.writeBigUInt64LE(maxPfn, 24);
  const notesAt = pageSize + SUB_HEADER;
  sub.writeBigUInt64LE(BigInt(notesAt), 48);
  sub.writeBigUInt64LE(BigInt(notes.length), 56);
  sub.writeBigUInt64LE(0n, 80);
  sub.writeBigUInt64LE(maxPfn, 88);
  sub.writeBigUInt64LE(maxPfn, 96);
  notes.copy(sub, SUB_HEADER);

  const bitmap = Buffer.alloc(bitmapBlocksHalf * pageSize);
  for (const p of kept) {
    const i = Number(p >> 3n);
    bitmap[i] = bitmap[i]! | (1 << Number(p & 7n));
  }

  const fd = openSync(outPath, 'wx');
  try {
    writeSync(fd, h, 0, pageSize, 0);
    writeSync(fd, sub, 0, sub.length, pageSize);
    writeSync(fd, bitmap, 0, bitmap.length, bitmapOff);
    writeSync(fd, bitmap, 0, bitmap.length, bitmapOff + bitmap.length);
    const desc = Buffer.alloc(PAGE_DESC);
    kept.forEach((p, i) => {
      const page = src.readPhysical(p * ps, pageSize);
      const z = deflateSync(page);
      const stored = z.length < pageSize ? z : page;
      desc.writeBigInt64LE(BigInt(dataOff), 0);
      desc.writeUInt32LE(stored.length, 8);
      desc.writeUInt32LE(stored === z ? DUMP_DH_COMPRESSED_ZLIB : 0, 12);
      desc.writeBigUInt64LE(0n, 16);
      writeSync(fd, desc, 0, PAGE_DESC, pdOff + i * PAGE_DESC);
      writeSync(fd, stored, 0, stored.length, dataOff);
      dataOff += stored.length;
    });
  } finally {
    closeSync(fd);
  }
  return { pages: kept.length, skipped, bytes: dataOff };
}

// Finding the kallsyms tables in the kernel image's memory when VMCOREINFO does not name them
// (every kernel before 6.0: RHEL 8/9, Ubuntu 20.04/22.04, Debian 11). The tables are still there,
// in .rodata, as scripts/kallsyms.c emitted them; what varies by version is their order and widths:
//
//   up to 6.3   [addresses|offsets][relative_base] num_syms names markers [seqs_of_names] token_table token_index
//   6.4+        num_syms names markers token_table token_index [addresses|offsets][relative_base] seqs_of_names
//   7.0+        as 6.4 but pc-relative offsets and no relative_base
//   every label is 8-aligned (ALGN); num_syms and markers were PTR (8 bytes) on old kernels, .long later.
//
// So nothing here trusts an order. It anchors on what every layout shares and then proves each
// table by its internal consistency:
//  1. kallsyms_token_table: 256 NUL-terminated tokens in which every byte value used by symbol names
//     stands for itself, so the ten digits appear as "0\0" "1\0" ... "9\0" at indexes 0x30-0x39.
//     A hit is accepted only when a u16[256] token_index right after the table gives exactly the
//     offsets of all 256 tokens.
//  2. kallsyms_names: scanning back from the token table, a start S whose preceding num_syms N
//     (at S - 8) makes N length-prefixed entries end exactly where a markers array begins whose
//     entries are the byte offsets of symbols 0, 256, 512, ... in that same walk.
//  3. addresses: every layout's candidate place for offsets/addresses/relative_base is tried by
//     readKallsyms, which keeps only an encoding that reproduces SYMBOL(_stext); the caller then
//     checks every other image symbol VMCOREINFO names.
// (Layouts from scripts/kallsyms.c write_src() across versions; the digit-run anchor is the
// method tools that rebuild symbols from raw kernel images use. No code copied.)

import type { KallsymsTables, VirtualReader } from './kallsyms.js';
import { KALLSYMS_MAX_SYMS, readTokens } from './kallsyms.js';
import { onlyDumpData } from '../util/errors.js';

const DIGITS = Buffer.from('0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00', 'latin1');
const CHUNK = 1 << 20;
/** How far before the token table names may start (names + markers + 3- or 4-byte seqs), tried
 * in growing windows so the common case reads little. */
const NAMES_WINDOWS = [3 << 20, 8 << 20, 24 << 20];
/** nm type letters kallsyms keeps (scripts/kallsyms.c drops the rest). */
const TYPE_LETTERS = new Set('ABbCDdGgNnRrSsTtUuVvWw?'.split('').map((c) => c.charCodeAt(0)));
/** How far the token table may be searched. */
const IMAGE_WINDOW = 96 << 20;
const PAGE = 4096;

export interface LocatedTables {
  /** The candidate table sets to try, in order; they share names/num_syms/token tables. */
  candidates: KallsymsTables[];
  /** How they were found, for `info` and the report. */
  evidence: string;
  /** Pages looked at while searching. */
  bytesScanned: number;
}

const alignUp = (v: bigint, a: bigint) => (v + a - 1n) & ~(a - 1n);

/** Read [addr, addr + len) with unreadable pages as zero-filled holes; reports if anything was read. */
function readHoley(mem: VirtualReader, addr: bigint, len: number): { buf: Buffer; any: boolean } {
  try {
    return { buf: mem.readVirtual(addr, len), any: true };
  } catch (e) {
    onlyDumpData(e);
    const buf = Buffer.alloc(len);
    let any = false;
    for (let off = 0; off < len; ) {
      const a = addr + BigInt(off);
      const n = Math.min(len - off, PAGE - Number(a & 0xfffn));
      try {
        mem.readVirtual(a, n).copy(buf, off);
        any = true;
      } catch (e) {
        onlyDumpData(e);
        // a hole: stays zero, which no table check accepts
      }
      off += n;
    }
    return { buf, any };
  }
}

interface TokenTables {
  tokenTable: bigint;
  tokenIndex: bigint;
}

/**
 * Check a digit-run hit at `hit` (address of "0"): walk forward over tokens 0x30..0xff, then look
 * for token_index at the next 2-, 4- or 8-byte boundary and require it to describe every token.
 */
function verifyTokenTable(mem: VirtualReader, hit: bigint): TokenTables | undefined {
  // 208 tokens from 0x30 on; tokens are short (a few dozen bytes at most).
  const { buf } = readHoley(mem, hit, 208 * 64 + 1024);
  let p = 0;
  for (let t = 0x30; t <= 0xff; t++) {
    const z = buf.indexOf(0, p);
    if (z < 0 || z === p) return undefined;
    p = z + 1;
  }
  const end = hit + BigInt(p);
  for (const a of [2n, 4n, 8n]) {
    const idxAt = alignUp(end, a);
    const ib = readHoley(mem, idxAt, 512).buf;
    const idx0x30 = ib.readUInt16LE(0x30 * 2);
    if (ib.readUInt16LE(0) !== 0 || idx0x30 === 0) continue;
    const table = hit - BigInt(idx0x30);
    const tb = readHoley(mem, table, Number(end - table)).buf;
    let ok = true;
    let off = 0;
    for (let i = 0; i < 256 && ok; i++) {
      if (ib.readUInt16LE(i * 2) !== off) ok = false;
      const z = tb.indexOf(0, off);
      if (z <= off) ok = false;
      off = z + 1;
    }
    if (ok && table + BigInt(off) === end) return { tokenTable: table, tokenIndex: idxAt };
  }
  return undefined;
}

/** The token table, searched backwards from `hi` down to `lo` (kallsyms sits late in .rodata). */
function findTokenTable(mem: VirtualReader, lo: bigint, hi: bigint): { found?: TokenTables; scanned: number } {
  let scanned = 0;
  for (let end = hi; end > lo; end -= BigInt(CHUNK)) {
    const start = end - BigInt(CHUNK) > lo ? end - BigInt(CHUNK) : lo;
    // Overlap so a run split across chunks is still seen.
    const len = Number(end - start) + DIGITS.length;
    const { buf, any } = readHoley(mem, start, len);
    scanned += len;
    if (!any) continue;
    for (let i = buf.lastIndexOf(DIGITS); i >= 0; i = i > 0 ? buf.lastIndexOf(DIGITS, i - 1) : -1) {
      const found = verifyTokenTable(mem, start + BigInt(i));
      if (found) return { found, scanned };
    }
  }
  return { scanned };
}

interface NamesTable {
  names: bigint;
  numSyms: bigint;
  count: number;
  markers: bigint;
  markerWidth: 4 | 8;
  /** Label alignment seen between num_syms and names (7.x: 4, before: 8). */
  align: 4n | 8n;
}

/**
 * Walk `count` length-prefixed entries from `s` in `buf`; return the end offset, or -1 when the
 * walk leaves the buffer. `marks` collects the offset of every 256th entry.
 */
function walkNames(buf: Buffer, s: number, count: number, marks: number[]): number {
  let p = s;
  for (let i = 0; i < count; i++) {
    if (p >= buf.length) return -1;
    if ((i & 0xff) === 0) marks.push(p - s);
    let len = buf[p];
    if (len === 0) return -1;
    if (len & 0x80) {
      if (p + 1 >= buf.length) return -1;
      len = (len & 0x7f) | (buf[p + 1] << 7);
      p += 2;
    } else p += 1;
    p += len;
  }
  return p;
}

function markersMatch(buf: Buffer, at: number, marks: number[], width: 4 | 8): boolean {
  if (at + marks.length * width > buf.length) return false;
  for (let k = 0; k < marks.length; k++) {
    const v = width === 4 ? buf.readUInt32LE(at + k * 4) : Number(buf.readBigUInt64LE(at + k * 8));
    if (v !== marks[k]) return false;
  }
  return true;
}

/** The first few entries at `s` expand to plausible names: a type letter, then printable text. */
function plausibleEntries(buf: Buffer, s: number, tokens: string[]): boolean {
  let p = s;
  for (let i = 0; i < 16; i++) {
    if (p >= buf.length) return false;
    let len = buf[p];
    if (len === 0) return false;
    if (len & 0x80) {
      len = (len & 0x7f) | ((buf[p + 1] ?? 0) << 7);
      p += 2;
    } else p += 1;
    if (len > 512 || p + len > buf.length) return false;
    const first = tokens[buf[p]];
    if (first.length === 0 || !TYPE_LETTERS.has(first.charCodeAt(0))) return false;
    for (let k = p; k < p + len; k++) {
      const t = tokens[buf[k]];
      for (let j = 0; j < t.length; j++) {
        const c = t.charCodeAt(j);
        if (c <= 0x20 || c >= 0x7f) return false;
      }
    }
    p += len;
  }
  return true;
}

/** kallsyms_names (and num_syms, markers) below the token table. */
function findNames(mem: VirtualReader, tokens: string[], tokenTable: bigint, floor: bigint): NamesTable | undefined {
  let checkedFrom = tokenTable;
  for (const window of NAMES_WINDOWS) {
    const from = tokenTable - BigInt(window) > floor ? tokenTable - BigInt(window) : floor;
    const base = from & ~7n;
    if (base >= checkedFrom) continue;
    const { buf } = readHoley(mem, base, Number(tokenTable - base));
    // Scan downward from where the last window stopped: names end close to the token table.
    // Labels were 8-aligned (num_syms 8 bytes before names) until 7.x made them 4-aligned
    // (num_syms right before names); both are tried at every 4-byte step.
    for (let s = Number(checkedFrom - base) - 4; s >= 8; s -= 4) {
      for (const gap of s % 8 === 0 ? [4, 8] : [4]) {
        if (gap === 8 && buf.readUInt32LE(s - 4) !== 0) continue;
        const n = buf.readUInt32LE(s - gap);
        if (n < 256 || n > KALLSYMS_MAX_SYMS) continue;
        if (!plausibleEntries(buf, s, tokens)) continue;
        const marks: number[] = [];
        const end = walkNames(buf, s, n, marks);
        if (end < 0) continue;
        for (const align of [4n, 8n]) {
          const at = Number(alignUp(BigInt(end), align));
          for (const w of [4, 8] as const) {
            if (markersMatch(buf, at, marks, w)) {
              return { names: base + BigInt(s), numSyms: base + BigInt(s - gap), count: n, markers: base + BigInt(at), markerWidth: w, align: gap === 4 ? 4n : 8n };
            }
          }
        }
      }
    }
    checkedFrom = base + 4n;
    if (base <= floor) break;
  }
  return undefined;
}

/**
 * Locate the kallsyms tables in the kernel image. `lo`..`hi` bound the search (the image's text
 * start and the highest image data address known); returns undefined with a reason.
 */
export function locateKallsyms(mem: VirtualReader, lo: bigint, hi: bigint): LocatedTables | { reason: string; bytesScanned: number } {
  if (hi <= lo) return { reason: 'no kernel image range to search', bytesScanned: 0 };
  if (hi - lo > BigInt(IMAGE_WINDOW)) lo = hi - BigInt(IMAGE_WINDOW);
  const { found, scanned } = findTokenTable(mem, lo, hi);
  if (!found) {
    return { reason: `no kallsyms token table in the ${Math.round(Number(hi - lo) / 1048576)} MiB of the kernel image searched`, bytesScanned: scanned };
  }
  const nt = findNames(mem, readTokens(mem, found.tokenTable, found.tokenIndex), found.tokenTable, lo);
  if (!nt) {
    return { reason: `kallsyms token table at 0x${found.tokenTable.toString(16)}, but no kallsyms_names/markers pair before it`, bytesScanned: scanned };
  }
  const n = BigInt(nt.count);
  const shared = { names: nt.names, numSyms: nt.numSyms, tokenTable: found.tokenTable, tokenIndex: found.tokenIndex };
  // After token_index (6.4+): the address table, then relative_base where one exists; labels
  // 8- or (7.x) 4-aligned.
  const candidates: KallsymsTables[] = [];
  for (const a of nt.align === 4n ? [4n, 8n] : [8n, 4n]) {
    const afterIndex = alignUp(found.tokenIndex + 512n, a);
    candidates.push(
      { ...shared, offsets: afterIndex, relativeBase: alignUp(afterIndex + 4n * n, 8n) },
      { ...shared, offsets: afterIndex },
      { ...shared, addresses: alignUp(afterIndex, 8n) },
    );
  }
  // Up to 6.3: the address table ends right before num_syms, relative_base in between.
  const oldRb = nt.numSyms - 8n;
  candidates.push(
    { ...shared, offsets: oldRb - alignUp(4n * n, 8n), relativeBase: oldRb },
    { ...shared, addresses: nt.numSyms - 8n * n },
  );
  return {
    candidates,
    evidence:
      `found in the kernel image: token table at 0x${found.tokenTable.toString(16)} (token_index agrees), ` +
      `${nt.count} names at 0x${nt.names.toString(16)} ending at ${nt.markerWidth}-byte markers that agree`,
    bytesScanned: scanned,
  };
}

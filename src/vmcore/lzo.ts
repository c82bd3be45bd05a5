// LZO1X decompression with strict bounds checks, written from the stream description in the
// Linux kernel's Documentation/staging/lzo.rst ("LZO stream format as understood by Linux's LZO
// decompressor", which documents lib/lzo/lzo1x_decompress_safe.c). makedumpfile compresses
// kdump pages with liblzo's lzo1x_1_compress (page_desc flag DUMP_DH_COMPRESSED_LZO), whose
// output is the version-0 stream described there (no LZO-RLE).
//
// Why not the `lzo` npm package: it builds LZO 2.09 with node-gyp, has to be rebuilt per Node
// major, and npm 11 wants its install script approved; it was 6.4 us/page against about 9 us/page
// for a TypeScript decoder (measured
// on this project's 2-core machines, 2026). A page is 4 KiB, so the difference is
// invisible next to a disk read, and a pure decoder runs on any CI without a compiler.

export class LzoError extends Error {}

/**
 * A long length: `base` plus 255 for each zero byte at `ip`, plus the first non-zero byte.
 * Bounded by `limit` (no zero run can describe more than one page).
 */
function runLength(src: Uint8Array, ip: number, base: number, limit: number): number {
  let len = base;
  for (;;) {
    if (ip >= src.length) throw new LzoError('input overrun');
    const b = src[ip++]!;
    if (b !== 0) return len + b;
    len += 255;
    if (len > limit) throw new LzoError('length overrun');
  }
}

/** Bytes runLength() consumed for a result `len` (its zero bytes plus the final one). */
function runBytes(len: number, base: number): number {
  return Math.floor((len - base - 1) / 255) + 1;
}

/**
 * Decompress one LZO1X stream into exactly `outLen` bytes (a page). Throws LzoError on any
 * malformed input: an input or output overrun, a back-reference before the start of the output,
 * a stream that ends early or produces more or fewer than `outLen` bytes.
 */
export function lzo1xDecompress(src: Uint8Array, outLen: number): Buffer {
  // One flat loop with local state (no closures; two small pure helpers): the hot path for LZO dumps.
  const out = Buffer.alloc(outLen);
  const n = src.length;
  let ip = 0;
  let op = 0;
  if (n === 0) throw new LzoError('empty input');
  // state: number of literals the previous instruction copied (0..3), or 4 after a long literal run.
  let state = 0;
  if (src[0]! > 17) {
    // First byte 18..255: a literal run of (byte - 17) bytes.
    const t = src[0]! - 17;
    ip = 1;
    if (ip + t > n) throw new LzoError('input overrun');
    if (t > outLen) throw new LzoError('output overrun (literal run)');
    out.set(src.subarray(ip, ip + t), 0);
    ip += t;
    op = t;
    state = t < 4 ? t : 4;
  }
  for (;;) {
    if (ip >= n) throw new LzoError('input overrun');
    const t = src[ip++]!;
    let len: number;
    let dist: number;
    let s: number; // literals to copy after this match
    if (t < 16) {
      if (state === 0) {
        // 0000LLLL: long literal run, length = 3 + (L or 15 + 255 per zero byte + next byte).
        len = t;
        if (len === 0) {
          len = runLength(src, ip, 15, outLen);
          ip += runBytes(len, 15);
        }
        len += 3;
        if (ip + len > n) throw new LzoError('input overrun');
        if (op + len > outLen) throw new LzoError('output overrun (literal run)');
        out.set(src.subarray(ip, ip + len), op);
        ip += len;
        op += len;
        state = 4;
        continue;
      }
      if (ip >= n) throw new LzoError('input overrun');
      const h = src[ip++]!;
      s = t & 3;
      if (state === 4) {
        len = 3; // 3 bytes from 2..3 KiB back
        dist = (h << 2) + (t >> 2) + 2049;
      } else {
        len = 2; // 2 bytes from within 1 KiB
        dist = (h << 2) + (t >> 2) + 1;
      }
    } else if (t < 64) {
      // 0001HLLL + LE16 (distance 16384 + (H << 14) + D; 16384 ends the stream) or
      // 001LLLLL + LE16 (distance D + 1).
      const mask = t < 32 ? 7 : 31;
      len = t & mask;
      if (len === 0) {
        len = runLength(src, ip, mask, outLen);
        ip += runBytes(len, mask);
      }
      len += 2;
      if (ip + 2 > n) throw new LzoError('input overrun');
      const v = src[ip]! | (src[ip + 1]! << 8);
      ip += 2;
      s = v & 3;
      if (t < 32) {
        dist = 16384 + ((t & 8) << 11) + (v >> 2);
        if (dist === 16384) {
          if (len !== 3) throw new LzoError('bad end-of-stream marker');
          break;
        }
      } else {
        dist = (v >> 2) + 1;
      }
    } else {
      // 01LDDDSS / 1LLDDDSS + one byte H: distance (H << 3) + D + 1.
      if (ip >= n) throw new LzoError('input overrun');
      const h = src[ip++]!;
      len = t < 128 ? 3 + ((t >> 5) & 1) : 5 + ((t >> 5) & 3);
      s = t & 3;
      dist = (h << 3) + ((t >> 2) & 7) + 1;
    }
    // Copy the match byte by byte: source and destination may overlap (runs).
    if (dist > op) throw new LzoError('back-reference before start of output');
    if (op + len > outLen) throw new LzoError('output overrun (match)');
    let from = op - dist;
    const end = op + len;
    while (op < end) out[op++] = out[from++]!;
    if (s > 0) {
      if (ip + s > n) throw new LzoError('input overrun');
      if (op + s > outLen) throw new LzoError('output overrun (literal run)');
      for (let i = 0; i < s; i++) out[op++] = src[ip++]!;
    }
    state = s;
  }
  if (op !== outLen) throw new LzoError(`stream produced ${op} bytes, expected ${outLen}`);
  return out;
}

// LZO1X decompression with strict bounds checks, written from the stream description in the
// Linux kernel's Documentation/staging/lzo.rst ("LZO stream format as understood by Linux's LZO
// decompressor", which documents lib/lzo/lzo1x_decompress_safe.c). makedumpfile compresses
// kdump pages with liblzo's lzo1x_1_compress (page_desc flag DUMP_DH_COMPRESSED_LZO), whose
// output is the version-0 stream described there (no LZO-RLE).
//
// Why not the `lzo` npm package: it builds LZO 2.09 with node-gyp, has to be rebuilt per Node
// major, and npm 11 wants its install script approved; it was 6.4 us/page against about 9 us/page
// for a TypeScript decoder (DESIGN.md measurements). A page is 4 KiB, so the difference is
// invisible next to a disk read, and a pure decoder runs on any CI without a compiler.

export class LzoError extends Error {}

/**
 * Decompress one LZO1X stream into exactly `outLen` bytes (a page). Throws LzoError on any
 * malformed input: an input or output overrun, a back-reference before the start of the output,
 * a stream that ends early or produces more or fewer than `outLen` bytes.
 */
export function lzo1xDecompress(src: Uint8Array, outLen: number): Buffer {
  const out = Buffer.alloc(outLen);
  const n = src.length;
  let ip = 0;
  let op = 0;

  const need = (k: number): void => {
    if (ip + k > n) throw new LzoError('input overrun');
  };
  const literals = (count: number): void => {
    need(count);
    if (op + count > outLen) throw new LzoError('output overrun (literal run)');
    out.set(src.subarray(ip, ip + count), op);
    ip += count;
    op += count;
  };
  const match = (dist: number, len: number): void => {
    if (dist > op || dist <= 0) throw new LzoError('back-reference before start of output');
    if (op + len > outLen) throw new LzoError('output overrun (match)');
    let from = op - dist;
    // Byte by byte: the source may overlap the bytes being written (runs).
    for (let i = 0; i < len; i++) out[op++] = out[from++];
  };
  // Variable-length count: the low bits were zero, so add 255 per zero byte then the next byte.
  const extLength = (base: number): number => {
    let len = base;
    for (;;) {
      need(1);
      const b = src[ip++];
      if (b !== 0) return len + b;
      len += 255;
      if (len > outLen + 255) throw new LzoError('length overrun');
    }
  };

  if (n === 0) throw new LzoError('empty input');
  // state: number of literals the previous instruction copied (0..3), or 4 after a long literal run.
  let state = 0;
  if (src[0] > 17) {
    // First byte 18..255: a literal run of (byte - 17) bytes.
    ip = 1;
    const t = src[0] - 17;
    literals(t);
    state = t < 4 ? t : 4;
  }
  for (;;) {
    need(1);
    const t = src[ip++];
    let s: number; // literals to copy after this match
    if (t < 16) {
      if (state === 0) {
        // 0000LLLL: long literal run, length = 3 + (L or 15 + extension).
        const len = 3 + (t !== 0 ? t : extLength(15));
        literals(len);
        state = 4;
        continue;
      }
      need(1);
      const h = src[ip++];
      s = t & 3;
      if (state === 4) match((h << 2) + (t >> 2) + 2049, 3); // 3 bytes from 2..3 KiB back
      else match((h << 2) + (t >> 2) + 1, 2); // 2 bytes from within 1 KiB
    } else if (t < 32) {
      // 0001HLLL + LE16: distance 16384 + (H << 14) + D; distance 16384 ends the stream.
      const len = 2 + ((t & 7) !== 0 ? t & 7 : extLength(7));
      need(2);
      const v = src[ip] | (src[ip + 1] << 8);
      ip += 2;
      const dist = 16384 + ((t & 8) << 11) + (v >> 2);
      if (dist === 16384) {
        if (len !== 3) throw new LzoError('bad end-of-stream marker');
        break;
      }
      s = v & 3;
      match(dist, len);
    } else if (t < 64) {
      // 001LLLLL + LE16: distance D + 1 (up to 16 KiB).
      const len = 2 + ((t & 31) !== 0 ? t & 31 : extLength(31));
      need(2);
      const v = src[ip] | (src[ip + 1] << 8);
      ip += 2;
      s = v & 3;
      match((v >> 2) + 1, len);
    } else {
      // 01LDDDSS / 1LLDDDSS + one byte H: distance (H << 3) + D + 1.
      need(1);
      const h = src[ip++];
      const len = t < 128 ? 3 + ((t >> 5) & 1) : 5 + ((t >> 5) & 3);
      s = t & 3;
      match((h << 3) + ((t >> 2) & 7) + 1, len);
    }
    if (s > 0) literals(s);
    state = s;
  }
  if (op !== outLen) throw new LzoError(`stream produced ${op} bytes, expected ${outLen}`);
  return out;
}

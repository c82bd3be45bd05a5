// Raw snappy block decoder (the format makedumpfile writes with snappy_compress(); layout from
// google/snappy's format_description.txt: a varint uncompressed length, then literal and copy
// elements selected by the two low bits of a tag byte).
//
// Why not snappyjs (still used by the tests as an independent encoder): its decoder reads a 4-byte
// literal length as a signed 32-bit value, so a hostile page with a high top byte makes the length
// negative, the read position moves backwards and the loop never ends (found by the fuzz campaign:
// test/fuzz/regressions/decompress/). It also lets writes past the declared length vanish silently
// into the typed array. Here every length is unsigned, every element is checked against both the
// input and the declared output size, and the output is exactly the declared length or an error.

export class SnappyError extends Error {}

/** Decode one raw snappy block whose declared length must be at most `maxLength`. */
export function snappyDecompress(src: Uint8Array, maxLength: number): Uint8Array {
  let pos = 0;
  // Preamble: little-endian base-128 varint, at most 5 bytes (32 bits).
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length) throw new SnappyError('snappy: truncated length preamble');
    if (shift > 28) throw new SnappyError('snappy: length preamble longer than 5 bytes');
    const c = src[pos++]!;
    length += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) break;
  }
  if (length > maxLength) throw new SnappyError(`snappy: declared length ${length} exceeds the block size ${maxLength}`);
  const out = new Uint8Array(length);
  let op = 0;
  while (pos < src.length) {
    const tag = src[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const n = len - 59; // 1..4 little-endian bytes hold len - 1
        if (pos + n > src.length) throw new SnappyError('snappy: truncated literal length');
        len = 0;
        for (let i = 0; i < n; i++) len += src[pos + i]! * 2 ** (8 * i);
        pos += n;
      }
      len += 1;
      if (len > src.length - pos) throw new SnappyError(`snappy: literal of ${len} bytes runs past the input`);
      if (len > length - op) throw new SnappyError(`snappy: literal of ${len} bytes overflows the ${length}-byte output`);
      out.set(src.subarray(pos, pos + len), op);
      pos += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos + 1 > src.length) throw new SnappyError('snappy: truncated copy');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos]!;
      pos += 1;
    } else if (kind === 2) {
      if (pos + 2 > src.length) throw new SnappyError('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > src.length) throw new SnappyError('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = src[pos]! + src[pos + 1]! * 0x100 + src[pos + 2]! * 0x10000 + src[pos + 3]! * 0x1000000;
      pos += 4;
    }
    if (offset === 0 || offset > op) throw new SnappyError(`snappy: copy offset ${offset} outside the ${op} bytes written`);
    if (len > length - op) throw new SnappyError(`snappy: copy of ${len} bytes overflows the ${length}-byte output`);
    // Overlapping copies (offset < len) repeat a pattern: byte by byte, as the format intends.
    for (let i = 0; i < len; i++, op++) out[op] = out[op - offset]!;
  }
  if (op !== length) throw new SnappyError(`snappy: ${op} bytes decoded, ${length} declared`);
  return out;
}

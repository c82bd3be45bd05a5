// The kernel's .BTF section without __start_BTF: a kernel built without CONFIG_KALLSYMS_ALL
// (Debian's arm64 kernels) lists only text symbols in kallsyms. The section lies in the image's
// read-only data after the text (include/asm-generic/vmlinux.lds.h: `. = ALIGN(4); .BTF`), and
// starts with struct btf_header (include/uapi/linux/btf.h): magic 0xeB9F, version 1, flags 0,
// hdr_len 24, then type_off 0, type_len, str_off = type_len, str_len.
import { onlyDumpData } from '../util/errors.js';
import type { KernelAddressSpace } from './address-space.js';

const HEADER = Buffer.from([0x9f, 0xeb, 0x01, 0x00, 0x18, 0x00, 0x00, 0x00]);
const CHUNK = 1 << 20;
/** How far past the end of the text to look (the image's rodata on distribution kernels is well under this). */
const SPAN = 64 * CHUNK;

/** A chunk of the image, with the pages a dump lacks (a trimmed dump keeps few) read as zeroes. */
function readTolerant(mem: KernelAddressSpace, base: bigint, len: number): Buffer {
  try {
    return mem.readVirtual(base, len);
  } catch (e) {
    onlyDumpData(e);
  }
  const out = Buffer.alloc(len);
  for (let o = 0; o < len; o += 4096) {
    const n = Math.min(4096, len - o);
    try {
      mem.readVirtual(base + BigInt(o), n).copy(out, o);
    } catch (e) {
      onlyDumpData(e);
    }
  }
  return out;
}

/**
 * [start, stop) of the .BTF section, found after `etext`; undefined when no plausible header is
 * there. The pages the search only looked through are dropped from the dump's pages-read set: a
 * trimmed dump (`ktriage trim`) needs the section, not the rodata before it.
 */
/** The size of the BTF blob (header, types, strings) whose header is at `addr`, or undefined. */
export function btfHeaderAt(mem: KernelAddressSpace, addr: bigint): number | undefined {
  const h = mem.tryRead(addr, 24);
  if (!h || !h.subarray(0, HEADER.length).equals(HEADER)) return undefined;
  const typeOff = h.readUInt32LE(8);
  const typeLen = h.readUInt32LE(12);
  const strOff = h.readUInt32LE(16);
  const strLen = h.readUInt32LE(20);
  if (typeOff !== 0 || strOff !== typeLen || typeLen === 0 || strLen === 0 || typeLen + strLen > 64 * CHUNK) return undefined;
  return 24 + typeLen + strLen;
}

export function locateBtf(mem: KernelAddressSpace, etext: bigint): { start: bigint; stop: bigint } | undefined {
  const touched = mem.dump.pagesTouched;
  const before = new Set(touched);
  const forget = () => {
    for (const p of [...touched]) if (!before.has(p)) touched.delete(p);
  };
  for (let off = 0; off < SPAN; off += CHUNK) {
    const base = etext + BigInt(off);
    // Overlap the next chunk by a header's length so a header across the boundary is seen.
    const buf = readTolerant(mem, base, CHUNK + 24);
    for (let i = buf.indexOf(HEADER); i >= 0 && i + 24 <= buf.length; i = buf.indexOf(HEADER, i + 4)) {
      if (i % 4 !== 0) continue;
      const typeOff = buf.readUInt32LE(i + 8);
      const typeLen = buf.readUInt32LE(i + 12);
      const strOff = buf.readUInt32LE(i + 16);
      const strLen = buf.readUInt32LE(i + 20);
      // vmlinux BTF: types first, strings right after, both of a few MiB at most.
      if (typeOff !== 0 || strOff !== typeLen || typeLen === 0 || strLen === 0 || typeLen + strLen > 64 * CHUNK) continue;
      forget();
      const start = base + BigInt(i);
      return { start, stop: start + 24n + BigInt(typeLen) + BigInt(strLen) };
    }
  }
  forget();
  return undefined;
}

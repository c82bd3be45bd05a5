// Page decompression for kdump-compressed dumps. Every codec must produce exactly one block
// (page); anything else is reported as a DecompressError, never a crash or an oversized buffer.
//
// zstd comes from `zstddec` (WebAssembly), whose one-time `init()` is asynchronous. openDump()
// stays synchronous; call `await prepareDecompressors()` once before reading a zstd-compressed
// dump (openDumpAsync() does it for you). Reading a zstd page without it raises a DumpReadError
// that says so.
import { inflateSync } from 'node:zlib';
import type { ZSTDDecoder } from 'zstddec';
import { lzo1xDecompress } from './lzo.js';
import { snappyDecompress } from './snappy.js';

export class DecompressError extends Error {}

/** page_desc.flags (makedumpfile's diskdump_mod.h: DUMP_DH_COMPRESSED_*). */
export const DUMP_DH_COMPRESSED_ZLIB = 0x1;
export const DUMP_DH_COMPRESSED_LZO = 0x2;
export const DUMP_DH_COMPRESSED_SNAPPY = 0x4;
export const DUMP_DH_COMPRESSED_INCOMPLETE = 0x8;
export const DUMP_DH_EXCLUDED_VMEMMAP = 0x10;
export const DUMP_DH_COMPRESSED_ZSTD = 0x20;

export type Codec = 'none' | 'zlib' | 'lzo' | 'snappy' | 'zstd';

export function codecOfFlags(flags: number): Codec | null {
  const c = flags & (DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_LZO | DUMP_DH_COMPRESSED_SNAPPY | DUMP_DH_COMPRESSED_ZSTD);
  switch (c) {
    case 0:
      return 'none';
    case DUMP_DH_COMPRESSED_ZLIB:
      return 'zlib';
    case DUMP_DH_COMPRESSED_LZO:
      return 'lzo';
    case DUMP_DH_COMPRESSED_SNAPPY:
      return 'snappy';
    case DUMP_DH_COMPRESSED_ZSTD:
      return 'zstd';
    default:
      return null; // more than one codec bit: corrupt
  }
}

/**
 * zlib page via node:zlib's inflateSync, with a block-sized output chunk and maxOutputLength the
 * block: a page that inflates beyond the block fails (ERR_BUFFER_TOO_LARGE, a DecompressError
 * below) instead of allocating, and zlib checks the stream's Adler-32. Measured against fflate
 * (pure JS, the decoder before) on the 2-CPU fixture's pages (`npm run bench inflate`): 7x faster
 * on the first 240 pages of a fresh process (fflate runs in the interpreter until the JIT warms
 * up, which a command never reaches), 1.7x on 1,765 pages, 1.8x warmed up (README, "Speed").
 * A reused inflater is not possible: Node 20's synchronous zlib closes its handle after each call.
 */
function inflatePage(data: Buffer, blockSize: number): Buffer {
  return inflateSync(data, { chunkSize: blockSize, maxOutputLength: blockSize });
}

let zstd: ZSTDDecoder | null = null;
let zstdInit: Promise<void> | null = null;

/** Initialise the asynchronous decoders (zstd). Idempotent; cheap after the first call. */
export async function prepareDecompressors(): Promise<void> {
  if (zstd) return;
  if (!zstdInit) {
    // Imported here, not at the top: its 75 KB module (WebAssembly inline) is parsed only for
    // dumps that may hold zstd pages.
    zstdInit = import('zstddec').then(async ({ ZSTDDecoder }) => {
      const d = new ZSTDDecoder();
      await d.init();
      zstd = d;
    });
  }
  await zstdInit;
}

/** Decompress one page; the result is exactly `blockSize` bytes or a DecompressError. */
export function decompressPage(codec: Codec, data: Buffer, blockSize: number): Buffer {
  let out: Buffer;
  try {
    switch (codec) {
      case 'none':
        out = data;
        break;
      case 'zlib':
        // makedumpfile uses compress2()/uncompress(): a zlib stream. maxOutputLength bounds the
        // output, so a page that inflates beyond the block fails instead of allocating.
        out = inflatePage(data, blockSize);
        break;
      case 'lzo':
        out = lzo1xDecompress(data, blockSize);
        break;
      case 'snappy': {
        // Raw snappy (snappy_compress()), our own bounded decoder (snappy.ts says why).
        const u = snappyDecompress(data, blockSize);
        out = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
        break;
      }
      case 'zstd': {
        if (!zstd) throw new DecompressError('zstd decoder not initialised: call prepareDecompressors() (or use openDumpAsync) first');
        // ZSTD_decompress into a block-sized buffer: a frame that expands further fails with
        // dstSize_tooSmall, which zstddec returns as a short (or empty) result.
        const u = zstd.decode(data, blockSize);
        out = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
        break;
      }
    }
  } catch (e) {
    if (e instanceof DecompressError) throw e;
    // Broad on purpose: node:zlib and zstddec report corrupt input as plain Errors with codes.
    throw new DecompressError(`${codec}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (out.length !== blockSize) throw new DecompressError(`${codec}: page decompressed to ${out.length} bytes, expected ${blockSize}`);
  return out;
}

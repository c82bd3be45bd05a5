// Random access to the bytes of a dump file: positioned reads on a read-only descriptor, never the
// whole file in memory. Two sources: the plain file, and makedumpfile's flattened stream (`-F`),
// which is a sequence of (offset, size, data) records that `makedumpfile -R` would replay into a
// regular file; here an index of those records stands in for the replayed file.
import fs from 'node:fs';
import { InputError } from '../util/errors.js';

/** Largest single metadata read we accept (headers, notes, bitmap chunks). */
export const MAX_METADATA_READ = 64 * 1024 * 1024;

export interface ByteSource {
  /** Logical size of the (possibly reassembled) file. */
  readonly size: number;
  /** Read up to `length` bytes at logical `pos` into `buf` at `bufOff`; returns bytes read (short at EOF). */
  readInto(buf: Buffer, bufOff: number, length: number, pos: number): number;
  close(): void;
}

/** Read exactly `length` bytes or throw an InputError naming `what` (used for metadata). */
export function readExact(src: ByteSource, pos: number, length: number, what: string): Buffer {
  if (!Number.isSafeInteger(pos) || pos < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new InputError(`${what}: bad offset ${pos} or size ${length}`);
  }
  if (length > MAX_METADATA_READ) {
    throw new InputError(`${what}: size ${length} is implausibly large (limit ${MAX_METADATA_READ})`);
  }
  if (pos + length > src.size) {
    throw new InputError(`${what}: bytes ${pos}..${pos + length} lie past the end of the file (${src.size} bytes; truncated dump?)`);
  }
  const buf = Buffer.alloc(length);
  const n = src.readInto(buf, 0, length, pos);
  if (n !== length) throw new InputError(`${what}: short read at offset ${pos} (truncated dump?)`);
  return buf;
}

/** Converts a 64-bit file offset to a safe JS number or throws InputError. */
export function toOffset(v: bigint, what: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`${what}: offset 0x${v.toString(16)} out of range`);
  return Number(v);
}

/** Process-wide count of positioned reads on dump files (for tests and measurements). */
export const ioStats = { reads: 0, bytes: 0 };

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | null;

  constructor(readonly path: string) {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new InputError(`${path}: cannot open (${code})`);
    }
    const st = fs.fstatSync(fd);
    if (!st.isFile() && !st.isBlockDevice()) {
      fs.closeSync(fd);
      throw new InputError(`${path}: not a regular file`);
    }
    this.fd = fd;
    this.size = st.size;
  }

  readInto(buf: Buffer, bufOff: number, length: number, pos: number): number {
    if (this.fd === null) throw new InputError(`${this.path}: dump is closed`);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buf, bufOff + done, length - done, pos + done);
      ioStats.reads++;
      ioStats.bytes += n;
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * makedumpfile's flattened format (makedumpfile.h: MAKEDUMPFILE_SIGNATURE, struct
 * makedumpfile_header / makedumpfile_data_header; written by `makedumpfile -F` and by QEMU's
 * `dump-guest-memory` kdump formats before QEMU 8.2): a 4096-byte header
 * {char signature[16] = "makedumpfile"; int64 type; int64 version} then records
 * {int64 offset; int64 buf_size; data[buf_size]} with big-endian integers, ended by
 * offset = buf_size = -1. We index the records once (16 bytes read per record; a 36 MB QEMU
 * dump has about 2300) and serve positioned reads from them. The cost is proportional to the
 * number of records, not to memory size; for very large flattened dumps
 * `makedumpfile -R out < in` gives a file that opens in constant time.
 */
export const FLAT_SIGNATURE = 'makedumpfile';
const FLAT_HEADER_SIZE = 4096;
/** Refuse to index more records than this (24 bytes of index each, plus temporaries while building;
 * QEMU writes about 16 KiB per record, so this is some 64 GB of dump). */
const FLAT_MAX_RECORDS = 4 * 1024 * 1024;

export class FlattenedSource implements ByteSource {
  readonly size: number;
  readonly records: number;
  /** True when the stream stopped without its end marker (truncated input). */
  readonly truncated: boolean;
  private readonly start: Float64Array;
  private readonly len: Float64Array;
  private readonly phys: Float64Array;

  constructor(private readonly file: FileSource) {
    const hdr = readExact(file, 0, 32, 'flattened header');
    const type = hdr.readBigInt64BE(16);
    const version = hdr.readBigInt64BE(24);
    if (type !== 1n) throw new InputError(`flattened dump: type ${type} is not 1 (not a makedumpfile flattened vmcore?)`);
    if (version !== 1n) throw new InputError(`flattened dump: version ${version} not supported; convert with makedumpfile -R out < in`);
    let starts: number[] = [];
    let lens: number[] = [];
    let physs: number[] = [];
    let pos = FLAT_HEADER_SIZE;
    let truncated = true;
    // Read record headers through a small read-ahead window: records are often a few KiB apart.
    const win = Buffer.alloc(64 * 1024);
    let winPos = -1;
    let winLen = 0;
    while (pos + 16 <= file.size) {
      if (winPos < 0 || pos < winPos || pos + 16 > winPos + winLen) {
        winPos = pos;
        winLen = file.readInto(win, 0, win.length, pos);
        if (winLen < 16) break;
      }
      const o = win.readBigInt64BE(pos - winPos);
      const s = win.readBigInt64BE(pos - winPos + 8);
      if (o === -1n && s === -1n) {
        truncated = false;
        break;
      }
      if (o < 0n || s < 0n || o + s > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new InputError(`flattened dump: bad record at file offset ${pos} (offset ${o}, size ${s})`);
      }
      if (starts.length >= FLAT_MAX_RECORDS) {
        throw new InputError(`flattened dump: more than ${FLAT_MAX_RECORDS} records; convert it with makedumpfile -R out < in`);
      }
      const size = Number(s);
      if (pos + 16 + size > file.size) break; // truncated inside a record: keep what is complete
      if (size > 0) {
        starts.push(Number(o));
        lens.push(size);
        physs.push(pos + 16);
      }
      pos += 16 + size;
    }
    const order = starts.map((_, i) => i).sort((a, b) => starts[a]! - starts[b]!);
    this.start = Float64Array.from(order, (i) => starts[i]!);
    this.len = Float64Array.from(order, (i) => lens[i]!);
    this.phys = Float64Array.from(order, (i) => physs[i]!);
    starts = lens = physs = [];
    let end = 0;
    for (let i = 0; i < this.start.length; i++) {
      if (this.start[i]! < end) {
        throw new InputError('flattened dump: records overlap (rewritten blocks); convert it with makedumpfile -R out < in');
      }
      end = this.start[i]! + this.len[i]!;
    }
    this.size = end;
    this.records = this.start.length;
    this.truncated = truncated;
  }

  /** Index of the last record starting at or before pos, or -1. */
  private find(pos: number): number {
    let lo = 0;
    let hi = this.start.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.start[mid]! <= pos) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  readInto(buf: Buffer, bufOff: number, length: number, pos: number): number {
    // Holes between records read as zeroes (makedumpfile -R leaves them as sparse zeroes too).
    let done = 0;
    while (done < length && pos + done < this.size) {
      const p = pos + done;
      const i = this.find(p);
      const recStart = this.start[i];
      if (recStart !== undefined && p < recStart + this.len[i]!) {
        const n = Math.min(length - done, recStart + this.len[i]! - p);
        const got = this.file.readInto(buf, bufOff + done, n, this.phys[i]! + (p - recStart));
        done += got;
        if (got < n) break;
      } else {
        const next = this.start[i + 1] ?? this.size;
        const n = Math.min(length - done, next - p);
        buf.fill(0, bufOff + done, bufOff + done + n);
        done += n;
      }
    }
    return done;
  }

  close(): void {
    this.file.close();
  }
}

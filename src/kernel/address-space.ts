// Kernel virtual memory over a dump's physical memory, whatever the architecture: the readers
// (bytes, integers, C strings) over one translation primitive that each architecture's record
// (src/kernel/arch/<arch>/memory.ts) supplies, as libkdumpfile's addrxlat sits apart from its
// file formats.

import { DumpReadError, type DumpFile } from '../vmcore/types.js';
import type { VmcoreInfo } from './vmcoreinfo.js';
import { onlyDumpData } from '../util/errors.js';

const PAGE = 4096n;
const PAGE_N = 4096;
/** Largest single virtual read; beyond this the caller is asking for something absurd. */
export const MAX_VIRTUAL_READ = 256 * 1024 * 1024;

/** A virtual address that cannot be read: a DumpReadError, so callers handle both alike. */
export class TranslationError extends DumpReadError {
  constructor(
    message: string,
    readonly vaddr: bigint,
  ) {
    super(message);
    this.name = 'TranslationError';
  }
}

export const hex = (v: bigint) => '0x' + BigInt.asUintN(64, v).toString(16);

export interface Translation {
  paddr: bigint;
  /** How the address was translated. */
  via: 'image' | 'direct-map' | 'page-table';
  /** Size of the page holding it (4 KiB ... 1 GiB); for image/direct-map rules 4 KiB. */
  pageSize: bigint;
}

/**
 * Page-table walks by page, failures included: an analysis translates the same stack and
 * per-CPU pages many times, and an unmapped page fails the same way each time. Cleared whole
 * when full (bounded memory, no LRU bookkeeping on this hot path).
 */
export class TranslationCache {
  private readonly map = new Map<bigint, { base: bigint; pageSize: bigint } | TranslationError>();
  constructor(private readonly entries: number) {}

  /** The walk of `vaddr` (in the page starting at `page`), from the cache or `walkUncached`. */
  walk(vaddr: bigint, page: bigint, walkUncached: (vaddr: bigint) => Translation): Translation {
    const cached = this.map.get(page);
    if (cached !== undefined) {
      if (cached instanceof TranslationError) throw cached;
      return { paddr: cached.base + (vaddr - page), via: 'page-table', pageSize: cached.pageSize };
    }
    try {
      const t = walkUncached(vaddr);
      this.put(page, { base: t.paddr - (vaddr - page), pageSize: t.pageSize });
      return t;
    } catch (e) {
      if (e instanceof TranslationError) this.put(page, e);
      throw e;
    }
  }

  private put(page: bigint, v: { base: bigint; pageSize: bigint } | TranslationError): void {
    if (this.map.size >= this.entries) this.map.clear();
    this.map.set(page, v);
  }
}

export interface KernelMemoryOptions {
  /** Override page table root (physical address of the top level table). */
  pgdPhys?: bigint;
  /** Bounded translation cache size (entries of 4 KiB virtual pages). */
  cacheEntries?: number;
}

export abstract class KernelAddressSpace {
  /** Page-table levels of the kernel's address space. */
  abstract readonly levels: number;
  /** Linear-map base, once known (x86: page_offset_base; arm64: PAGE_OFFSET). */
  abstract readonly directMapBase: bigint | undefined;
  /** Number of page-table walks performed (for tests and the bench). */
  walks = 0;

  constructor(readonly dump: DumpFile, readonly vmcoreinfo: VmcoreInfo) {}

  /** The kernel image mapping (text, data, bss), physically contiguous. */
  abstract isImageAddress(vaddr: bigint): boolean;
  protected abstract imageToPhys(vaddr: bigint): bigint;
  /** Which part of the kernel's address space an address falls in, for error messages. */
  abstract regionOf(vaddr: bigint): string;
  abstract translateDetailed(vaddr: bigint): Translation;

  /** Translate a kernel virtual address to a physical one; throws TranslationError. */
  translate(vaddr: bigint): bigint {
    return this.translateDetailed(vaddr).paddr;
  }

  /** Physical read straight from the dump. */
  readPhysical(paddr: bigint, len: number): Buffer {
    return this.dump.readPhysical(paddr, len);
  }

  /** Read kernel virtual memory; throws TranslationError or DumpReadError. Reads may cross pages. */
  readVirtual(vaddr: bigint, len: number): Buffer {
    if (!Number.isInteger(len) || len < 0 || len > MAX_VIRTUAL_READ) {
      throw new TranslationError(`refusing to read ${len} bytes at ${hex(vaddr)}`, vaddr);
    }
    vaddr = BigInt.asUintN(64, vaddr);
    if (len === 0) return Buffer.alloc(0);
    // Fast path: image and direct map are physically contiguous.
    if (this.isImageAddress(vaddr) && this.isImageAddress(vaddr + BigInt(len - 1))) {
      return this.readPhysicalChecked(this.imageToPhys(vaddr), len, vaddr);
    }
    const out = Buffer.alloc(len);
    let done = 0;
    // Coalesce physically contiguous pages into one physical read.
    let runP = -1n;
    let runStart = 0;
    let runLen = 0;
    const flush = () => {
      if (runLen > 0) this.readPhysicalChecked(runP, runLen, vaddr + BigInt(runStart)).copy(out, runStart);
      runLen = 0;
    };
    while (done < len) {
      const a = vaddr + BigInt(done);
      const off = Number(a & (PAGE - 1n));
      const n = Math.min(PAGE_N - off, len - done);
      const p = this.translate(a);
      if (runLen > 0 && runP + BigInt(runLen) === p) runLen += n;
      else {
        flush();
        runP = p;
        runStart = done;
        runLen = n;
      }
      done += n;
    }
    flush();
    return out;
  }

  private readPhysicalChecked(paddr: bigint, len: number, vaddr: bigint): Buffer {
    const b = this.dump.readPhysical(paddr, len);
    if (b.length !== len) {
      throw new DumpReadError(`short read at ${hex(vaddr)} (physical ${hex(paddr)}): ${b.length} of ${len} bytes`, paddr);
    }
    return b;
  }

  /** UnwindMemory compatibility. */
  read(vaddr: bigint, len: number): Buffer {
    return this.readVirtual(vaddr, len);
  }

  readU8(vaddr: bigint): number {
    return this.readVirtual(vaddr, 1)[0];
  }
  readU16(vaddr: bigint): number {
    return this.readVirtual(vaddr, 2).readUInt16LE(0);
  }
  readU32(vaddr: bigint): number {
    return this.readVirtual(vaddr, 4).readUInt32LE(0);
  }
  readI32(vaddr: bigint): number {
    return this.readVirtual(vaddr, 4).readInt32LE(0);
  }
  readU64(vaddr: bigint): bigint {
    return this.readVirtual(vaddr, 8).readBigUInt64LE(0);
  }
  readI64(vaddr: bigint): bigint {
    return this.readVirtual(vaddr, 8).readBigInt64LE(0);
  }
  readPointer(vaddr: bigint): bigint {
    return this.readU64(vaddr);
  }

  /** A NUL-terminated string of at most `max` bytes (latin1 → utf8 best effort). */
  readCString(vaddr: bigint, max = 256): string {
    const chunks: Buffer[] = [];
    let got = 0;
    let a = BigInt.asUintN(64, vaddr);
    while (got < max) {
      const n = Math.min(max - got, PAGE_N - Number(a & (PAGE - 1n)));
      const b = this.readVirtual(a, n);
      const z = b.indexOf(0);
      if (z >= 0) {
        chunks.push(b.subarray(0, z));
        break;
      }
      chunks.push(b);
      got += n;
      a += BigInt(n);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Like readVirtual but returns undefined instead of throwing. */
  tryRead(vaddr: bigint, len: number): Buffer | undefined {
    try {
      return this.readVirtual(vaddr, len);
    } catch (e) {
      onlyDumpData(e);
      return undefined;
    }
  }

  tryU64(vaddr: bigint): bigint | undefined {
    const b = this.tryRead(vaddr, 8);
    return b?.readBigUInt64LE(0);
  }

  isReadable(vaddr: bigint, len = 1): boolean {
    return this.tryRead(vaddr, len) !== undefined;
  }
}

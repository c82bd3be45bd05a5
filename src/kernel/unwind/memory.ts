// A page cache in front of the kernel's virtual memory reader: the unwinder reads words one at a
// time (stack slots, ORC entries), so each distinct 4 KiB page is fetched once, and an
// unreadable page is remembered as such.

import { onlyDumpData } from '../../util/errors.js';
import { DumpReadError } from '../../vmcore/types.js';
import type { UnwindMemory } from './types.js';

const PAGE = 4096n;
const PAGE_N = 4096;

/** A DumpReadError: callers that fall back on a hole in the dump handle both alike. */
export class UnreadableMemoryError extends DumpReadError {
  constructor(readonly vaddr: bigint, cause?: unknown) {
    super(`cannot read kernel memory at 0x${vaddr.toString(16)}${cause instanceof Error ? `: ${cause.message}` : ''}`);
    this.name = 'UnreadableMemoryError';
  }
}

export class PagedMemory implements UnwindMemory {
  /** null: the page is not in the dump; the error says why. */
  private readonly pages = new Map<bigint, Buffer | null>();
  private readonly why = new Map<bigint, Error>();
  /** Distinct pages requested from the underlying reader. */
  pagesRead = 0;

  constructor(private readonly inner: UnwindMemory, private readonly maxPages = 4096) {}

  private page(base: bigint): Buffer {
    let p = this.pages.get(base);
    if (p === undefined) {
      this.pagesRead++;
      try {
        p = this.inner.read(base, PAGE_N);
        if (p.length !== PAGE_N) p = null;
      } catch (e) {
        // Only a hole in the dump is remembered as one; anything else is a bug and goes up.
        onlyDumpData(e);
        p = null;
        this.why.set(base, e);
      }
      if (this.pages.size >= this.maxPages) {
        this.pages.clear();
        this.why.clear();
      }
      this.pages.set(base, p);
    }
    if (p === null) throw new UnreadableMemoryError(base, this.why.get(base));
    return p;
  }

  read(vaddr: bigint, len: number): Buffer {
    vaddr = BigInt.asUintN(64, vaddr);
    const base = vaddr & ~(PAGE - 1n);
    const off = Number(vaddr - base);
    if (off + len <= PAGE_N) {
      try {
        return this.page(base).subarray(off, off + len);
      } catch (e) {
        if (e instanceof UnreadableMemoryError) throw new UnreadableMemoryError(vaddr);
        throw e;
      }
    }
    const out = Buffer.alloc(len);
    let done = 0;
    while (done < len) {
      const a = vaddr + BigInt(done);
      const b = a & ~(PAGE - 1n);
      const o = Number(a - b);
      const n = Math.min(PAGE_N - o, len - done);
      let p: Buffer;
      try {
        p = this.page(b);
      } catch (e) {
        if (e instanceof UnreadableMemoryError) throw new UnreadableMemoryError(a);
        throw e;
      }
      p.copy(out, done, o, o + n);
      done += n;
    }
    return out;
  }

  readU64(vaddr: bigint): bigint {
    return this.read(vaddr, 8).readBigUInt64LE(0);
  }

  tryU64(vaddr: bigint): bigint | undefined {
    try {
      return this.readU64(vaddr);
    } catch (e) {
      onlyDumpData(e);
      return undefined;
    }
  }
}

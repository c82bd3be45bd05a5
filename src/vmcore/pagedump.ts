// The part of DumpFile every format shares: readPhysical() over page-sized units, a bounded LRU
// page cache, and pagesTouched. A format supplies loadPage() (the bytes of one page, with the
// ranges of it the dump really holds) and pageState().
import { DumpReadError, type DumpCompleteness, type DumpFile, type DumpFormatInfo, type DumpNote, type PageState, type PrStatus } from './types.js';
import { Lru } from './lru.js';

/** Pages kept decompressed in memory (4 MiB with 4 KiB pages). */
const PAGE_CACHE_PAGES = 1024;
/** Largest single readPhysical() (a guard against absurd lengths from corrupt kernel data). */
const MAX_READ = 256 * 1024 * 1024;
const U64_LIMIT = 1n << 64n;

export interface LoadedPage {
  data: Buffer;
  /** Byte ranges [start, end) of the page the dump holds; null = all of it. */
  ranges: [number, number][] | null;
  /** Why bytes outside `ranges` are missing (for the error message). */
  missing?: string;
}

export abstract class PageDump implements DumpFile {
  abstract readonly info: DumpFormatInfo;
  abstract readonly notes: DumpNote[];
  abstract readonly prstatus: PrStatus[];
  abstract readonly vmcoreinfo: string | null;
  abstract readonly virtualSegments: { vaddr: bigint; paddr: bigint; size: bigint }[];
  readonly pagesTouched = new Set<bigint>();
  /** Filled by loadPage() when a page's data lies past the end of the file. */
  readonly pagesPastEnd = new Set<bigint>();
  private completenessCache: DumpCompleteness | undefined;
  private readonly cache = new Lru<bigint, LoadedPage>(PAGE_CACHE_PAGES);
  /** Pages read from the file (cache misses), for measurements. */
  pageLoads = 0;

  protected constructor(readonly pageSize: number) {}

  protected abstract loadPage(pfn: bigint): LoadedPage;
  protected abstract computeCompleteness(): DumpCompleteness;

  completeness(): DumpCompleteness {
    this.completenessCache ??= this.computeCompleteness();
    return this.completenessCache;
  }

  /** The flattened stream's own truncation (a missing end marker), as a reason, or null. */
  protected flattenedTruncation(): string | null {
    return this.info.details.flattened === true && this.info.details.truncated === true ? 'the flattened stream stops before its end marker' : null;
  }
  abstract pageState(paddr: bigint): PageState;
  abstract close(): void;

  protected page(pfn: bigint): LoadedPage {
    let p = this.cache.get(pfn);
    if (!p) {
      p = this.loadPage(pfn);
      this.pageLoads++;
      this.cache.set(pfn, p);
    }
    return p;
  }

  readPhysical(paddr: bigint, length: number): Buffer {
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_READ) {
      throw new DumpReadError(`bad read length ${length} at physical 0x${paddr.toString(16)}`, paddr);
    }
    if (paddr < 0n || paddr + BigInt(length) > U64_LIMIT) {
      throw new DumpReadError(`physical address 0x${paddr.toString(16)} out of range`, paddr);
    }
    const out = Buffer.allocUnsafe(length);
    const ps = BigInt(this.pageSize);
    let done = 0;
    while (done < length) {
      const a = paddr + BigInt(done);
      const pfn = a / ps;
      const off = Number(a % ps);
      const n = Math.min(this.pageSize - off, length - done);
      if (this.pageSize === 4096) this.pagesTouched.add(pfn);
      else {
        // In 4 KiB frames whatever the format's unit (QEMU's arm64 kdump files use 64 KiB
        // blocks): trim writes the 4 KiB pages an analysis read, not whole blocks.
        for (let f = a >> 12n, last = (a + BigInt(n) - 1n) >> 12n; f <= last; f++) this.pagesTouched.add(f);
      }
      const p = this.page(pfn);
      if (p.ranges && !p.ranges.some(([s, e]) => s <= off && off + n <= e)) {
        // Find the first missing byte for the message.
        let bad = off;
        while (bad < off + n && p.ranges.some(([s, e]) => s <= bad && bad < e)) bad++;
        const at = pfn * ps + BigInt(bad);
        const state = this.pageState(at);
        throw new DumpReadError(`physical address 0x${at.toString(16)} is not in the dump (${p.missing ?? state})`, at, state);
      }
      p.data.copy(out, done, off, off + n);
      done += n;
    }
    return out;
  }
}

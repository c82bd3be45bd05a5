// x86_64 kernel virtual memory over a dump's physical memory.
//
// Translation rules (arch/x86/include/asm/page_64.h __phys_addr, pgtable_64_types.h):
//  - kernel image [__START_KERNEL_map, +KERNEL_IMAGE_SIZE): paddr = vaddr - __START_KERNEL_map + phys_base
//  - direct map [page_offset_base, end): paddr = vaddr - page_offset_base, once page_offset_base is
//    known (CONFIG_RANDOMIZE_MEMORY makes it a variable, not in VMCOREINFO). `end` is the next
//    randomized region above it (vmalloc_base, vmemmap_base) when those are known, else the
//    unrandomized span (64 TiB 4-level, 4 PiB 5-level). With 4-level paging KASLR puts vmalloc
//    anywhere from a few TiB above the direct map, so a fixed span would read vmalloc'd stacks
//    at bogus physical addresses (arch/x86/mm/kaslr.c kernel_randomize_memory()).
//  - anything else (vmalloc, vmemmap, modules, fixmap, cpu_entry_area, per-CPU areas in vmalloc):
//    walk the page tables from init_top_pgt (PML5 with pgtable_l5_enabled, else PML4), honouring
//    1 GiB (PUD PS) and 2 MiB (PMD PS) leaves. Entry address bits 12..51; sme_mask cleared.

import type { DumpFile } from '../../../vmcore/types.js';
import type { VmcoreInfo } from '../../vmcoreinfo.js';
import { onlyDumpData } from '../../../util/errors.js';
import { hex, KernelAddressSpace, TranslationCache, TranslationError, type KernelMemoryOptions, type Translation } from '../../address-space.js';

export const START_KERNEL_MAP = 0xffffffff80000000n;
const DEFAULT_KERNEL_IMAGE_SIZE = 1n << 30n;
const PTE_PRESENT = 1n;
const PTE_PSE = 1n << 7n;
const PTE_ADDR_MASK = 0x000ffffffffff000n;
const PAGE = 4096n;
export class X86_64Memory extends KernelAddressSpace {
  readonly physBase: bigint;
  readonly levels: 4 | 5;
  readonly imageSize: bigint;
  readonly smeMask: bigint;
  /** Physical address of init_top_pgt, or undefined when VMCOREINFO has no SYMBOL(init_top_pgt). */
  readonly pgdPhys?: bigint;
  private pageOffsetBase?: bigint;
  private directMapEnd?: bigint;
  /** Region bases read from the kernel (vmalloc_base, vmemmap_base), for bounds and messages. */
  private readonly regionBases = new Map<string, bigint>();
  private readonly tcache: TranslationCache;

  constructor(dump: DumpFile, vmcoreinfo: VmcoreInfo, opts: KernelMemoryOptions = {}) {
    super(dump, vmcoreinfo);
    this.physBase = vmcoreinfo.physBase ?? 0n;
    this.levels = vmcoreinfo.pgtableL5 ? 5 : 4;
    const ksize = vmcoreinfo.numbers.get('KERNEL_IMAGE_SIZE');
    this.imageSize = ksize !== undefined && ksize > 0n && ksize <= 1n << 31n ? ksize : DEFAULT_KERNEL_IMAGE_SIZE;
    this.smeMask = BigInt.asUintN(64, vmcoreinfo.numbers.get('sme_mask') ?? 0n);
    this.tcache = new TranslationCache(opts.cacheEntries ?? 65536);
    if (opts.pgdPhys !== undefined) this.pgdPhys = opts.pgdPhys;
    else {
      // init_top_pgt since 4.13; init_level4_pgt before (same table); swapper_pg_dir as a last resort.
      const top = vmcoreinfo.symbols.get('init_top_pgt') ?? vmcoreinfo.symbols.get('init_level4_pgt') ?? vmcoreinfo.symbols.get('swapper_pg_dir');
      if (top !== undefined && this.isImageAddress(top)) this.pgdPhys = this.imageToPhys(top);
    }
  }

  isImageAddress(vaddr: bigint): boolean {
    return vaddr >= START_KERNEL_MAP && vaddr < START_KERNEL_MAP + this.imageSize;
  }

  protected imageToPhys(vaddr: bigint): bigint {
    return BigInt.asUintN(64, vaddr - START_KERNEL_MAP + this.physBase);
  }

  /** Direct-map base (page_offset_base), once known. */
  get directMapBase(): bigint | undefined {
    return this.pageOffsetBase;
  }

  /** Enable the direct-map shortcut. The value is sanity-checked (canonical, 1 GiB aligned). */
  setPageOffsetBase(base: bigint): void {
    base = BigInt.asUintN(64, base);
    if (base < 0xff00000000000000n || (base & ((1n << 30n) - 1n)) !== 0n) {
      throw new TranslationError(`implausible page_offset_base ${hex(base)}`, base);
    }
    this.pageOffsetBase = base;
    this.directMapEnd = undefined;
  }

  private directMapSpan(): bigint {
    return this.levels === 5 ? 1n << 52n : 1n << 46n;
  }

  /**
   * Record where another randomized region begins (vmalloc_base, vmemmap_base): the direct map
   * ends at the nearest one above it. Implausible values are ignored.
   */
  setRegionBase(name: 'vmalloc' | 'vmemmap', base: bigint): void {
    base = BigInt.asUintN(64, base);
    if (base < 0xff00000000000000n || base >= START_KERNEL_MAP) return;
    this.regionBases.set(name, base);
    this.directMapEnd = undefined;
  }

  private directMapLimit(pob: bigint): bigint {
    if (this.directMapEnd !== undefined) return this.directMapEnd;
    let end = pob + this.directMapSpan();
    for (const b of this.regionBases.values()) if (b > pob && b < end) end = b;
    this.directMapEnd = end;
    return end;
  }

  /** Which part of the kernel's address space an address falls in, for error messages. */
  regionOf(vaddr: bigint): string {
    vaddr = BigInt.asUintN(64, vaddr);
    if (this.isImageAddress(vaddr)) return 'kernel image';
    const pob = this.pageOffsetBase;
    if (pob !== undefined && vaddr >= pob && vaddr < this.directMapLimit(pob)) return 'direct map';
    const topBit = this.levels === 5 ? 56n : 47n;
    if (vaddr < 1n << topBit) return 'user space';
    if (vaddr < ~((1n << topBit) - 1n) + (1n << 64n)) return 'non-canonical';
    if (vaddr >= START_KERNEL_MAP + this.imageSize && vaddr < 0xffffffffff000000n) return 'modules';
    if (vaddr >= 0xffffffffff000000n) return 'fixmap';
    // Above the direct map, the randomized regions in kernel order.
    let best: [string, bigint] | undefined;
    for (const [name, b] of this.regionBases) if (vaddr >= b && (!best || b > best[1])) best = [name, b];
    if (best && (pob === undefined || best[1] > pob || vaddr < pob)) return best[0];
    if (vaddr >= 0xfffffe0000000000n && vaddr < 0xfffffe8000000000n) return 'cpu_entry_area';
    return 'kernel space';
  }

  translateDetailed(vaddr: bigint): Translation {
    vaddr = BigInt.asUintN(64, vaddr);
    if (this.isImageAddress(vaddr)) return { paddr: this.imageToPhys(vaddr), via: 'image', pageSize: PAGE };
    const pob = this.pageOffsetBase;
    if (pob !== undefined && vaddr >= pob && vaddr < this.directMapLimit(pob)) {
      return { paddr: vaddr - pob, via: 'direct-map', pageSize: PAGE };
    }
    return this.walk(vaddr);
  }

  /** Page-table walk only (no image or direct-map shortcut). */
  walk(vaddr: bigint): Translation {
    vaddr = BigInt.asUintN(64, vaddr);
    const page = vaddr & ~(PAGE - 1n);
    return this.tcache.walk(vaddr, page, (v) => this.walkUncached(v));
  }

  private walkUncached(vaddr: bigint): Translation {
    if (this.pgdPhys === undefined) {
      throw new TranslationError(`cannot translate ${hex(vaddr)} (${this.regionOf(vaddr)}): VMCOREINFO has no SYMBOL(init_top_pgt)`, vaddr);
    }
    // Canonical check: bits above the top translated bit must all equal it.
    const topBit = this.levels === 5 ? 56n : 47n;
    const high = vaddr >> topBit;
    const allOnes = (1n << (64n - topBit)) - 1n;
    if (high !== 0n && high !== allOnes) throw new TranslationError(`${hex(vaddr)} is not a canonical address`, vaddr);
    this.walks++;
    let table = this.pgdPhys;
    const seen = new Set<bigint>();
    const names = ['PTE', 'PMD', 'PUD', 'P4D', 'PGD'];
    for (let level: number = this.levels; level >= 1; level--) {
      if (seen.has(table)) {
        throw new TranslationError(`page table loop translating ${hex(vaddr)}: table ${hex(table)} reached twice`, vaddr);
      }
      seen.add(table);
      const shift = 12n + 9n * BigInt(level - 1);
      const index = (vaddr >> shift) & 0x1ffn;
      const name = level === this.levels && level >= 4 ? 'PGD' : names[level - 1];
      let entry: bigint;
      try {
        entry = this.dump.readPhysical(table + index * 8n, 8).readBigUInt64LE(0);
      } catch (e) {
        onlyDumpData(e);
        const why = e.message;
        throw new TranslationError(`cannot translate ${hex(vaddr)} (${this.regionOf(vaddr)}): ${name} table at ${hex(table)} unreadable (${why})`, vaddr);
      }
      entry &= ~this.smeMask;
      if ((entry & PTE_PRESENT) === 0n) {
        throw new TranslationError(`${hex(vaddr)} (${this.regionOf(vaddr)}) is not mapped (${name} entry ${hex(entry)} not present)`, vaddr);
      }
      const next = entry & PTE_ADDR_MASK;
      if ((level === 3 || level === 2) && (entry & PTE_PSE) !== 0n) {
        const size = 1n << shift;
        const base = next & ~(size - 1n);
        return { paddr: base + (vaddr & (size - 1n)), via: 'page-table', pageSize: size };
      }
      if (level === 1) return { paddr: next + (vaddr & (PAGE - 1n)), via: 'page-table', pageSize: PAGE };
      table = next;
    }
    /* c8 ignore next */
    throw new TranslationError(`cannot translate ${hex(vaddr)}`, vaddr);
  }
}

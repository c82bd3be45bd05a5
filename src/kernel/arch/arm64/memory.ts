// arm64 kernel virtual memory, from VMCOREINFO alone (arch/arm64/kernel/crash_core.c
// arch_crash_save_vmcoreinfo() writes VA_BITS, kimage_voffset, PHYS_OFFSET, TCR_EL1_T1SZ and
// KERNELPACMASK; kernel/crash_core.c SYMBOL(swapper_pg_dir)).
//
// Translation rules (arch/arm64/include/asm/memory.h):
//  - linear map [PAGE_OFFSET, PAGE_END): __lm_to_phys(x) = (x & ~PAGE_OFFSET) + PHYS_OFFSET, with
//    PAGE_OFFSET = _PAGE_OFFSET(VA_BITS) = -(1 << VA_BITS) and PAGE_END = _PAGE_END(VA_BITS_MIN) =
//    -(1 << (VA_BITS_MIN - 1)) (the bottom half of the kernel's VA space, since 5.4's "flip");
//  - kernel image: __kimg_to_phys(x) = x - kimage_voffset, for [_text, _end); before kallsyms is
//    read the end is bounded by the highest image symbol VMCOREINFO names;
//  - anything else (vmalloc'd stacks, modules, per-CPU areas, vmemmap, fixmap): walk swapper_pg_dir
//    (its physical address by the image rule). Granule from PAGESIZE (4, 16 or 64 KiB), levels
//    from the translated VA size (64 - TCR_EL1_T1SZ, else VA_BITS), as
//    arch/arm64/include/asm/pgtable-hwdef.h ARM64_HW_PGTABLE_LEVELS() counts them: 4K/48 and
//    64K/52 use 4 and 3 levels; 4K/39 three. Descriptors: bit 0 valid, bit 1 table (levels above
//    the last) or page (last level); a valid entry with bit 1 clear above the last level is a
//    block (4K: 1 GiB, 2 MiB; 16K: 32 MiB; 64K: 512 MiB). Output address bits [47:granule]; with
//    52-bit physical addresses and the 64K granule, PA[51:48] sit in descriptor bits [15:12]
//    (CONFIG_ARM64_PA_BITS_52, pgtable.h __pte_to_phys).

import type { DumpFile } from '../../../vmcore/types.js';
import type { VmcoreInfo } from '../../vmcoreinfo.js';
import { onlyDumpData } from '../../../util/errors.js';
import { hex, KernelAddressSpace, TranslationCache, TranslationError, type KernelMemoryOptions, type Translation } from '../../address-space.js';

export interface Arm64Layout {
  vaBits: number;
  /** Bits TTBR1 translates: 64 - TCR_EL1.T1SZ (smaller than VA_BITS for a 52-bit kernel on 48-bit hardware). */
  translatedBits: number;
  pageShift: number;
  levels: number;
  pageOffset: bigint;
  pageEnd: bigint;
  physOffset: bigint;
  kimageVoffset: bigint;
  physBits: number;
}

const mask = (bits: number) => (1n << BigInt(bits)) - 1n;

/** The layout VMCOREINFO describes; throws TranslationError naming a missing key. */
export function arm64Layout(vi: VmcoreInfo): Arm64Layout {
  const need = (key: string) => {
    const v = vi.numbers.get(key);
    if (v === undefined) throw new TranslationError(`VMCOREINFO has no NUMBER(${key}): cannot lay out arm64 kernel memory`, 0n);
    return BigInt.asUintN(64, v);
  };
  const vaBits = Number(need('VA_BITS'));
  if (![36, 39, 42, 47, 48, 52].includes(vaBits)) throw new TranslationError(`VMCOREINFO NUMBER(VA_BITS)=${vaBits} is not an arm64 configuration`, 0n);
  const t1sz = vi.numbers.get('TCR_EL1_T1SZ');
  const translatedBits = t1sz !== undefined && t1sz > 0n && t1sz < 64n ? 64 - Number(t1sz) : vaBits;
  const pageShift = Math.log2(vi.pageSize);
  if (![12, 14, 16].includes(pageShift)) throw new TranslationError(`PAGESIZE ${vi.pageSize} is not an arm64 granule (4, 16 or 64 KiB)`, 0n);
  const stride = pageShift - 3;
  const levels = Math.ceil((translatedBits - pageShift) / stride);
  const vaBitsMin = vaBits > 48 ? 48 : vaBits;
  const physBits = Number(vi.numbers.get('MAX_PHYSMEM_BITS') ?? 48n);
  return {
    vaBits,
    translatedBits,
    pageShift,
    levels,
    pageOffset: BigInt.asUintN(64, -(1n << BigInt(vaBits))),
    pageEnd: BigInt.asUintN(64, -(1n << BigInt(vaBitsMin - 1))),
    physOffset: need('PHYS_OFFSET'),
    kimageVoffset: need('kimage_voffset'),
    physBits,
  };
}

export class Arm64Memory extends KernelAddressSpace {
  readonly layout: Arm64Layout;
  readonly levels: number;
  /** Physical address of swapper_pg_dir. */
  readonly pgdPhys?: bigint;
  private imageStart: bigint;
  private imageEnd: bigint;
  private readonly tcache: TranslationCache;

  constructor(dump: DumpFile, vmcoreinfo: VmcoreInfo, opts: KernelMemoryOptions = {}) {
    super(dump, vmcoreinfo);
    this.layout = arm64Layout(vmcoreinfo);
    this.levels = this.layout.levels;
    this.tcache = new TranslationCache(opts.cacheEntries ?? 65536);
    // The image's symbols VMCOREINFO names bound it until _end is known: all lie above the
    // linear map's end (the image is mapped in the vmalloc area).
    const image = [...vmcoreinfo.symbols.values()].map((v) => BigInt.asUintN(64, v)).filter((v) => v >= this.layout.pageEnd);
    const stext = vmcoreinfo.symbols.get('_stext');
    this.imageStart = stext ?? (image.length ? image.reduce((a, b) => (b < a ? b : a)) : 0n);
    this.imageEnd = image.length ? image.reduce((a, b) => (b > a ? b : a)) + BigInt(vmcoreinfo.pageSize) : this.imageStart;
    if (opts.pgdPhys !== undefined) this.pgdPhys = opts.pgdPhys;
    else {
      const pgd = vmcoreinfo.symbols.get('swapper_pg_dir');
      if (pgd !== undefined) this.pgdPhys = BigInt.asUintN(64, pgd - this.layout.kimageVoffset);
    }
  }

  get directMapBase(): bigint {
    return this.layout.pageOffset;
  }

  /** Once kallsyms is read: the image is exactly [_text, _end). */
  setImageBounds(start: bigint, end: bigint): void {
    if (start >= this.layout.pageEnd && end > start && end - start < 1n << 32n) {
      this.imageStart = start;
      this.imageEnd = end;
    }
  }

  isImageAddress(vaddr: bigint): boolean {
    return vaddr >= this.imageStart && vaddr < this.imageEnd;
  }

  protected imageToPhys(vaddr: bigint): bigint {
    return BigInt.asUintN(64, vaddr - this.layout.kimageVoffset);
  }

  private isLinear(vaddr: bigint): boolean {
    return vaddr >= this.layout.pageOffset && vaddr < this.layout.pageEnd;
  }

  regionOf(vaddr: bigint): string {
    vaddr = BigInt.asUintN(64, vaddr);
    if (this.isImageAddress(vaddr)) return 'kernel image';
    if (this.isLinear(vaddr)) return 'linear map';
    if (vaddr < 1n << 63n) return 'user space';
    if (vaddr < this.layout.pageOffset) return 'non-canonical';
    const n = (k: string) => this.vmcoreinfo.numbers.get(k);
    const inRange = (a?: bigint, b?: bigint) => a !== undefined && b !== undefined && vaddr >= BigInt.asUintN(64, a) && vaddr < BigInt.asUintN(64, b);
    if (inRange(n('MODULES_VADDR'), n('MODULES_END'))) return 'modules';
    if (inRange(n('VMALLOC_START'), n('VMALLOC_END'))) return 'vmalloc';
    if (inRange(n('VMEMMAP_START'), n('VMEMMAP_END'))) return 'vmemmap';
    return 'kernel space';
  }

  translateDetailed(vaddr: bigint): Translation {
    vaddr = BigInt.asUintN(64, vaddr);
    const page = BigInt(this.vmcoreinfo.pageSize);
    if (this.isImageAddress(vaddr)) return { paddr: this.imageToPhys(vaddr), via: 'image', pageSize: page };
    if (this.isLinear(vaddr)) return { paddr: (vaddr - this.layout.pageOffset) + this.layout.physOffset, via: 'direct-map', pageSize: page };
    return this.walk(vaddr);
  }

  /** Page-table walk only (no image or linear-map shortcut). */
  walk(vaddr: bigint): Translation {
    vaddr = BigInt.asUintN(64, vaddr);
    const page = vaddr & ~mask(this.layout.pageShift);
    return this.tcache.walk(vaddr, page, (v) => this.walkUncached(v));
  }

  private outputAddress(desc: bigint, shift: number): bigint {
    let oa = desc & mask(48) & ~mask(shift);
    if (this.layout.physBits > 48 && this.layout.pageShift === 16) oa |= ((desc >> 12n) & 0xfn) << 48n;
    return oa;
  }

  private walkUncached(vaddr: bigint): Translation {
    const L = this.layout;
    if (this.pgdPhys === undefined) {
      throw new TranslationError(`cannot translate ${hex(vaddr)} (${this.regionOf(vaddr)}): VMCOREINFO has no SYMBOL(swapper_pg_dir)`, vaddr);
    }
    // TTBR1 translates addresses whose bits [63:translatedBits] are all ones.
    if (vaddr >> BigInt(L.translatedBits) !== mask(64 - L.translatedBits)) {
      throw new TranslationError(`${hex(vaddr)} (${this.regionOf(vaddr)}) is outside the ${L.translatedBits}-bit kernel address space`, vaddr);
    }
    this.walks++;
    const stride = L.pageShift - 3;
    let table = this.pgdPhys;
    for (let level = 0; level < L.levels; level++) {
      const shift = L.pageShift + stride * (L.levels - 1 - level);
      const bits = level === 0 ? L.translatedBits - shift : stride;
      const index = (vaddr >> BigInt(shift)) & mask(bits);
      const last = level === L.levels - 1;
      const name = `level ${level + 4 - L.levels}`;
      let desc: bigint;
      try {
        desc = this.dump.readPhysical(table + index * 8n, 8).readBigUInt64LE(0);
      } catch (e) {
        onlyDumpData(e);
        throw new TranslationError(`cannot translate ${hex(vaddr)} (${this.regionOf(vaddr)}): ${name} table at ${hex(table)} unreadable (${e.message})`, vaddr);
      }
      if ((desc & 1n) === 0n) {
        throw new TranslationError(`${hex(vaddr)} (${this.regionOf(vaddr)}) is not mapped (${name} descriptor ${hex(desc)} invalid)`, vaddr);
      }
      const isTableOrPage = (desc & 2n) !== 0n;
      if (last) {
        if (!isTableOrPage) throw new TranslationError(`${hex(vaddr)}: reserved ${name} descriptor ${hex(desc)}`, vaddr);
        const oa = this.outputAddress(desc, L.pageShift);
        return { paddr: oa + (vaddr & mask(L.pageShift)), via: 'page-table', pageSize: 1n << BigInt(L.pageShift) };
      }
      if (!isTableOrPage) {
        const oa = this.outputAddress(desc, shift);
        return { paddr: oa + (vaddr & mask(shift)), via: 'page-table', pageSize: 1n << BigInt(shift) };
      }
      table = this.outputAddress(desc, L.pageShift);
    }
    /* c8 ignore next */
    throw new TranslationError(`cannot translate ${hex(vaddr)}`, vaddr);
  }
}

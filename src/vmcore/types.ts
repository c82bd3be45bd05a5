// The interface every dump format implements: physical memory plus the notes. Layers above
// (src/kernel) see nothing else of the file format.
import type { DumpArch } from './arch-detect.js';

export interface PrStatus {
  /** Index of the NT_PRSTATUS note in file order; with kdump this is the CPU number. */
  index: number;
  pid: number;
  /** pr_reg by the ABI's names (notes.ts PRSTATUS_REGISTERS: x86_64 r15 ... gs, aarch64 x0 ... pstate). */
  regs: Record<string, bigint>;
}

export interface DumpNote {
  name: string;
  type: number;
  desc: Buffer;
}

export type PageState = 'present' | 'excluded' | 'absent';

export interface DumpFormatInfo {
  /** 'elf' | 'kdump-compressed' | 'qemu-kdump' ... */
  format: string;
  /** Compression(s) seen or declared ('none', 'zlib', 'lzo', 'snappy', 'zstd'). */
  compression: string[];
  fileSize: number;
  /** Free-form details: header version, program header count, dump level... */
  details: Record<string, string | number | boolean>;
}

export interface DumpFile {
  readonly info: DumpFormatInfo;
  /**
   * The architecture the dump was taken on (ELF e_machine, else VMCOREINFO and the notes:
   * arch-detect.ts). Absent means x86_64: DumpFile implementations written before arm64.
   */
  readonly arch?: DumpArch;
  readonly notes: DumpNote[];
  readonly prstatus: PrStatus[];
  /** VMCOREINFO text, from the ELF note or the kdump sub-header; null when absent. */
  readonly vmcoreinfo: string | null;
  /**
   * ELF dumps written by kdump carry kernel virtual addresses in PT_LOAD; QEMU's paging:false
   * ones do not. Exposed so the kernel layer can use them as a shortcut, never required.
   */
  readonly virtualSegments: { vaddr: bigint; paddr: bigint; size: bigint }[];
  /** Read physical memory. Throws DumpReadError for pages not in the dump (excluded/absent). */
  readPhysical(paddr: bigint, length: number): Buffer;
  pageState(paddr: bigint): PageState;
  /** Physical 4 KiB page frames read so far, whatever the format's block size (for `trim` and for the bench's "pages read" figure). */
  readonly pagesTouched: Set<bigint>;
  /** How much of what the headers describe the file holds (computed on the first call). */
  completeness(): DumpCompleteness;
  /**
   * Pages asked for that the headers place in the file but that lie past its end: what an
   * analysis needed and a truncated dump could not give.
   */
  readonly pagesPastEnd: ReadonlySet<bigint>;
  close(): void;
}

/**
 * A dump cut short (kdump interrupted by a full disk, a copy that stopped) still opens: its headers
 * and notes come first. What it lost is said here, before any analysis trusts an absence.
 */
export interface DumpCompleteness {
  /** False when data the headers place in the file lies past its end, or the writer marked the dump incomplete. */
  complete: boolean;
  /** Pages the headers say the file holds (kdump: dumped pages; ELF: 4 KiB pages of file-backed PT_LOAD data). */
  pages: number;
  /** Of those, pages whose data lies (at least partly) past the end of the file or was never written. */
  missingPages: number;
  fileSize: number;
  /** Smallest size that would hold everything the headers describe; null when the file ends inside the page index itself. */
  expectedSize: number | null;
  /** One line saying why the dump is incomplete; null when complete. */
  reason: string | null;
}

export class DumpReadError extends Error {
  constructor(message: string, readonly paddr?: bigint, readonly state?: PageState) {
    super(message);
    this.name = 'DumpReadError';
  }
}

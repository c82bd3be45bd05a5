// The interface every dump format implements: physical memory plus the notes. Layers above
// (src/kernel) see nothing else of the file format.

export interface PrStatus {
  /** Index of the NT_PRSTATUS note in file order; with kdump this is the CPU number. */
  index: number;
  pid: number;
  /** x86_64 user_regs_struct, by name (r15 ... gs), as BigInt. */
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
  /** Physical pages read so far (for `trim` and for the bench's "pages read" figure). */
  readonly pagesTouched: Set<bigint>;
  close(): void;
}

export class DumpReadError extends Error {
  constructor(message: string, readonly paddr?: bigint, readonly state?: PageState) {
    super(message);
    this.name = 'DumpReadError';
  }
}

// src/vmcore: open a dump file of any supported format behind the DumpFile interface.
//
//   openDump(path)          synchronous; ELF64 core, kdump-compressed, flattened kdump-compressed
//   openDumpAsync(path)     the same after prepareDecompressors() (needed only for zstd pages)
//   dumpSummary(dump)       the format facts `ktriage info` shows
//
// Errors: InputError (one line) for a file that is not a usable dump; DumpReadError from
// readPhysical() for memory the dump does not hold (excluded, absent, truncated, corrupt page).
import { InputError } from '../util/errors.js';
import { prepareDecompressors } from './decompress.js';
import { ElfDump, isElf } from './elf.js';
import { KDUMP_SIGNATURE, KdumpDump } from './kdump.js';
import { FileSource, FLAT_SIGNATURE, FlattenedSource } from './source.js';
import type { DumpCompleteness, DumpFile } from './types.js';

export { prepareDecompressors } from './decompress.js';
export { DumpReadError } from './types.js';
export type { DumpCompleteness, DumpFile, DumpFormatInfo, DumpNote, PageState, PrStatus } from './types.js';
export { X86_64_REGS } from './notes.js';
export { ioStats } from './source.js';

export function openDump(path: string): DumpFile {
  const file = new FileSource(path);
  try {
    const magic = Buffer.alloc(16);
    const n = file.readInto(magic, 0, 16, 0);
    if (n < 4) throw new InputError('file is too short to be a dump');
    if (isElf(magic)) return new ElfDump(file, path);
    if (magic.toString('latin1', 0, 8) === KDUMP_SIGNATURE || magic.toString('latin1', 0, 8) === 'DISKDUMP') {
      return new KdumpDump(file, path);
    }
    if (magic.toString('latin1', 0, 13) === `${FLAT_SIGNATURE}\0`) {
      const flat = new FlattenedSource(file);
      const m2 = Buffer.alloc(8);
      const extra = { flattened: true, flatRecords: flat.records, ...(flat.truncated ? { truncated: true } : {}) };
      const got = flat.readInto(m2, 0, 8, 0);
      if (got === 8 && m2.toString('latin1') === KDUMP_SIGNATURE) return new KdumpDump(flat, path, extra);
      if (got >= 4 && isElf(m2)) return new ElfDump(flat, path, extra); // makedumpfile -F -E
      throw new InputError('flattened makedumpfile stream holds neither a kdump-compressed dump nor an ELF core; convert it with: makedumpfile -R out < in');
    }
    throw new InputError('not a vmcore: no ELF, KDUMP or makedumpfile signature');
  } catch (e) {
    file.close();
    if (e instanceof InputError) throw new InputError(`${path}: ${e.message}`);
    throw e;
  }
}

/**
 * openDump(), with the zstd decoder initialised (asynchronously) when the dump may hold zstd pages.
 * Its WebAssembly start-up costs ~50 ms, a tenth of an analysis, so dumps without zstd skip it.
 */
export async function openDumpAsync(path: string): Promise<DumpFile> {
  const dump = openDump(path);
  const c = dump.info.compression;
  if (dump.info.format !== 'elf' && (c.length === 0 || c.includes('zstd'))) await prepareDecompressors();
  return dump;
}

/** What an incomplete dump lost, in a few words ("7957 of 20307 pages lie past the end of the file (...)"). */
export function missingText(c: DumpCompleteness): string {
  if (c.missingPages === 0) return c.reason ?? 'complete';
  if (c.expectedSize === null) return `the file (${c.fileSize} bytes) ends inside the page index: ${c.missingPages} of ${c.pages} pages are missing`;
  return `${c.missingPages} of ${c.pages} pages lie past the end of the file (${c.fileSize} of ${c.expectedSize} bytes)`;
}

/** The format facts for `ktriage info`, flat and JSON-friendly. */
export function dumpSummary(dump: DumpFile): Record<string, string | number | boolean> {
  return {
    format: dump.info.format,
    compression: dump.info.compression.join(',') || 'none',
    fileSize: dump.info.fileSize,
    cpusInNotes: dump.prstatus.length,
    vmcoreinfo: dump.vmcoreinfo !== null,
    ...dump.info.details,
  };
}

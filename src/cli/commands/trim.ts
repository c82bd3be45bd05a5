// `ktriage trim <dump> -o <out>`: a small dump holding only the pages the analysis reads: an ELF
// core, or makedumpfile's kdump-compressed format (zlib) when <out> ends in .kdump or .kdump-zlib.
import { existsSync } from 'node:fs';
import { analyzeOpenDump } from '../../analyzers/vmcore-analysis.js';
import { openKernel } from '../../kernel/index.js';
import { openDumpAsync } from '../../vmcore/index.js';
import { writeTrimmedElf } from '../../vmcore/write-elf.js';
import { writeTrimmedKdump } from '../../vmcore/write-kdump.js';
import { InputError, onlyDumpData } from '../../util/errors.js';

export async function runTrim(input: string, out: string): Promise<{ text: string; code: number }> {
  if (existsSync(out)) throw new InputError(`${out} exists: trim never overwrites a file`);
  const dump = await openDumpAsync(input);
  try {
    // Without the build cache: a trimmed dump must hold every page an analysis reads when the
    // cache is cold (kallsyms names, the whole .BTF), or it would only work where the cache is warm.
    await analyzeOpenDump(dump, input, { cache: false });
    // Also every CPU's backtrace and the info/log/percpu reads, so `bt --all` works on the result.
    const k = openKernel(dump, { cache: false });
    try {
      await (await k.arch.loadUnwinder())(k).backtraceAll();
    } catch (e) {
      onlyDumpData(e);
      // a CPU that cannot be unwound only means its pages are not needed
    }
    // pagesTouched counts 4 KiB frames whatever the kernel's page size or the format's block
    // (src/vmcore/pagedump.ts), so the trimmed file is written in 4 KiB pages; VMCOREINFO keeps
    // the kernel's PAGESIZE, from which translation takes the granule.
    const pageSize = 4096;
    const kdump = /\.kdump(-zlib)?$/.test(out);
    const r = kdump
      ? writeTrimmedKdump(dump, dump.pagesTouched, out, pageSize, {
          release: k.osrelease,
          physBase: k.vmcoreinfo.physBase,
          timestamp: k.vmcoreinfo.crashTime,
        })
      : writeTrimmedElf(dump, dump.pagesTouched, out, pageSize);
    return { text: `wrote ${out}: ${r.pages} pages (${(r.bytes / 1048576).toFixed(1)} MiB) of ${input}${r.skipped ? `, ${r.skipped} pages not in the source skipped` : ''}\n`, code: 0 };
  } finally {
    dump.close();
  }
}

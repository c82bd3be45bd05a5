// What the CLI tells the user about an error depends on whose fault it is. A property of the
// input (malformed file, page missing from the dump, usage) is the user's to act on: one line,
// exit 2. Anything else is a bug in ktriage: it must not pass for bad input, so it gets its own
// exit code and a line that asks for a report (the package names no tracker
// yet, so the line asks for what a report needs: the command line).
import { InputError } from '../util/errors.js';
import { DumpReadError } from '../vmcore/types.js';
import { DecompressError } from '../vmcore/decompress.js';
import { OrcFormatError } from '../kernel/unwind/orc.js';
import { UnreadableMemoryError } from '../kernel/unwind/memory.js';
import { sanitizeLine } from '../util/sanitize.js';

/** The typed errors that describe the input, never the program. */
export function isInputError(e: unknown): e is Error {
  return e instanceof InputError || e instanceof DumpReadError || e instanceof DecompressError || e instanceof OrcFormatError || e instanceof UnreadableMemoryError;
}

/** The one stderr line for an error, without the "ktriage: " prefix. */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const line = sanitizeLine(msg).trim();
  if (e instanceof DumpReadError) return `cannot read the dump: ${line}`;
  if (isInputError(e)) return line;
  return `internal error (a bug in ktriage, please report it with the command line): ${line}`;
}

import { DumpReadError } from '../vmcore/types.js';

/** Any error caused by bad input (malformed file, unknown format, usage). The CLI prints its
 * message on one line and exits 2; nothing else about it reaches the user. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * The errors reading a dump is expected to meet: memory the dump lacks or garbles (DumpReadError
 * and its subclasses: TranslationError, UnreadableMemoryError) and data that makes no sense
 * (InputError and its subclasses: LookupError, OrcFormatError, ...). A catch that falls back
 * when a dump is incomplete catches these and nothing else, so that a TypeError or RangeError
 * from a bug in ktriage reaches the CLI as an internal error instead of passing for a hole in
 * the dump.
 */
function isDumpDataError(e: unknown): e is Error {
  return e instanceof DumpReadError || e instanceof InputError;
}

/** For `catch (e) { onlyDumpData(e); ... }`: rethrows anything that is not a dump data error. */
export function onlyDumpData(e: unknown): asserts e is Error {
  if (!isDumpDataError(e)) throw e;
}

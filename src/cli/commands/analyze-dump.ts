import type { Comparable } from '../../analyzers/expectations.js';
import { InputError } from '../../util/errors.js';
import type { AnalyzeOptions } from './analyze.js';

export async function runAnalyzeDump(input: string, _opts: AnalyzeOptions): Promise<{ text: string; code: number }> {
  throw new InputError(`${input}: vmcore analysis is not wired yet`);
}

export async function comparableOfDump(input: string): Promise<Comparable> {
  throw new InputError(`${input}: vmcore analysis is not wired yet`);
}

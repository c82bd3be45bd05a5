import { diagnoseLog, hazardMatched, type LogDiagnosis } from '../../analyzers/diagnosis.js';
import { analyzeLogText } from '../../analyzers/log-analysis.js';
import { InputError } from '../../util/errors.js';
import { readLogFile, readStdin, sniffFile } from '../input.js';
import { renderLogDiagnosis } from '../render/diagnosis-render.js';
import { toJson } from '../render/json.js';
import { runAnalyzeDump } from './analyze-dump.js';

export interface AnalyzeOptions { json?: boolean; markdown?: boolean; systemMap?: string; vmlinux?: string }

export async function runAnalyze(input: string, opts: AnalyzeOptions): Promise<{ text: string; code: number }> {
  if (opts.json && opts.markdown) throw new InputError('choose one of --json and --markdown');
  if (input !== '-') {
    const { kind } = sniffFile(input);
    if (kind !== 'log') return runAnalyzeDump(input, opts);
  }
  const log = input === '-' ? await readStdin() : readLogFile(input);
  const analysis = await analyzeLogText(log.text);
  analysis.notes.unshift(...log.notes);
  const diagnosis: LogDiagnosis = diagnoseLog(analysis, input === '-' ? '<stdin>' : input);
  const text = opts.json ? toJson(diagnosis) : renderLogDiagnosis(diagnosis, opts.markdown ? 'markdown' : 'text');
  return { text, code: hazardMatched(diagnosis.reports) ? 1 : 0 };
}


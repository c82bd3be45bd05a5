// Entry point for console-log analysis used by the CLI and regress: parse + decode Code: bytes.
import type { LogAnalysis } from './report-model.js';
import { analyzeLog } from './log/index.js';

export async function analyzeLogText(text: string): Promise<LogAnalysis> {
  return analyzeLog(text);
}

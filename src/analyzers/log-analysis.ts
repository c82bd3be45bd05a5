// Placeholder until the log parser lands: see src/analyzers/log/.
import type { LogAnalysis } from './report-model.js';
export async function analyzeLogText(_text: string): Promise<LogAnalysis> {
  throw new Error('log parser not available yet');
}

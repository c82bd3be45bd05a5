// Turns any input (log or dump) into the comparable subset used by `regress`.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { Comparable } from '../../analyzers/expectations.js';
import { diagnoseLog } from '../../analyzers/diagnosis.js';
import { analyzeLogText } from '../../analyzers/log-analysis.js';
import { readLogFile, sniffFile } from '../input.js';
import { comparableOfDump } from './analyze-dump.js';

/**
 * Fixtures may hold an ELF dump compressed with xz (a 384 MiB guest's ELF is mostly zero-filled
 * holes that only xz shrinks well); unpack it to a temporary file first.
 */
function unpackXz(input: string): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ktriage-regress-'));
  const out = join(dir, basename(input, '.xz'));
  const fd = openSync(out, 'w');
  const r = spawnSync('xz', ['-dc', input], { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  if (r.error || r.status !== 0) {
    cleanup();
    throw new InputError(`cannot unpack ${input} with xz: ${r.error?.message ?? r.stderr.toString().trim()}`);
  }
  return { path: out, cleanup };
}

export async function comparableOf(input: string): Promise<Comparable> {
  if (input.endsWith('.xz')) {
    const u = unpackXz(input);
    try {
      return await comparableOf(u.path);
    } finally {
      u.cleanup();
    }
  }
  const { kind } = sniffFile(input);
  if (kind !== 'log') return comparableOfDump(input);
  const log = readLogFile(input);
  const d = diagnoseLog(await analyzeLogText(log.text), input);
  const first = d.reports[0];
  return {
    hazards: [...new Set(d.reports.flatMap((r) => r.hazards.map((h) => h.id)))],
    titles: d.reports.map((r) => r.report.title),
    backtrace: first ? first.report.frames.filter((f) => !f.unreliable && f.function).map((f) => f.function as string) : [],
  };
}

// What `ktriage regress` compares between a fixture's expected.json and a fresh analysis: the
// parts a human checked against crash/the log, not incidental text (wording, timings).

export interface CpuExpectation { cpu: number; preemptCount: string | null; inKernelFpu: boolean | null }

export interface Comparable {
  hazards: string[];
  titles: string[];
  panicCpu?: number | null;
  cpus?: CpuExpectation[];
  /** Backtrace function names of the panicking task, innermost first. */
  backtrace?: string[];
}

export interface Expectation extends Comparable {
  /** Input file, relative to the fixture folder. */
  input: string;
  /** How the values were checked (e.g. "crash 8.0.2 with the debug vmlinux: p __preempt_count:a"). */
  checkedWith?: string;
}

function eqList(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]));
}

function listDiff(name: string, want: string[], got: string[]): string[] {
  if (eqList(want, got)) return [];
  const out = [`${name}: differs`];
  const n = Math.max(want.length, got.length);
  const w = Math.max(8, ...want.map((x) => x.length));
  out.push(`    ${'expected'.padEnd(w)}  actual`);
  for (let i = 0; i < n; i++) {
    const a = want[i] ?? '';
    const b = got[i] ?? '';
    out.push(`  ${a === b ? ' ' : '!'} ${a.padEnd(w)}  ${b}`);
  }
  return out;
}

/** Differences as readable lines; empty when the analysis matches. Only keys present in `want` are compared. */
export function compareExpectation(want: Comparable, got: Comparable): string[] {
  const diffs: string[] = [];
  diffs.push(...listDiff('hazards', want.hazards, got.hazards));
  diffs.push(...listDiff('titles', want.titles, got.titles));
  if (want.panicCpu !== undefined && want.panicCpu !== got.panicCpu) diffs.push(`panicCpu: expected ${want.panicCpu}, got ${got.panicCpu}`);
  if (want.cpus) {
    const byCpu = new Map((got.cpus ?? []).map((c) => [c.cpu, c]));
    for (const c of want.cpus) {
      const g = byCpu.get(c.cpu);
      if (!g) diffs.push(`cpu ${c.cpu}: missing from the analysis`);
      else {
        if (g.preemptCount !== c.preemptCount) diffs.push(`cpu ${c.cpu}: __preempt_count expected ${c.preemptCount}, got ${g.preemptCount}`);
        if (g.inKernelFpu !== c.inKernelFpu) diffs.push(`cpu ${c.cpu}: in_kernel_fpu expected ${c.inKernelFpu}, got ${g.inKernelFpu}`);
      }
    }
    if ((got.cpus ?? []).length !== want.cpus.length) diffs.push(`cpus: expected ${want.cpus.length}, got ${(got.cpus ?? []).length}`);
  }
  if (want.backtrace) diffs.push(...listDiff('backtrace', want.backtrace, got.backtrace ?? []));
  return diffs;
}

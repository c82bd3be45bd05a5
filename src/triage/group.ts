// Grouping of a batch's results. Memory grows with the number of groups, never with the number of
// inputs: a group keeps counters, its first and last input by day, a bounded sample of input paths
// (links in the HTML report) and one representative's detail.
import { SCHEMA_VERSION } from '../api/schema-version.js';
import type { GroupBy, TriageDetail, TriageErrorLine, TriageGroupLine, TriageResultLine } from './types.js';

/** Input paths kept per group for the report's links; the JSON lines have them all. */
const SAMPLE_INPUTS = 20;
/** Error lines kept for the report; the count is exact. */
const SAMPLE_ERRORS = 200;

export interface Group {
  key: string;
  count: number;
  kernels: Map<string, number>;
  hazards: Set<string>;
  kinds: { vmcore: number; log: number };
  first: { input: string; day: string };
  last: { input: string; day: string };
  representative: TriageResultLine;
  detail: TriageDetail | null;
  inputs: string[];
}

export function groupKey(line: TriageResultLine, by: GroupBy): string {
  switch (by) {
    case 'signature':
      return line.signature;
    case 'hazard':
      return line.hazards[0] ?? '(no known hazard)';
    case 'title':
      return line.title ?? '(no crash report)';
    case 'kernel':
      return line.kernel ?? 'unknown';
  }
}

export class Grouper {
  readonly groups = new Map<string, Group>();
  readonly byKernel = new Map<string, number>();
  readonly byDay = new Map<string, number>();
  readonly errors: TriageErrorLine[] = [];
  inputs = 0;
  analysed = 0;
  failed = 0;
  partial = 0;
  withHazard = 0;

  constructor(readonly by: GroupBy) {}

  add(line: TriageResultLine | TriageErrorLine, detail?: TriageDetail): void {
    this.inputs++;
    if (line.type === 'error') {
      this.failed++;
      if (this.errors.length < SAMPLE_ERRORS) this.errors.push(line);
      return;
    }
    this.analysed++;
    if (line.incomplete !== null) this.partial++;
    if (line.hazards.length) this.withHazard++;
    const kernel = line.kernel ?? 'unknown';
    this.byKernel.set(kernel, (this.byKernel.get(kernel) ?? 0) + 1);
    this.byDay.set(line.day, (this.byDay.get(line.day) ?? 0) + 1);
    const key = groupKey(line, this.by);
    let g = this.groups.get(key);
    if (!g) {
      g = {
        key,
        count: 0,
        kernels: new Map(),
        hazards: new Set(),
        kinds: { vmcore: 0, log: 0 },
        first: { input: line.input, day: line.day },
        last: { input: line.input, day: line.day },
        representative: line,
        detail: detail ?? null,
        inputs: [],
      };
      this.groups.set(key, g);
    }
    g.count++;
    g.kinds[line.kind]++;
    g.kernels.set(kernel, (g.kernels.get(kernel) ?? 0) + 1);
    for (const h of line.hazards) g.hazards.add(h);
    if (line.day < g.first.day) g.first = { input: line.input, day: line.day };
    if (line.day >= g.last.day) g.last = { input: line.input, day: line.day };
    if (g.inputs.length < SAMPLE_INPUTS) g.inputs.push(line.input);
    // A dump shows what a log cannot (per-CPU context, a backtrace from memory): it represents the
    // group as soon as one arrives.
    if (g.representative.kind === 'log' && line.kind === 'vmcore') {
      g.representative = line;
      g.detail = detail ?? null;
    }
  }

  /** Largest group first, then by key, so the table's order does not depend on worker timing. */
  sorted(): Group[] {
    return [...this.groups.values()].sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  lines(): TriageGroupLine[] {
    return this.sorted().map((g) => ({
      schemaVersion: SCHEMA_VERSION,
      type: 'group',
      groupBy: this.by,
      key: g.key,
      count: g.count,
      kernels: Object.fromEntries([...g.kernels].sort((a, b) => b[1] - a[1])),
      hazards: [...g.hazards],
      title: g.representative.title,
      first: g.first,
      last: g.last,
      example: g.representative.input,
    }));
  }
}

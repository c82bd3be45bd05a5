// The kernel's own oops/panic call trace (printed by its ORC unwinder in the same kernel) as a
// second referee: parse it from the log lines.

export interface KernelTraceEntry {
  unreliable: boolean;
  name: string;
  offset: bigint;
  size: bigint;
  module?: string;
}

export interface KernelTrace {
  entries: KernelTraceEntry[];
  /** `RIP: 0010:func+0x../0x..` lines, in order (kernel-mode exception frames). */
  rips: string[];
}

/** The call trace printed after the last "Kernel panic - not syncing" line. */
export function panicCallTrace(lines: string[]): KernelTrace | null {
  const strip = (l: string) => l.replace(/^\[\s*\d+\.\d+\]\s?/, '').replace(/\r$/, '');
  let p = -1;
  // (not the closing "---[ end Kernel panic - not syncing ... ]---")
  lines.forEach((l, i) => { if (strip(l).trimStart().startsWith('Kernel panic - not syncing')) p = i; });
  if (p < 0) return null;
  const start = lines.findIndex((l, i) => i > p && strip(l).includes('Call Trace:'));
  if (start < 0) return null;
  const entries: KernelTraceEntry[] = [];
  const rips: string[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const l = strip(lines[i]).trim();
    if (l === '</TASK>' || l.startsWith('Kernel Offset') || l.startsWith('---[ end')) break;
    const r = /^RIP: 0010:([\w.]+\+0x[0-9a-f]+\/0x[0-9a-f]+)/.exec(l);
    if (r) {
      rips.push(r[1]);
      continue;
    }
    const m = /^(\? )?([\w.]+)\+0x([0-9a-f]+)\/0x([0-9a-f]+)(?: \[(\w+)\])?$/.exec(l);
    if (m) entries.push({ unreliable: Boolean(m[1]), name: m[2], offset: BigInt(`0x${m[3]}`), size: BigInt(`0x${m[4]}`), module: m[5] });
  }
  return { entries, rips };
}

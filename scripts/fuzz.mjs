#!/usr/bin/env node
// `npm run fuzz`: the long hostile-input campaign (vitest.fuzz.config.ts: test/fuzz/, the
// end-to-end hostile tests and the per-layer hostile tests), then a per-parser summary of the
// inputs tried and how they ended. FUZZ_RUNS scales every campaign (default 20 = 20x the CI run);
// FUZZ_SEED picks the inputs (default: a new seed each run, printed so a failure can be replayed
// with the same seed). A failing input is saved under test/fuzz/regressions/<parser>/.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const report = join(tmpdir(), `ktriage-fuzz-report-${process.pid}.jsonl`);
const seed = process.env.FUZZ_SEED ?? String(Date.now() % 1_000_000);
const scale = process.env.FUZZ_RUNS ?? '20';
rmSync(report, { force: true });
console.log(`fuzz campaign: FUZZ_RUNS=${scale} FUZZ_SEED=${seed}`);
const t0 = Date.now();
const r = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.fuzz.config.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: scale, FUZZ_SEED: seed, FUZZ_REPORT: report },
});
const totals = new Map();
if (existsSync(report)) {
  for (const line of readFileSync(report, 'utf8').split('\n').filter(Boolean)) {
    const x = JSON.parse(line);
    const t = totals.get(x.parser) ?? { inputs: 0, ok: 0, rejected: 0 };
    t.inputs += x.inputs;
    t.ok += x.ok;
    t.rejected += x.rejected;
    totals.set(x.parser, t);
  }
  rmSync(report, { force: true });
}
const secs = ((Date.now() - t0) / 1000).toFixed(0);
console.log(`\nfuzz summary (FUZZ_RUNS=${scale}, FUZZ_SEED=${seed}, ${secs} s, vitest exit ${r.status}):`);
console.log('parser'.padEnd(18) + 'inputs'.padStart(10) + 'accepted'.padStart(10) + 'rejected'.padStart(10));
let all = 0;
for (const [p, t] of [...totals].sort()) {
  all += t.inputs;
  console.log(p.padEnd(18) + String(t.inputs).padStart(10) + String(t.ok).padStart(10) + String(t.rejected).padStart(10));
}
console.log('total'.padEnd(18) + String(all).padStart(10));
console.log('(accepted: a result; rejected: a typed one-line error. Per-layer hostile tests outside test/fuzz/ are not counted here.)');
process.exit(r.status ?? 1);

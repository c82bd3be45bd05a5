// bin/ktriage.js runs the compiled dist/ (bundled into dist/bundle/ by scripts/bundle.mjs), and
// the CLI tests (test/analyze/cli.test.ts, test/explain/preempt-count.test.ts) spawn it as a user
// would. `npm ci` builds dist/ (the prepare script), but a clone installed with --ignore-scripts
// has none, and after any edit to src/ an existing dist/ is stale: the CLI tests would pass or fail
// on old code. So dist/ is rebuilt (tsc, then the bundle) before the tests whenever a source is
// newer than the last build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const STAMP = path.join(ROOT, 'dist', '.build-stamp');
const LOCK = path.join(ROOT, 'dist.build-lock');

function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') || e.name.endsWith('.json')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  walk(path.join(ROOT, 'src'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/bundle.mjs']) newest = Math.max(newest, fs.statSync(path.join(ROOT, f)).mtimeMs);
  return newest;
}

const fresh = () => fs.existsSync(STAMP) && fs.existsSync(path.join(ROOT, 'dist/bundle/main.js')) && fs.statSync(STAMP).mtimeMs >= newestSource();

export default function setup(): void {
  if (fresh()) return;
  // Another test run on this machine may be building: wait for it rather than write the same files.
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) fs.rmSync(LOCK, { recursive: true, force: true });
      else spawnSync('sleep', ['1']);
    }
  }
  try {
    if (fresh()) return;
    const started = Date.now();
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    // Type errors still emit JavaScript (npm run lint reports them); only a missing build is fatal.
    if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error(`building dist/ failed:\n${r.stdout}${r.stderr}`);
    // The bundle bin/ktriage.js loads (npm run build's second step).
    const b = spawnSync(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (b.status !== 0 || !fs.existsSync(path.join(ROOT, 'dist/bundle/main.js'))) throw new Error(`bundling dist/ failed:\n${b.stdout}${b.stderr}`);
    fs.writeFileSync(STAMP, new Date(started).toISOString() + '\n');
    fs.utimesSync(STAMP, started / 1000, started / 1000);
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

#!/usr/bin/env bash
# The package as a user gets it: `npm pack` (which builds dist/ with the prepare script), then
# `npm install <tarball>` in an empty directory, with its dependencies from the registry. There,
# `npx ktriage analyze` must diagnose the bundled dump, `import('ktriage')` and the schema files
# must resolve through the exports map, a TypeScript consumer must type-check against the shipped
# .d.ts files, and examples/current-tasks.ts, compiled as a user would, must run.
# Usage: scripts/check-package.sh [workdir]   (default: a new temporary directory, removed after)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
fixture="$repo/fixtures/vmcore-debian-6.1.192-buggy-2cpu/vmcore.d31.kdump-zlib"
work=${1:-}
if [ -z "$work" ]; then
  work=$(mktemp -d /tmp/ktriage-package.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/pack" "$work/user"
t0=$(date +%s)
say() { echo "check-package: $* ($(( $(date +%s) - t0 ))s)"; }
fail() { echo "check-package: FAILED: $*" >&2; exit 1; }

say "npm pack"
(cd "$repo" && npm pack --silent --pack-destination "$work/pack" >/dev/null)
tarball=$(ls "$work"/pack/ktriage-*.tgz)
listing=$(tar -tzf "$tarball")
for f in package/dist/index.js package/dist/index.d.ts package/bin/ktriage.js package/schemas/dump-diagnosis.schema.json package/schemas/log-diagnosis.schema.json package/schemas/preempt-decode.schema.json package/schemas/lint-result.schema.json; do
  grep -qx "$f" <<<"$listing" || fail "$f is not in $(basename "$tarball")"
done
if grep -q '^package/\(test\|fixtures\|src\)/' <<<"$listing"; then fail "the tarball carries test/, fixtures/ or src/"; fi
say "$(basename "$tarball"): $(wc -l <<<"$listing") files, $(( $(stat -c %s "$tarball") / 1024 )) KiB"

cd "$work/user"
cat > package.json <<'EOF'
{ "name": "ktriage-user", "version": "1.0.0", "private": true, "type": "module" }
EOF
say "npm install the tarball, typescript 5.9 and @types/node 20 in an empty directory"
npm install --no-audit --no-fund --loglevel=error "$tarball" typescript@5.9 @types/node@20 >/dev/null

say "npx ktriage analyze <fixture>: exit 1 (a known hazard) and the hazard named"
set +e
npx --no-install ktriage analyze "$fixture" > analyze.txt 2> analyze.err
rc=$?
set -e
[ "$rc" = 1 ] || { cat analyze.err >&2; fail "npx ktriage analyze exited $rc, expected 1"; }
grep -q 'kprobe-int3-nmi-slab-fpu' analyze.txt || fail "hazard kprobe-int3-nmi-slab-fpu not in the report"
head -3 analyze.txt

say "npx ktriage analyze --json carries schemaVersion; import('ktriage') and the schema files resolve"
npx --no-install ktriage analyze "$fixture" --json > analyze.json || [ $? = 1 ]
node --input-type=module -e '
  import { readFileSync } from "node:fs";
  import { createRequire } from "node:module";
  const api = await import("ktriage");
  const doc = JSON.parse(readFileSync("analyze.json", "utf8"));
  if (doc.schemaVersion !== api.SCHEMA_VERSION) throw new Error(`schemaVersion ${doc.schemaVersion}, library says ${api.SCHEMA_VERSION}`);
  for (const f of ["openDump", "openKernel", "analyzeDump", "analyzeLog", "explainPreemptCount", "lintKmod"]) if (typeof api[f] !== "function") throw new Error(`ktriage exports no ${f}`);
  const schema = JSON.parse(readFileSync(createRequire(import.meta.url).resolve("ktriage/schemas/dump-diagnosis.schema.json"), "utf8"));
  const missing = schema.required.filter((k) => !(k in doc));
  if (missing.length) throw new Error(`analyze --json lacks required keys ${missing}`);
  console.log(`schemaVersion ${doc.schemaVersion}; ${Object.keys(api).length} exports; schema ${schema.title}`);
'

say "a TypeScript consumer type-checks against the shipped .d.ts (tsc --noEmit), the example compiles and runs"
cat > tsconfig.json <<'EOF'
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "types": ["node"], "outDir": "out" }, "files": ["consumer.ts", "current-tasks.ts"] }
EOF
cat > consumer.ts <<'EOF'
import { openDump, openKernel, analyzeDump, explainPreemptCount, SCHEMA_VERSION, type DumpDiagnosis, type Kernel, type Versioned } from 'ktriage';

export async function panicTask(path: string): Promise<string | null> {
  const dump = await openDump(path);
  try {
    const kernel: Kernel = openKernel(dump);
    const cpu = kernel.panicCpu.cpu;
    const task = cpu === null ? null : kernel.currentTask(cpu);
    const d: Versioned<DumpDiagnosis> = await analyzeDump(dump);
    const v: 1 = d.schemaVersion;
    const inNmi: boolean = explainPreemptCount(kernel.preemptCount(cpu ?? 0)).predicates.inNmi;
    const comm: string = kernel.object('init_task').member('comm').string();
    return `${task?.comm ?? '?'} ${v === SCHEMA_VERSION} ${inNmi} ${comm} ${d.verdict}`;
  } finally {
    dump.close();
  }
}
EOF
cp "$repo/examples/current-tasks.ts" current-tasks.ts
npx --no-install tsc --noEmit -p . || fail "tsc --noEmit of a consumer of the installed package"
npx --no-install tsc -p . || fail "compiling examples/current-tasks.ts against the installed package"
node out/current-tasks.js "$fixture" | tee current-tasks.txt
grep -q '^>0 ' current-tasks.txt || fail "the example printed no panic CPU row"
say "ok"

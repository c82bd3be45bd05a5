#!/bin/bash
# CI: kmod-reference's hazard module on Debian's arm64 kernel. Cross-builds it for the current
# arm64 ABI (kmod-reference/repro/arm64/build-arm64.sh), boots mode=buggy in qemu-system-aarch64
# for SECS seconds and requires what was measured there (kmod-reference/README.md, "arm64"): the
# BRK kprobe handler runs with in_nmi() false and IRQs masked, and the module allocates in it
# without a WARN and unloads cleanly. Then lint-kmod must flag the freshly built arm64 .ko with
# the arm64 finding (exit 1), not the x86 one.
#
#   scripts/ci/arm64-kmod.sh [WORKDIR]     (SECS, default 30)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
WORK=${1:-$(mktemp -d /tmp/ktriage-arm64-kmod.XXXXXX)}
SECS=${SECS:-30}
mkdir -p "$WORK"
t0=$(date +%s)
say() { echo "[arm64-kmod +$(( $(date +%s) - t0 )) s] $*"; }

"$top/kmod-reference/repro/arm64/build-arm64.sh" "$WORK/build" > "$WORK/build.log" 2>&1 ||
	{ tail -30 "$WORK/build.log"; echo "arm64 cross-build failed"; exit 1; }
ko=$WORK/build/hazard/hazard.ko
say "cross-built $(modinfo -F vermagic "$ko" | cut -d' ' -f1) hazard.ko"

"$top/kmod-reference/repro/run.py" --arch arm64 --arm64-build "$WORK/build" --mode buggy --reclaim-ms 20 \
	--secs "$SECS" --timeout $((SECS + 120)) --out "$WORK/buggy" > "$WORK/buggy.log" 2>&1 ||
	{ tail -30 "$WORK/buggy.log"; tail -40 "$WORK/buggy/serial.log" 2>/dev/null; echo "arm64 buggy: not the measured outcome"; exit 1; }
python3 - "$WORK/buggy/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r.get("handler_context") or {}
k = r.get("counters") or {}
print(f"arm64 buggy: {r.get('guest_result')}")
print(f"handler context: preempt_count={c.get('preempt_count')} in_nmi={c.get('in_nmi')} irqs_disabled={c.get('irqs_disabled')} "
      f"may_use_simd={c.get('may_use_simd')}; allocations in the handler: {k.get('allocs')}")
ok = r.get("ok") and c.get("in_nmi") == 0 and c.get("irqs_disabled") == 1 and int(k.get("allocs") or 0) > 0
sys.exit(0 if ok else 1)
PY
say "buggy mode survived as measured"

set +e
node "$top/bin/ktriage.js" lint-kmod "$ko" > "$WORK/lint.txt"
rc=$?
set -e
grep -E '^(test|Handlers|  post|  WARNING|  ERROR|    path)' "$WORK/lint.txt" || true
[ "$rc" = 1 ] || { cat "$WORK/lint.txt"; echo "lint-kmod exited $rc on the arm64 module, expected 1"; exit 1; }
grep -q 'arm64-kprobe-brk-alloc' "$WORK/lint.txt" || { echo "lint-kmod: no arm64-kprobe-brk-alloc finding"; exit 1; }
if grep -q 'kprobe-int3-nmi-slab-fpu' "$WORK/lint.txt"; then echo "lint-kmod claims the x86 hazard for an arm64 module"; exit 1; fi
say "done"
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"

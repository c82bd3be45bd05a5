#!/bin/bash
# Time to panic of mode=buggy over several runs (no dumps).
#   [RECLAIM_MS=N] bench-buggy.sh RUNS CPUS [OUTDIR]
# Prints one line per run and min/median/max of the guest time from
# WORKLOAD START to the WARN.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${1:-5}
cpus=${2:-2}
out=${3:-$(mktemp -d /tmp/hazard-bench.XXXXXX)}
mkdir -p "$out"
times=()
for i in $(seq 1 "$runs"); do
	d=$out/run$i-${cpus}cpu
	if "$here/run.py" --mode buggy --cpus "$cpus" --out "$d" ${RECLAIM_MS:+--reclaim-ms "$RECLAIM_MS"} > "$d.log" 2>&1; then
		t=$(python3 -c "import json; r = json.load(open('$d/result.json')); print(r['guest_secs_to_warn'], r['host_secs_workload'], r['warn_cpu'])")
		echo "run $i: guest_secs_to_warn host_secs warn_cpu = $t"
		times+=("${t%% *}")
	else
		echo "run $i: FAIL (see $d.log)"
	fi
done
[ ${#times[@]} -gt 0 ] || { echo "no panics"; exit 1; }
printf '%s\n' "${times[@]}" | sort -g | awk -v c="$cpus" '
	{ v[NR] = $1 }
	END { if (NR) printf "%d vCPUs, %d panics: min %.2f s, median %.2f s, max %.2f s (guest, workload start to WARN)\n",
		c, NR, v[1], v[int((NR + 1) / 2)], v[NR] }'

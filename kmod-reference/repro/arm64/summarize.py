#!/usr/bin/env python3
"""Summarize run.py output directories (their result.json and serial.log) into one
machine-readable file, e.g. kmod-reference/repro/arm64/results.json:

  summarize.py OUT.json RUN_DIR...

One entry per run: arch, kernel release, mode, workload seconds asked and measured,
reclaim_ms, extra kernel arguments, status (survived / panic / ...), warnings (WARNING/BUG
lines on the console), the first WARNING line, events/dropped/allocs/frees/reclaims (the
module's debugfs counters; null after a panic), the probe line, the handler context the
module recorded the first time its kprobe handler ran, and with hz_trace=1 the number of
CRNG reseeds traced and the reseed probe's hits/misses (a miss = a reseed reached inside
the hazard kprobe handler).  Paths are left out; a dump is named by its file name and size.
"""
import json
import os
import re
import sys


def entry(d):
    r = json.load(open(os.path.join(d, "result.json")))
    serial = open(os.path.join(d, "serial.log"), "rb").read().decode("utf-8", "replace").replace("\r", "")
    kv = dict(re.findall(r"(\w+)=(\S+)", r.get("guest_result", "")))
    warns = re.findall(r"^\[\s*\d+\.\d+\] (WARNING: .*|BUG: .*)$", serial, re.M)
    c = r.get("counters", {})
    status = kv.get("status") or r.get("state")
    e = {
        "run": os.path.basename(os.path.normpath(d)),
        "arch": r.get("arch", "x86_64"),
        "kernel_release": r.get("kver"),
        "mode": r["mode"],
        "cpus": r.get("cpus"),
        "mem": r.get("mem"),
        "secs": r.get("secs"),
        "host_secs_workload": r.get("host_secs_workload"),
        "reclaim_ms": r.get("reclaim_ms"),
        "extra_append": r.get("extra_append"),
        "status": status,
        "ok": r.get("ok"),
        "expect": r.get("expect"),
        "warnings": int(kv["warnings"]) if kv.get("warnings", "").isdigit() else len(warns),
        "first_warning": warns[0] if warns else None,
        "warn_from_kprobe_path": r.get("warn_from_kprobe_path"),
        "guest_secs_to_warn": r.get("guest_secs_to_warn"),
        "panic": bool(re.search(r"Kernel panic - not syncing", serial)),
        "rmmod": int(kv["rmmod"]) if kv.get("rmmod", "").isdigit() else None,
        "leaked": int(kv["leaked"]) if kv.get("leaked", "").lstrip("-").isdigit() else None,
        "events": c.get("events"),
        "dropped": c.get("dropped"),
        "drained": c.get("drained"),
        "allocs": c.get("allocs"),
        "frees": c.get("frees"),
        "reclaims": c.get("reclaims"),
        "probe": r.get("probe"),
        "handler_context": r.get("handler_context"),
    }
    for k in ("reseeds_traced", "reseed_probe_hits", "reseed_probe_misses"):
        if k in r:
            e[k] = r[k]
    if r.get("dumps"):
        e["dumps"] = {k: {"file": os.path.basename(v["path"]), "bytes": v["bytes"]} for k, v in r["dumps"].items()}
    return e


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = [entry(d) for d in sys.argv[2:]]
    with open(sys.argv[1], "w") as f:
        json.dump({"generated_by": "kmod-reference/repro/arm64/summarize.py", "runs": runs}, f, indent=2)
        f.write("\n")
    for e in runs:
        print(f"{e['run']}: {e['arch']} {e['kernel_release']} {e['mode']} {e['status']} warnings={e['warnings']} "
              f"events={e['events']} allocs={e['allocs']} ctx={e['handler_context']}")


if __name__ == "__main__":
    main()

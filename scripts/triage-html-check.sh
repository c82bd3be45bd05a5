#!/usr/bin/env bash
# Loads `ktriage triage --html` in headless Chromium, takes a screenshot, and checks that the group
# table the browser built (the DOM after parsing and the inline script, not the file's text) holds
# exactly the groups of the --jsonl lines: same keys, same counts, same order.
#
#   scripts/triage-html-check.sh [--out DIR] [inputs...]      run triage on inputs (default: fixtures/)
#   scripts/triage-html-check.sh --report R.html --lines L.jsonl [--out DIR]   check an existing report
#
# Writes DIR/report.html, DIR/lines.jsonl, DIR/dom.html, DIR/report.png (DIR: a new temp dir unless
# given); prints the groups as "count<TAB>key" and exits 0 when they match. Needs Debian's
# `chromium` (apt-get install -y chromium). Runs as root, hence --no-sandbox.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out= report= lines=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --report) report=$2; shift 2 ;;
    --lines) lines=$2; shift 2 ;;
    *) break ;;
  esac
done
command -v chromium >/dev/null || { echo "triage-html-check: chromium is not installed (apt-get install -y chromium)" >&2; exit 3; }
out=${out:-$(mktemp -d /tmp/ktriage-html-check.XXXXXX)}
mkdir -p "$out"
if [ -z "$report" ]; then
  [ $# -gt 0 ] || set -- "$root/fixtures"
  report=$out/report.html lines=$out/lines.jsonl
  set +e
  node "$root/bin/ktriage.js" triage --jsonl --jobs "${JOBS:-2}" --exclude '*.json' --html "$report" "$@" > "$lines"
  rc=$?
  set -e
  # 0, 1, 4, 5 are results; 2 (usage) or anything else is a failure of the run itself.
  case $rc in 0|1|4|5) ;; *) echo "triage-html-check: ktriage triage exited $rc" >&2; exit 1 ;; esac
fi
profile=$(mktemp -d /tmp/ktriage-chromium.XXXXXX)
trap 'rm -rf "$profile"' EXIT
# A fresh profile and no background traffic: the page must render from the file alone.
# DBUS_SESSION_BUS_ADDRESS: without a session bus Chromium waits on D-Bus for seconds.
DBUS_SESSION_BUS_ADDRESS=disabled: timeout 120 chromium --headless --no-sandbox --disable-gpu \
  --disable-background-networking --disable-component-update --disable-sync --no-first-run \
  --user-data-dir="$profile" --window-size=1280,1600 --screenshot="$out/report.png" \
  --dump-dom "file://$(realpath "$report")" > "$out/dom.html" 2> "$out/chromium.log"
[ -s "$out/report.png" ] || { echo "triage-html-check: no screenshot" >&2; exit 1; }
node - "$out/dom.html" "$lines" <<'JS'
const fs = require('fs');
const [dom, lines] = process.argv.slice(2);
const html = fs.readFileSync(dom, 'utf8');
const unescape = (s) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(+n)).replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const rows = [...html.matchAll(/<tr class="group" data-key="([^"]*)">\s*<td class="count"[^>]*>(\d+)</g)].map((m) => ({ key: unescape(m[1]), count: +m[2] }));
const groups = fs.readFileSync(lines, 'utf8').split('\n').filter(Boolean).map(JSON.parse).filter((l) => l.type === 'group').map((l) => ({ key: l.key, count: l.count }));
for (const r of rows) console.log(`${r.count}\t${r.key}`);
if (JSON.stringify(rows) !== JSON.stringify(groups)) {
  console.error(`triage-html-check: the page shows ${rows.length} groups, the JSON lines ${groups.length}; they differ`);
  process.exit(1);
}
console.error(`triage-html-check: ${rows.length} groups in the DOM equal the JSON lines; screenshot ${dom.replace(/dom\.html$/, 'report.png')}`);
JS

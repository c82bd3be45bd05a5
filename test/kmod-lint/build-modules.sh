#!/usr/bin/env bash
# Build the lint-kmod test modules (and optionally kmod-reference) out of tree, in copies, so the
# source tree stays clean and concurrent builds do not collide.
#   test/kmod-lint/build-modules.sh [OUTDIR]   (default: $TMPDIR/ktriage-kmod-lint)
# KDIR picks the kernel headers; default: the newest /usr/src/linux-headers-*-amd64.
# Prints OUTDIR/<name>/<name>.ko for each module built. Exit 3 when no headers are installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-${TMPDIR:-/tmp}/ktriage-kmod-lint}"
if [[ -z "${KDIR:-}" ]]; then
  KDIR="$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1 || true)"
fi
if [[ -z "$KDIR" || ! -f "$KDIR/Makefile" ]]; then
  echo "build-modules: no kernel headers (install linux-headers-amd64 or set KDIR)" >&2
  exit 3
fi
mkdir -p "$out"
build() { # name srcdir
  local name="$1" src="$2" dst="$out/$1"
  mkdir -p "$dst"
  cp "$src"/Makefile "$src"/*.c "$dst"/
  make -s -C "$KDIR" M="$dst" modules >"$dst/build.log" 2>&1 || { cat "$dst/build.log" >&2; return 1; }
}
for dir in "$here"/modules/*/; do
  name="$(basename "$dir")"
  build "$name" "$dir"
  echo "$out/$name/$name.ko"
done
if [[ "${WITH_REFERENCE:-1}" == 1 && -f "$root/kmod-reference/Makefile" ]]; then
  build kmod-reference "$root/kmod-reference"
  ls "$out"/kmod-reference/*.ko
fi

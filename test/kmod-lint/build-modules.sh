#!/usr/bin/env bash
# Build the lint-kmod test modules (and optionally kmod-reference) out of tree, in copies, so the
# source tree stays clean and concurrent builds do not collide.
#   test/kmod-lint/build-modules.sh [OUTDIR]   (default: $TMPDIR/ktriage-kmod-lint)
# WITH_REFERENCE=0 leaves out kmod-reference/, ONLY_REFERENCE=1 builds only it.
# KDIR picks the kernel headers; default: the headers of the kernel the linux-headers-amd64
# meta-package depends on, found at run time. Not "the newest installed": another kernel's headers
# on the machine (a backport, an extracted tree) would change what the tests see.
# Prints KDIR on stderr, OUTDIR/<name>/<name>.ko on stdout for each module built.
# Exit 3 when the headers are not installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-${TMPDIR:-/tmp}/ktriage-kmod-lint}"
if [[ -z "${KDIR:-}" ]]; then
  # "linux-headers-6.1.0-<abi>-amd64 (= 6.1.192-3)" -> linux-headers-6.1.0-<abi>-amd64
  dep="$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null | tr ',' '\n' | sed -n 's/^ *\(linux-headers-[^ ]*\).*/\1/p' | head -1 || true)"
  [[ -n "$dep" ]] && KDIR="/usr/src/$dep"
fi
if [[ -z "${KDIR:-}" || ! -f "$KDIR/Makefile" ]]; then
  echo "build-modules: no kernel headers${KDIR:+ at $KDIR} (apt-get install linux-headers-amd64, or set KDIR)" >&2
  exit 3
fi
echo "build-modules: KDIR=$KDIR" >&2
mkdir -p "$out"
build() { # name srcdir
  local name="$1" src="$2" dst="$out/$1"
  mkdir -p "$dst"
  cp "$src"/Makefile "$src"/*.c "$dst"/
  make -s -C "$KDIR" M="$dst" modules >"$dst/build.log" 2>&1 || { cat "$dst/build.log" >&2; return 1; }
}
for dir in "$here"/modules/*/; do
  [[ "${ONLY_REFERENCE:-0}" == 1 ]] && break
  name="$(basename "$dir")"
  build "$name" "$dir"
  echo "$out/$name/$name.ko"
done
if [[ "${WITH_REFERENCE:-1}" == 1 && -f "$root/kmod-reference/Makefile" ]]; then
  build kmod-reference "$root/kmod-reference"
  ls "$out"/kmod-reference/*.ko
fi

#!/bin/bash
# Cross-build the hazard module (and softirq-oops) for Debian 12's arm64 kernel
# on an x86_64 Debian 12 host, and fetch what `run.py --arch arm64` boots:
#
#   kmod-reference/repro/arm64/build-arm64.sh [OUT]     (default /tmp/hazard-arm64)
#
# 1. Adds the foreign architecture arm64 (for apt-get download only) and
#    installs gcc-aarch64-linux-gnu, qemu-system-arm and cpio if missing.
# 2. Resolves the kernel from the metapackage linux-image-arm64:arm64 (the
#    current ABI, never pinned), and apt-get downloads into $KROOT_BASE/debs:
#    linux-image-<rel>:arm64 and busybox-static:arm64 (unpacked with dpkg -x
#    into $KROOT_BASE/<rel>/ and $KROOT_BASE/busybox-arm64/, the same layout
#    as scripts/fixtures/arm64/make-arm64-dump.sh), and the build tree:
#    linux-headers-<rel>:arm64, linux-headers-<abi>-common (all) and the host's
#    linux-kbuild-<x.y> of the same version, all unpacked into OUT/headers/
#    (the headers' relative scripts/ and tools/ links then resolve inside it;
#    the Makefile's absolute include of the -common tree is pointed there too).
#    Nothing arm64 is installed on the host.
# 3. Copies kmod-reference/hazard.c and softirq-oops/ into OUT/hazard and
#    OUT/softirq-oops and builds them with
#    make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- (ccflags -Werror).
# 4. Writes OUT/build.json (release, version, kernel root, busybox, modules),
#    which run.py --arch arm64 reads (--arm64-build OUT).
#
# Env: KROOT_BASE (default /tmp/ktriage-kernels).  Run as root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kref=$(cd "$here/../.." && pwd)
top=$(cd "$kref/.." && pwd)
OUT=$(realpath -m "${1:-/tmp/hazard-arm64}")
KROOT_BASE=${KROOT_BASE:-/tmp/ktriage-kernels}
say() { echo "== $*" >&2; }

. "$top/scripts/fixtures/apt-retry.sh"

"$top/scripts/fixtures/arm64/host-setup.sh" gcc-aarch64-linux-gnu qemu-system-arm cpio make

read -r rel ver < <("$top/scripts/fixtures/arm64/resolve-image.sh" linux-image-arm64)
candidate() { apt-cache policy "$1" | awk '/Candidate:/ { print $2 }'; }
abi=${rel%-arm64}
kbuild=$(apt-cache depends "linux-headers-$rel:arm64" | sed -n 's/^ *Depends: \(linux-kbuild-[0-9.]*\)\(:arm64\)\{0,1\}$/\1/p' | head -1)
[ -n "$kbuild" ] || { echo "cannot tell the linux-kbuild package of linux-headers-$rel" >&2; exit 1; }
hostarch=$(dpkg --print-architecture)
bbver=$(candidate busybox-static:arm64)
say "kernel linux-image-$rel:arm64 $ver (from linux-image-arm64:arm64); $kbuild:$hostarch"

debs=$KROOT_BASE/debs
kroot=$KROOT_BASE/$rel
bbroot=$KROOT_BASE/busybox-arm64
mkdir -p "$debs" "$kroot/.unpacked" "$bbroot/.unpacked" "$OUT/headers/.unpacked"
chown _apt "$debs" 2>/dev/null || true
fetch() { # package arch version destination-root
	local p=$1 arch=$2 v=$3 dst=$4 deb
	deb=$debs/${p}_${v//:/%3a}_$arch.deb
	if [ ! -e "$deb" ]; then
		say "apt-get download $p:$arch=$v"
		(cd "$debs" && apt_retry apt-get download -qq "$p:$arch=$v")
	fi
	[ -e "$deb" ] || { echo "apt-get download did not write $deb" >&2; exit 1; }
	if [ ! -e "$dst/.unpacked/$(basename "$deb")" ]; then
		say "dpkg -x $(basename "$deb") $dst"
		dpkg -x "$deb" "$dst"
		touch "$dst/.unpacked/$(basename "$deb")"
	fi
}
fetch "linux-image-$rel" arm64 "$ver" "$kroot"
fetch busybox-static arm64 "$bbver" "$bbroot"
fetch "linux-headers-$rel" arm64 "$ver" "$OUT/headers"
fetch "linux-headers-$abi-common" all "$ver" "$OUT/headers"
fetch "$kbuild" "$hostarch" "$ver" "$OUT/headers"

kdir=$OUT/headers/usr/src/linux-headers-$rel
common=$OUT/headers/usr/src/linux-headers-$abi-common
[ -e "$kdir/scripts/Makefile.build" ] || { echo "$kdir/scripts does not resolve (need $kbuild $ver)" >&2; exit 1; }
# "include /usr/src/linux-headers-<abi>-common/Makefile" -> the unpacked copy.
sed -i "s|^include /usr/src/linux-headers-$abi-common/Makefile|include $common/Makefile|" "$kdir/Makefile"
grep -q "^include $common/Makefile" "$kdir/Makefile" || { echo "unexpected $kdir/Makefile" >&2; cat "$kdir/Makefile" >&2; exit 1; }

build() { # name source-files...
	local name=$1; shift
	rm -rf "${OUT:?}/$name"
	mkdir -p "$OUT/$name"
	cp "$@" "$OUT/$name/"
	say "make ARCH=arm64 M=$OUT/$name"
	make -s -C "$kdir" M="$OUT/$name" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		DEB_BUILD_ARCH="$hostarch" DEB_HOST_ARCH=arm64 DEB_HOST_GNU_TYPE=aarch64-linux-gnu modules >&2
}
build hazard "$kref/hazard.c" "$kref/Makefile"
build softirq-oops "$kref/softirq-oops/softirq_oops.c" "$kref/softirq-oops/Makefile"
hko=$OUT/hazard/hazard.ko
sko=$OUT/softirq-oops/softirq_oops.ko
for k in "$hko" "$sko"; do
	vm=$(modinfo -F vermagic "$k")
	case $vm in "$rel "*) ;; *) echo "$k: vermagic '$vm' is not for $rel" >&2; exit 1 ;; esac
	file "$k" | grep -q 'ARM aarch64' || { echo "$k is not an arm64 object" >&2; exit 1; }
done

python3 - "$OUT/build.json" <<PY
import json, sys
json.dump({"release": "$rel", "version": "$ver", "kroot": "$kroot",
           "kernel": "$kroot/boot/vmlinuz-$rel", "busybox": "$bbroot/bin/busybox",
           "hazard_ko": "$hko", "softirq_oops_ko": "$sko",
           "cross_gcc": "$(aarch64-linux-gnu-gcc --version | head -1)"},
          open(sys.argv[1], "w"), indent=2)
PY
say "built $hko and $sko (vermagic $(modinfo -F vermagic "$hko")); $OUT/build.json"
echo "$OUT/build.json"

#!/bin/bash
# CI: boot Debian's current arm64 kernel once in qemu-system-aarch64 (TCG), panic it with sysrq-c,
# dump it through QMP (ELF and kdump-zlib), and check `ktriage analyze` on both dumps against what
# the same boot's kernel printed on its serial console (scripts/ci/check-arm64-dump.mjs).
#
#   scripts/ci/arm64-guest.sh [WORKDIR]
#
# Needs root and Debian's apt (adds the foreign architecture arm64 for `apt-get download` only:
# no arm64 package is installed). Downloads linux-image-<abi>-arm64 (the ABI the metapackage
# linux-image-arm64:arm64 points at today, never pinned) and busybox-static:arm64 into WORKDIR
# (default: a fresh mktemp directory, removed at the end unless KEEP=1). IMAGE picks another
# metapackage (e.g. linux-image-6.12-arm64-16k), SUITE another Debian suite (e.g. sid, through
# scripts/fixtures/add-suite.sh). Prints timings.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
arm=$top/scripts/fixtures/arm64
WORK=${1:-$(mktemp -d /tmp/ktriage-arm64-ci.XXXXXX)}
mkdir -p "$WORK"
t_start=$(date +%s)
say() { echo "[arm64 +$(( $(date +%s) - t_start )) s] $*"; }
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

"$arm/host-setup.sh" qemu-system-arm cpio
say "apt ready ($(qemu-system-aarch64 --version | head -1))"

IMAGE=${IMAGE:-linux-image-arm64} # or e.g. linux-image-6.12-arm64-16k (bookworm-security, 16K pages)
read -r rel _ < <("$arm/resolve-image.sh" "$IMAGE" "${SUITE:-}")
mkdir -p "$WORK/debs" "$WORK/root"
chown _apt "$WORK/debs" 2>/dev/null || true
(cd "$WORK/debs" && apt-get download -qq "linux-image-$rel:arm64" busybox-static:arm64)
# 7.x splits the image package: the kernel is in linux-binary-<rel> (a signed package, or the
# linux-binary-unsigned-<rel> that provides it) and the modules in linux-modules-<rel>.
# (The listing goes to a file: `grep -q` would close the pipe early and pipefail take dpkg-deb's SIGPIPE for "absent".)
dpkg-deb -c "$WORK"/debs/linux-image-"$rel"_*.deb > "$WORK/image-files.txt"
if ! grep -q "boot/vmlinuz-$rel" "$WORK/image-files.txt"; then
	(cd "$WORK/debs" && { apt-get download -qq "linux-binary-$rel:arm64" 2>/dev/null ||
		apt-get download -qq "linux-binary-unsigned-$rel:arm64"; } && apt-get download -qq "linux-modules-$rel:arm64")
fi
for d in "$WORK"/debs/*.deb; do dpkg -x "$d" "$WORK/root"; done
# 7.x installs the kernel and modules under /usr/lib/modules/<rel>/ (usr-merged), 6.x under /boot, /lib.
kernel=
for k in "$WORK/root/boot/vmlinuz-$rel" "$WORK/root/usr/lib/modules/$rel/vmlinuz"; do
	[ -e "$k" ] && { kernel=$k; break; }
done
[ -n "$kernel" ] || { echo "no kernel image in the packages of linux-image-$rel:arm64" >&2; exit 1; }
say "kernel linux-image-$rel:arm64 $(dpkg-deb -f "$WORK"/debs/linux-image-"$rel"_*.deb Version) downloaded"

"$arm/make-initrd.sh" "$WORK/root" "$rel" "$WORK/root/bin/busybox" "$WORK/initrd.cpio.gz"

t0=$(date +%s)
ok=0
for attempt in 1 2; do
	if "$arm/boot-dump.py" --kernel "$kernel" --initrd "$WORK/initrd.cpio.gz" --out "$WORK/run" --cpus 2 \
		--mem 512M --timeout 240 > "$WORK/boot-dump.log" 2>&1; then
		ok=1; break
	fi
	say "boot attempt $attempt failed:"; tail -5 "$WORK/boot-dump.log"
done
[ $ok = 1 ] || { tail -40 "$WORK/run/serial.log" 2>/dev/null; echo "arm64 guest: no dump" >&2; exit 1; }
say "booted, panicked and dumped in $(( $(date +%s) - t0 )) s: $(ls -s --block-size=M "$WORK/run"/vmcore.* | tr '\n' ' ')"

node "$here/check-arm64-dump.mjs" "$WORK/run/serial.log" "$WORK/run/vmcore.kdump-zlib" "$WORK/run/vmcore.elf"
say "done"

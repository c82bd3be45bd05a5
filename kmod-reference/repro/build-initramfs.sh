#!/bin/bash
# Build the busybox initramfs for the repro guest.
#   build-initramfs.sh OUT.cpio.gz [--kdump]
# Env: KROOT (root holding boot/ and lib/modules/ of the guest kernel,
# default /; e.g. a tree made by scripts/fixtures/fetch-kernel.sh), KVER
# (default: newest $KROOT/lib/modules entry), HAZARD_KO (default:
# kmod-reference/hazard.ko; "none" for none), EXTRA_KO (space-separated
# modules copied to / of the image under their own names).  With --kdump the
# image also carries kexec, the kernel to use as capture kernel, and a
# capture initramfs with makedumpfile.  Modules shipped compressed (.ko.xz,
# .ko.zst) are decompressed; modules built into the kernel are skipped.
# BUSYBOX: a static busybox for the guest's architecture (default the host's
# /bin/busybox; run.py --arch arm64 passes busybox-static:arm64's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1")
kdump=0
[ "${2:-}" = --kdump ] && kdump=1
KROOT=${KROOT:-/}
KROOT=${KROOT%/}
KVER=${KVER:-$(ls "$KROOT/lib/modules" | sort -V | tail -1)}
BUSYBOX=${BUSYBOX:-/bin/busybox}
mods=$KROOT/lib/modules/$KVER
HAZARD_KO=${HAZARD_KO:-$here/../hazard.ko}
if [ "$HAZARD_KO" != none ]; then
	[ -f "$HAZARD_KO" ] || { echo "missing $HAZARD_KO (build the module first)" >&2; exit 1; }
fi

# install_mod REL_PATH_WITHOUT_.ko DEST_DIR: the kernel's module, decompressed;
# nothing (and a note) if it is built in.
install_mod() {
	local m=$1 dst=$2 f
	for f in "$mods/kernel/$m.ko" "$mods/kernel/$m.ko.xz" "$mods/kernel/$m.ko.zst" "$mods/kernel/$m.ko.gz"; do
		[ -f "$f" ] || continue
		case $f in
		*.xz) xz -dc "$f" > "$dst/$(basename "$m").ko" ;;
		*.zst) zstd -qdc "$f" > "$dst/$(basename "$m").ko" ;;
		*.gz) gzip -dc "$f" > "$dst/$(basename "$m").ko" ;;
		*) install -m 0644 "$f" "$dst/" ;;
		esac
		return 0
	done
	if grep -q "kernel/$m.ko" "$mods/modules.builtin" 2>/dev/null; then
		echo "note: $m is built into $KVER" >&2
		return 0
	fi
	echo "missing module $m in $mods" >&2
	return 1
}

copy_bin_with_libs() { # root binary...
	local root=$1; shift
	local b lib
	for b in "$@"; do
		install -D -m 0755 "$b" "$root$b"
		for lib in $(ldd "$b" | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }'); do
			[ -f "$root$lib" ] || install -D -m 0755 "$lib" "$root$lib"
		done
	done
}

base_tree() { # root
	local root=$1
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,data,lib/modules,boot}
	install -m 0755 "$BUSYBOX" "$root/bin/busybox"
	ln -sf busybox "$root/bin/sh"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ $kdump = 1 ]; then
	cap=$tmp/capture
	base_tree "$cap"
	install -m 0755 "$here/guest/init" "$cap/init"
	install -m 0755 "$here/guest/capture.sh" "$cap/capture.sh"
	copy_bin_with_libs "$cap" /usr/bin/makedumpfile
	# virtio-9p to write the dumps to the host.
	for m in drivers/virtio/virtio_ring drivers/virtio/virtio \
		drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev \
		drivers/virtio/virtio_pci net/9p/9pnet net/9p/9pnet_virtio fs/netfs/netfs \
		fs/fscache/fscache fs/9p/9p; do
		install_mod "$m" "$cap/lib/modules"
	done
	(cd "$cap" && find . | cpio -o -H newc --quiet | gzip -1) > "$tmp/capture.cpio.gz"
fi

root=$tmp/root
base_tree "$root"
install -m 0755 "$here/guest/init" "$root/init"
install -m 0755 "$here/guest/capture.sh" "$root/capture.sh"
[ "$HAZARD_KO" = none ] || install -m 0644 "$HAZARD_KO" "$root/hazard.ko"
for k in ${EXTRA_KO:-}; do
	install -m 0644 "$k" "$root/"
done
install_mod drivers/firmware/qemu_fw_cfg "$root/lib/modules"
if [ $kdump = 1 ]; then
	copy_bin_with_libs "$root" /usr/sbin/kexec
	install -m 0644 "$KROOT/boot/vmlinuz-$KVER" "$root/boot/vmlinuz"
	install -m 0644 "$tmp/capture.cpio.gz" "$root/boot/capture.cpio.gz"
fi
mkdir -p "$(dirname "$out")"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
echo "initramfs $out ($(du -h "$out" | cut -f1), kdump=$kdump, kernel $KVER)"

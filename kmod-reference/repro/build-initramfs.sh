#!/bin/bash
# Build the busybox initramfs for the repro guest.
#   build-initramfs.sh OUT.cpio.gz [--kdump]
# Env: KVER (default: newest /lib/modules entry), HAZARD_KO (default:
# kmod-reference/hazard.ko).  With --kdump the image also carries kexec,
# the kernel to use as capture kernel, and a capture initramfs with
# makedumpfile.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1")
kdump=0
[ "${2:-}" = --kdump ] && kdump=1
KVER=${KVER:-$(ls /lib/modules | sort -V | tail -1)}
HAZARD_KO=${HAZARD_KO:-$here/../hazard.ko}
[ -f "$HAZARD_KO" ] || { echo "missing $HAZARD_KO (build the module first)" >&2; exit 1; }

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
	install -m 0755 /bin/busybox "$root/bin/busybox"
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
		install -m 0644 "/lib/modules/$KVER/kernel/$m.ko" "$cap/lib/modules/"
	done
	(cd "$cap" && find . | cpio -o -H newc --quiet | gzip -1) > "$tmp/capture.cpio.gz"
fi

root=$tmp/root
base_tree "$root"
install -m 0755 "$here/guest/init" "$root/init"
install -m 0755 "$here/guest/capture.sh" "$root/capture.sh"
install -m 0644 "$HAZARD_KO" "$root/hazard.ko"
install -m 0644 "/lib/modules/$KVER/kernel/drivers/firmware/qemu_fw_cfg.ko" "$root/lib/modules/"
if [ $kdump = 1 ]; then
	copy_bin_with_libs "$root" /usr/sbin/kexec
	install -m 0644 "/boot/vmlinuz-$KVER" "$root/boot/vmlinuz"
	install -m 0644 "$tmp/capture.cpio.gz" "$root/boot/capture.cpio.gz"
fi
mkdir -p "$(dirname "$out")"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
echo "initramfs $out ($(du -h "$out" | cut -f1), kdump=$kdump, kernel $KVER)"

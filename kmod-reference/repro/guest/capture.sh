#!/bin/sh
# Runs in the kdump capture kernel (/init execs it when /proc/vmcore exists).
# Kernel command line (set by the first kernel's kexec -p):
#   hz_dumpfmt=lzo,zlib,elf,...   makedumpfile outputs, all with -d 31
#   hz_via=9p      write files to the host through virtio-9p (mount tag "dumps")
#   hz_via=serial  write the first format as a flattened stream (-F) to ttyS1;
#                  the host rebuilds it with `makedumpfile -R`.
hz_dumpfmt=lzo
hz_via=9p
for a in $(cat /proc/cmdline); do
	case "$a" in
	hz_dumpfmt=*|hz_via=*) eval "$a" ;;
	esac
done
flag_of() {
	case "$1" in
	lzo) printf "%s" -l ;;
	zlib) printf "%s" -c ;;
	snappy) printf "%s" -p ;;
	zstd) printf "%s" -z ;;
	elf) printf "%s" -E ;;
	*) printf "%s" -l ;;
	esac
}
echo "CAPTURE START fmt=$hz_dumpfmt via=$hz_via $(ls -l /proc/vmcore)"
# Progress indicator off (--message-level 6: common + error messages).
mdf="makedumpfile --message-level 6"
if [ "$hz_via" = serial ]; then
	f=${hz_dumpfmt%%,*}
	stty -F /dev/ttyS1 raw -echo -onlcr 115200 2>/dev/null
	$mdf -F $(flag_of "$f") -d 31 /proc/vmcore > /dev/ttyS1
	echo "CAPTURE-FILE $f rc=$?"
else
	for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
		virtio_pci 9pnet 9pnet_virtio netfs fscache 9p; do
		insmod /lib/modules/$m.ko || echo "insmod $m failed"
	done
	mkdir -p /mnt
	if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 dumps /mnt; then
		echo "CAPTURE-DONE rc=mount-failed"
		poweroff -f
	fi
	for f in $(echo "$hz_dumpfmt" | tr , ' '); do
		t0=$(cut -d' ' -f1 /proc/uptime)
		$mdf $(flag_of "$f") -d 31 /proc/vmcore /mnt/vmcore.$f
		rc=$?
		echo "CAPTURE-FILE $f rc=$rc start=$t0 end=$(cut -d' ' -f1 /proc/uptime)"
	done
	$mdf --dump-dmesg /proc/vmcore /mnt/dmesg.txt
	sync
	umount /mnt
fi
echo "CAPTURE-DONE rc=0"
sleep 1
poweroff -f

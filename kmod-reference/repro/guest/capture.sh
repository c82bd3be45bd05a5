#!/bin/sh
# Runs as /init's tail in the kdump capture kernel: /proc/vmcore exists.
# Writes a makedumpfile flattened stream (-F) to the second serial port; the
# host turns it back into a file with `makedumpfile -R`.
hz_dumpfmt=lzo
for a in $(cat /proc/cmdline); do
	case "$a" in
	hz_dumpfmt=*) eval "$a" ;;
	esac
done
case "$hz_dumpfmt" in
lzo) flag=-l ;;
zlib) flag=-c ;;
snappy) flag=-p ;;
zstd) flag=-z ;;
*) flag=-l ;;
esac
echo "CAPTURE START fmt=$hz_dumpfmt $(ls -l /proc/vmcore)"
stty -F /dev/ttyS1 raw -echo -onlcr 115200 2>/dev/null
dmesg | tail -5
if makedumpfile -F $flag -d 31 /proc/vmcore > /dev/ttyS1; then
	echo "CAPTURE-DONE rc=0"
else
	echo "CAPTURE-DONE rc=$?"
fi
sleep 1
poweroff -f

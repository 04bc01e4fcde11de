package initramfs

import (
	"fmt"
	"strings"
)

// initScript is the initramfs's /init: a busybox shell script run with the
// busybox at bb, loading the modules at the archive paths mods in order.
func initScript(bb string, mods []string) string {
	var insmods strings.Builder
	for _, m := range mods {
		fmt.Fprintf(&insmods, "load %s\n", m)
	}
	return fmt.Sprintf(`#!%[1]s sh
# slipway's initramfs: load the storage drivers, find the root file system
# named on the kernel command line, mount it and switch to its init.
bb=%[1]s
$bb mkdir -p /proc /sys /dev /newroot /bin
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
$bb --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

say() { echo "slipway-initramfs: $*"; }

shell=
fail() {
	say "$*"
	if [ -n "$shell" ]; then
		say "starting a shell (rd.shell); the machine powers off when it exits"
		setsid cttyhack sh 2>/dev/null || sh
	else
		say "powering off in 10 s (add rd.shell to the kernel command line for a shell)"
		sleep 10
	fi
	poweroff -f
}

# Drivers of hardware that is not there fail to load (No such device):
# only the root device's matter, and a missing one shows below.
load() {
	err=$(insmod "$1" 2>&1) || say "module ${1##*/} not loaded: ${err#insmod: }"
}
%[2]s
root= fstype= rootflags= mode=ro init=/sbin/init
set -f
for arg in $(cat /proc/cmdline); do
	case $arg in
	root=*) root=${arg#root=} ;;
	rootfstype=*) fstype=${arg#rootfstype=} ;;
	rootflags=*) rootflags=${arg#rootflags=} ;;
	ro) mode=ro ;;
	rw) mode=rw ;;
	init=*) init=${arg#init=} ;;
	rd.shell) shell=1 ;;
	esac
done
set +f

case $root in
UUID=* | LABEL=*) ;;
/dev/*) ;;
"") fail "no root= on the kernel command line" ;;
*) fail "root=$root: not UUID=..., LABEL=... or a /dev path" ;;
esac

dev=
tries=0
while :; do
	case $root in
	/dev/*) [ -b "$root" ] && dev=$root ;;
	*) dev=$(findfs "$root" 2>/dev/null) ;;
	esac
	[ -n "$dev" ] && break
	tries=$((tries + 1))
	if [ $tries -gt 50 ]; then
		say "root device $root did not appear in 10 s; block devices:"
		cat /proc/partitions
		fail "no root file system"
	fi
	sleep 0.2
done
say "root $root is $dev"

opts=$mode${rootflags:+,$rootflags}
if ! mount ${fstype:+-t "$fstype"} -o "$opts" "$dev" /newroot; then
	fail "mounting $dev (${fstype:-any type}, $opts) on /newroot failed"
fi
if [ ! -e "/newroot$init" ] && [ ! -L "/newroot$init" ]; then
	fail "the root file system on $dev has no $init"
fi
for fs in dev proc sys; do
	if [ -d "/newroot/$fs" ]; then
		mount --move "/$fs" "/newroot/$fs"
	else
		say "the root file system has no /$fs"
		umount -l "/$fs"
	fi
done
exec switch_root /newroot "$init" "$@"
`, bb, insmods.String())
}

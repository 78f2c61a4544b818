#!/bin/bash
# build-guest.sh CACHEDIR: build the Debian 12 guest of `make vmtest` from
# Debian packages only, into CACHEDIR/<key>/ (vmlinuz, guest.cpio, kernel).
# Prints that directory on stdout. The key is a hash of this directory's
# scripts and of the versions of the packages the guest is made from, so a
# new kernel or systemd in the archive (or a change here) builds a new guest,
# and otherwise a run only boots the cached one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: build-guest.sh CACHEDIR}

# What the guest holds beyond minbase, and why:
# systemd, systemd-sysv, dbus: systemd as pid 1 and the bus the systemd
#   cgroup driver talks to; kmod: modprobe; iproute2 and util-linux (ip netns,
#   nsenter, unshare): the network and namespace tests; busybox-static: the
#   tests' container root filesystems and /init; procps: ps for debugging;
#   apparmor: apparmor_parser, with which the AppArmor tests load their own
#   profile (the kernel has AppArmor on); containerd (with ctr and the runc
#   v2 shim): the ctr scenarios of tests/clients, under both cgroup drivers;
#   passwd (useradd, usermod), uidmap (newuidmap, newgidmap) and
#   dbus-user-session (a bus for a lingering user's systemd, with which
#   systemd-run --user and the systemd driver talk): the rootless tests,
#   as the user berth-rootless with user@UID.service's delegated cgroups.
include=systemd,systemd-sysv,dbus,kmod,iproute2,busybox-static,procps,util-linux,libseccomp2,apparmor,containerd,passwd,uidmap,dbus-user-session
suite=bookworm
# This machine's apt sources would pull in third-party repositories; the guest
# takes Debian's own archive, security updates included, as the host does.
mirrors=(
  "deb http://deb.debian.org/debian $suite main"
  "deb http://deb.debian.org/debian $suite-updates main"
  "deb http://deb.debian.org/debian-security $suite-security main"
)

# Stale package lists name versions the archive no longer has: refresh them
# when older than a day (a fresh machine has none at all).
lists=/var/lib/apt/lists
if [ -z "$(find "$lists" -maxdepth 1 -name '*_Packages*' -mtime -1 -print -quit 2>/dev/null)" ]; then
  apt-get update -qq >&2
fi
# The kernel: whatever linux-image-cloud-amd64 depends on today. The cloud
# flavour boots fastest under QEMU (virtio and 8250 built in, few drivers).
kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$kpkg" ] || { echo "build-guest: cannot resolve linux-image-cloud-amd64 (apt-get update?)" >&2; exit 1; }
candidate() { apt-cache policy "$1" | awk '/Candidate:/ {print $2}'; }
versions="$kpkg=$(candidate "$kpkg")"
for p in ${include//,/ }; do versions+=" $p=$(candidate "$p")"; done
key=$( { echo "$versions"; cat "$here/build-guest.sh" "$here/init" "$here/vmtest.service"; } | sha256sum | cut -c1-16)
out=$cache/$key
if [ -s "$out/guest.cpio" ] && [ -s "$out/vmlinuz" ]; then
  echo "$out"
  exit 0
fi

echo "vmtest: building the guest ($kpkg, $suite) into $out" >&2
start=$(date +%s)
mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

mmdebstrap --quiet --variant=minbase --include="$include" \
  --customize-hook='chroot "$1" passwd -d root' \
  "$suite" "$root" "${mirrors[@]}" >&2

# Kernel and modules from the .deb, unpacked without installing it: no
# initramfs-tools, no postinst. dpkg -x leaves no modules.dep: depmod below.
# As root into a root-owned directory: no "_apt cannot access" warning.
(cd "$work" && apt-get download -o APT::Sandbox::User=root "$kpkg" >&2)
dpkg -x "$work"/"$kpkg"_*.deb "$work/kernel"
kver=${kpkg#linux-image-}
moddir=$work/kernel/lib/modules/$kver
# Keep what a container runtime's tests can load (filesystems, networking,
# netfilter, crypto and libraries they depend on); the GPU, sound and
# hardware drivers only make the initramfs bigger and slower to unpack.
find "$moddir/kernel" -mindepth 1 -maxdepth 1 ! -name fs ! -name net ! -name lib ! -name crypto ! -name drivers ! -name arch ! -name block -exec rm -rf {} +
find "$moddir/kernel/drivers" -mindepth 1 -maxdepth 1 ! -name net ! -name block ! -name virtio ! -name char ! -name md -exec rm -rf {} +
mkdir -p "$root/lib/modules"
cp -a "$moddir" "$root/lib/modules/"
# The guest's own depmod (kmod), so the host needs no kmod.
chroot "$root" depmod -a "$kver"

install -m 0755 "$here/init" "$root/init"
install -m 0644 "$here/vmtest.service" "$root/etc/systemd/system/vmtest.service"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/vmtest.service "$root/etc/systemd/system/multi-user.target.wants/vmtest.service"
echo vmtest > "$root/etc/hostname"
# The root is a tmpfs: nothing to fsck or remount; the clock is the host's.
# There is no udev (minbase; the runner loads the modules it needs), so the
# gettys would wait 90 s for device units that never come: the runner gives
# the console a shell itself when asked (VMTEST_SHELL=1).
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$root/etc/systemd/system/getty@tty1.service"
ln -sf /dev/null "$root/etc/systemd/system/systemd-remount-fs.service"
ln -sf /dev/null "$root/etc/systemd/system/systemd-timesyncd.service"
ln -sf /dev/null "$root/etc/systemd/system/apt-daily.timer"
ln -sf /dev/null "$root/etc/systemd/system/apt-daily-upgrade.timer"
# The tests start a private containerd of their own and load the one
# AppArmor profile they need: a system containerd and the boot-time load of
# every profile in /etc/apparmor.d would only cost seconds under TCG.
ln -sf /dev/null "$root/etc/systemd/system/containerd.service"
ln -sf /dev/null "$root/etc/systemd/system/apparmor.service"
# Only the v2 shim is used (ctr run's default runtime, io.containerd.runc.v2):
# the v1 shims are ~18 MB more to unpack and copy at every boot.
rm -f "$root/usr/bin/containerd-shim" "$root/usr/bin/containerd-shim-runc-v1"

mkdir -p "$out.tmp"
cp "$work/kernel/boot/vmlinuz-$kver" "$out.tmp/vmlinuz"
# An uncompressed cpio: decompressing ~200 MB under TCG costs more than
# QEMU reading it.
(cd "$root" && find . -print0 | cpio --null --quiet -o -H newc) > "$out.tmp/guest.cpio"
echo "$kver" > "$out.tmp/kernel"
echo "$versions" | tr ' ' '\n' > "$out.tmp/versions"
rm -rf "$out"
mv "$out.tmp" "$out"
# Guests of other keys are stale (older packages or scripts): ~270 MB each.
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" ! -name 'build.*' -exec rm -rf {} +
echo "vmtest: guest built in $(( $(date +%s) - start ))s ($(du -sh "$out/guest.cpio" | cut -f1) initramfs)" >&2
echo "$out"
